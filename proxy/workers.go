package proxy

import (
	"fmt"
	"net/http"
	"runtime/debug"
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

// requestJob is one request handed from its handler goroutine to a worker.
// Jobs are pooled with their channel and their function, so that the hand-off
// allocates nothing.
type requestJob struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	panicked any
	done     chan struct{} // one value per run
	fn       func()        // j.run, bound once
}

var requestJobs = sync.Pool{New: func() any {
	j := &requestJob{done: make(chan struct{}, 1)}
	j.fn = j.run
	return j
}}

func (j *requestJob) run() {
	defer func() {
		if v := recover(); v != nil {
			j.panicked = v
			if v != http.ErrAbortHandler {
				j.panicked = fmt.Sprintf("%v\n\nworker goroutine:\n%s", v, debug.Stack())
			}
		}
		j.done <- struct{}{}
	}()
	j.s.serveSendPush(j.w, j.r)
}

// sendPushOnWorker serves a send_push on a worker and waits for it: the whole of
// it, the body's decoding and the answer included. The request's handler
// goroutine is new for every request and starts on a small stack; the
// decoding, the provider layout's JSON encoding and the client library's
// send, at the bottom of deep stacks, grew it each time (with the sends on
// their own goroutines, stack growth was a fifth of the proxy's CPU). A
// panic goes back to the handler, with the worker's stack, for the
// recoverer.
func (s *Server) sendPushOnWorker(w http.ResponseWriter, r *http.Request) {
	j := requestJobs.Get().(*requestJob)
	j.s, j.w, j.r = s, w, r
	s.workers.run(j.fn)
	<-j.done
	panicked := j.panicked
	*j = requestJob{done: j.done, fn: j.fn}
	requestJobs.Put(j)
	if panicked != nil {
		panic(panicked)
	}
}
