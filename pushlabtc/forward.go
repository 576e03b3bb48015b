package pushlabtc

import (
	"io"
	"net"
	"sync"
	"time"
)

// forwarder is a stable host address for a container port that changes when
// the container restarts (Docker maps a new host port on each start).
type forwarder struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
	done   chan struct{}
}

func newForwarder() (*forwarder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	go f.serve()
	return f, nil
}

func (f *forwarder) addr() string { return f.ln.Addr().String() }

func (f *forwarder) setTarget(t string) {
	f.mu.Lock()
	f.target = t
	f.mu.Unlock()
}

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.pipe(c)
	}
}

func (f *forwarder) track(c net.Conn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !add {
		delete(f.conns, c)
		return true
	}
	select {
	case <-f.done:
		return false
	default:
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) pipe(c net.Conn) {
	f.mu.Lock()
	target := f.target
	f.mu.Unlock()
	up, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		c.Close() // the proxy is down: the client sees the connection refused, as it would
		return
	}
	if !f.track(c, true) || !f.track(up, true) {
		c.Close()
		up.Close()
		return
	}
	defer func() {
		f.track(c, false)
		f.track(up, false)
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		// Half-close so the other direction can finish its answer.
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go cp(up, c)
	go cp(c, up)
	wg.Wait()
	c.Close()
	up.Close()
}

func (f *forwarder) close() {
	f.mu.Lock()
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.ln.Close()
}
