package devicesim

import (
	"context"
	"runtime/pprof"
	"time"
)

// workers handle a fleet's pushes on goroutines that outlive one push. A
// goroutine per push began on the smallest stack and grew it, copying it,
// on the way down through verification and the HTTP/2 client of the ack
// (about a tenth of the devices' CPU per notification). A worker keeps its
// grown stack for the next push. Nothing waits for a free worker: when none
// is idle a new one starts, so pushes are never serialised; a worker idle
// for its linger ends, so a fleet at rest soon holds no goroutine.
type workers struct {
	idle   chan func() // unbuffered: a hand-off goes to a waiting worker
	linger time.Duration
	labels context.Context // the pprof labels a worker runs under
}

// workerLinger is how long an idle worker waits for another push before it
// ends: long enough to live from one push to the next under load, short
// enough that an idle fleet owns no goroutine a moment later.
const workerLinger = time.Second

func newWorkers(linger time.Duration, labels context.Context) *workers {
	return &workers{idle: make(chan func()), linger: linger, labels: labels}
}

// run runs f on an idle worker, or on a new one. It never waits for f.
func (w *workers) run(f func()) {
	select {
	case w.idle <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	pprof.SetGoroutineLabels(w.labels) // CPU here is the devices', not the deliverer's
	t := time.NewTimer(w.linger)
	defer t.Stop()
	for {
		f()
		t.Reset(w.linger)
		select {
		case f = <-w.idle:
		case <-t.C:
			return
		}
	}
}
