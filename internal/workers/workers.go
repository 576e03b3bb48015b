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
	"sync"
	"time"
)

// Pool hands functions to its workers.
type Pool struct {
	idle    chan func() // unbuffered: a hand-off goes to a waiting worker
	linger  time.Duration
	labels  context.Context // nil: a worker keeps the labels of whoever started it
	stopped chan struct{}
	stop    sync.Once
}

// New returns a pool whose idle workers end after linger. A worker runs
// under labels' pprof labels, if labels is not nil.
func New(linger time.Duration, labels context.Context) *Pool {
	return &Pool{idle: make(chan func()), linger: linger, labels: labels, stopped: make(chan struct{})}
}

// Close ends the idle workers at once; busy ones end after their function.
// Go and Do still run functions after Close, each on a new worker.
func (p *Pool) Close() { p.stop.Do(func() { close(p.stopped) }) }

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
// (net/http's) sees it; http.ErrAbortHandler is raised as it is. Its
// bookkeeping is pooled: a hand-off allocates nothing of its own.
func (p *Pool) Do(f func()) {
	j := jobs.Get().(*job)
	j.f = f
	p.Go(j.fn)
	<-j.done
	panicked := j.panicked
	j.f, j.panicked = nil, nil
	jobs.Put(j)
	if panicked != nil {
		panic(panicked)
	}
}

// job is one Do: the function, what it panicked with, and the signal that
// it is over. Jobs are pooled with their channel and their bound run.
type job struct {
	f        func()
	panicked any
	done     chan struct{} // one value per run
	fn       func()        // j.run, bound once
}

var jobs = sync.Pool{New: func() any {
	j := &job{done: make(chan struct{}, 1)}
	j.fn = j.run
	return j
}}

func (j *job) run() {
	defer func() {
		if v := recover(); v != nil {
			j.panicked = v
			if v != http.ErrAbortHandler {
				j.panicked = fmt.Sprintf("%v\n\nworker goroutine:\n%s", v, debug.Stack())
			}
		}
		j.done <- struct{}{}
	}()
	j.f()
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
		case <-p.stopped:
			return
		}
	}
}
