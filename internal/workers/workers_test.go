package workers

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Functions run one after another are taken by a worker that is idle,
// not each by a new goroutine. (A caller may find the last worker not yet
// back at its hand-off, and start another, so the test pauses between
// calls and asks for reuse, not for exactly one worker.)
func TestDoRunsAndReusesAWorker(t *testing.T) {
	p := New(time.Minute, nil)
	ran := map[string]int{} // runs by goroutine
	for range 10 {
		p.Do(func() { ran[goroutineID()]++ })
		time.Sleep(5 * time.Millisecond)
	}
	total := 0
	for _, n := range ran {
		total += n
	}
	if total != 10 {
		t.Fatalf("ran %d times, want 10", total)
	}
	if len(ran) == 10 {
		t.Errorf("ten calls in turn ran on ten goroutines: no worker was reused")
	}
}

// goroutineID is the calling goroutine's number, from its stack's header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

func TestGoNeverWaitsForABusyWorker(t *testing.T) {
	p := New(time.Minute, nil)
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	for range 3 {
		p.Go(func() { started <- struct{}{}; <-release })
	}
	for range 3 {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("a function waited for a busy worker")
		}
	}
	close(release)
}

func TestIdleWorkersEnd(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(10*time.Millisecond, nil)
	p.Do(func() {})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after the linger, was %d", g, before)
	}
}

func TestDoRaisesAPanicInTheCaller(t *testing.T) {
	p := New(time.Minute, nil)
	defer func() {
		v := recover()
		if s, ok := v.(string); !ok || !strings.HasPrefix(s, "boom") || !strings.Contains(s, "worker goroutine") {
			t.Errorf("recovered %v, want the worker's panic with its stack", v)
		}
	}()
	p.Do(func() { panic("boom") })
}

// Close ends the idle workers; Go and Do still run functions after it.
func TestCloseEndsIdleWorkersAndRunsOn(t *testing.T) {
	p := New(time.Minute, nil)
	p.Do(func() {}) // one idle worker now
	before := runtime.NumGoroutine()
	p.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() >= before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g >= before {
		t.Errorf("%d goroutines after Close, was %d: the idle worker should have ended", g, before)
	}
	ran := false
	p.Do(func() { ran = true })
	if !ran {
		t.Error("Do after Close did not run its function")
	}
}
