package httpserve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

func TestServeStopsWhenContextEnds(t *testing.T) {
	g := &Group{Grace: time.Second}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, &http.Server{Handler: http.HandlerFunc(ok)}, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after the context ended = %v, want nil", err)
	}
}

func TestServeTLSWhenConfigured(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	ts.StartTLS() // for its certificate and a client that trusts it
	cfg := ts.TLS.Clone()
	ts.Close()
	g := &Group{}
	ln := listen(t)
	g.Go(func() error {
		return g.Serve(context.Background(), &http.Server{Handler: http.HandlerFunc(ok), TLSConfig: cfg}, ln)
	})
	t.Cleanup(func() { g.Close() })
	resp, err := ts.Client().Get("https://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil {
		t.Fatal("served without TLS")
	}
}

func TestCloseUsesShutdownAndRefusesNewServers(t *testing.T) {
	var stops atomic.Int32
	g := &Group{}
	g.Shutdown = func(srv *http.Server) error { stops.Add(1); return srv.Close() }
	ln := listen(t)
	g.Go(func() error { return g.Serve(context.Background(), &http.Server{Handler: http.HandlerFunc(ok)}, ln) })
	for { // wait until it serves
		resp, err := http.Get("http://" + ln.Addr().String())
		if err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.Close()
	if n := stops.Load(); n != 1 {
		t.Errorf("Shutdown ran %d times, want 1", n)
	}
	if !g.Closed() {
		t.Error("Closed() = false after Close")
	}
	ln2 := listen(t)
	if err := g.Serve(context.Background(), &http.Server{}, ln2); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Close = %v, want http.ErrServerClosed", err)
	}
	if _, err := ln2.Accept(); err == nil {
		t.Error("the refused listener is still open")
	}
}

func TestShutdownErrorIsServeError(t *testing.T) {
	errDrain := errors.New("drain cut short")
	g := &Group{Shutdown: func(srv *http.Server) error { srv.Close(); return errDrain }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Serve(ctx, &http.Server{}, listen(t)); !errors.Is(err, errDrain) {
		t.Errorf("Serve = %v, want %v", err, errDrain)
	}
}
