package proxy

import (
	"sync"
	"time"
)

// workers runs functions on goroutines that outlive them. A goroutine
// started for each try began on the smallest stack and grew it, copying it
// three or four times, on the way down through the client library and the
// HTTP/2 transport: about a fifth of the proxy's CPU per send_push. A worker
// keeps its grown stack for the next try. Nothing waits for a free worker:
// when none is idle a new one starts, so workers never serialise sends.
type workers struct {
	idle    chan func() // unbuffered: a send hands over to a waiting worker
	linger  time.Duration
	stopped chan struct{}
	stop    sync.Once
}

// workerLinger is how long an idle worker waits for another function
// before it ends.
const workerLinger = 10 * time.Second

func newWorkers(linger time.Duration) *workers {
	return &workers{idle: make(chan func()), linger: linger, stopped: make(chan struct{})}
}

// run runs f on an idle worker, or on a new one.
func (w *workers) run(f func()) {
	select {
	case w.idle <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	t := time.NewTimer(w.linger)
	defer t.Stop()
	for {
		f()
		t.Reset(w.linger)
		select {
		case f = <-w.idle:
		case <-t.C:
			return
		case <-w.stopped:
			return
		}
	}
}

// close ends the idle workers; the busy ones end after their function.
func (w *workers) close() { w.stop.Do(func() { close(w.stopped) }) }
