package workers

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDoRunsAndReusesAWorker(t *testing.T) {
	p := New(time.Minute, nil)
	var ran atomic.Int32
	p.Do(func() { ran.Add(1) })
	before := runtime.NumGoroutine()
	for range 10 {
		p.Do(func() { ran.Add(1) })
	}
	if ran.Load() != 11 {
		t.Fatalf("ran %d times, want 11", ran.Load())
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after ten calls in turn, was %d: one idle worker should take them all", g, before)
	}
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
