// Package workers runs functions on goroutines that outlive them.
//
// A goroutine started for each request or push begins on the smallest stack
// and grows it, copying it several times, on the way down through JSON,
// crypto and the HTTP/2 transport: a tenth to a third of a short handler's
// CPU. A worker keeps its grown stack for the next function. Nothing waits
// for a free worker: when none is idle a new one starts, so work is never
// serialised; a worker idle for its linger ends, so a pool at rest soon
// holds no goroutine.
package workers

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"runtime/pprof"
	"time"
)

// Pool hands functions to its workers.
type Pool struct {
	idle   chan func() // unbuffered: a hand-off goes to a waiting worker
	linger time.Duration
	labels context.Context // nil: a worker keeps the labels of whoever started it
}

// New returns a pool whose idle workers end after linger. A worker runs
// under labels' pprof labels, if labels is not nil.
func New(linger time.Duration, labels context.Context) *Pool {
	return &Pool{idle: make(chan func()), linger: linger, labels: labels}
}

// Go runs f on an idle worker, or on a new one. It never waits for f.
func (p *Pool) Go(f func()) {
	select {
	case p.idle <- f:
	default:
		go p.loop(f)
	}
}

// Do runs f on a worker and returns when it has. A panic in f is raised
// again in the caller, with the worker's stack, so that a recoverer above
// (net/http's) sees it; http.ErrAbortHandler is raised as it is.
func (p *Pool) Do(f func()) {
	var panicked any
	done := make(chan struct{})
	p.Go(func() {
		defer func() {
			if v := recover(); v != nil {
				panicked = v
				if v != http.ErrAbortHandler {
					panicked = fmt.Sprintf("%v\n\nworker goroutine:\n%s", v, debug.Stack())
				}
			}
			close(done)
		}()
		f()
	})
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

func (p *Pool) loop(f func()) {
	if p.labels != nil {
		pprof.SetGoroutineLabels(p.labels)
	}
	t := time.NewTimer(p.linger)
	defer t.Stop()
	for {
		f()
		t.Reset(p.linger)
		select {
		case f = <-p.idle:
		case <-t.C:
			return
		}
	}
}
