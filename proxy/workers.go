package proxy

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/pushlab/pushlab/mmpush"
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

// sendOnWorker runs a send_push's send on a worker and waits for it. The
// request's handler goroutine is new for every request: the provider
// layout's JSON encoding, at the bottom of a deep stack, grew that stack
// each time (about a tenth of the proxy's CPU). A panic goes back to the
// handler, with the worker's stack, for the recoverer.
func (s *Server) sendOnWorker(ctx context.Context, n *mmpush.PushNotification, appVersion int) mmpush.Response {
	var (
		resp     mmpush.Response
		panicked any
	)
	done := make(chan struct{})
	s.workers.run(func() {
		defer func() {
			if v := recover(); v != nil {
				panicked = v
				if v != http.ErrAbortHandler {
					panicked = fmt.Sprintf("%v\n\nworker goroutine:\n%s", v, debug.Stack())
				}
			}
			close(done)
		}()
		resp, _ = s.send(ctx, n, appVersion)
	})
	<-done
	if panicked != nil {
		panic(panicked)
	}
	return resp
}
