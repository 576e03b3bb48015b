package proxy

import (
	"sync"
	"testing"
	"time"
)

// Functions handed to busy workers do not wait for them: each runs at once.
func TestWorkersNeverSerialise(t *testing.T) {
	w := newWorkers(time.Minute)
	defer w.close()
	const n = 5
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	for range n {
		w.run(func() { started.Done(); release.Wait() })
	}
	started.Wait() // all n run together, or this never returns
	release.Done()
}

// An idle worker takes the next function; after close, run still runs.
func TestWorkersReuseAndClose(t *testing.T) {
	w := newWorkers(time.Minute)
	done := make(chan int, 3)
	for i := range 3 {
		w.run(func() { done <- i })
		if got := <-done; got != i {
			t.Fatalf("ran %d, want %d", got, i)
		}
	}
	w.close()
	w.run(func() { done <- 9 })
	if got := <-done; got != 9 {
		t.Fatalf("after close: ran %d", got)
	}
}
