package mockkit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// Faults is a mock's fault script.
type Faults struct {
	// Complete, if set, fills in what the provider can infer before a fault
	// is validated by Add (mockfcm: the HTTP status of an FCM error code
	// named alone). Set it before the script is used.
	Complete func(pushtest.Fault) pushtest.Fault

	mu    sync.Mutex
	rng   *rand.Rand
	seed  uint64
	next  int
	rules []*pushtest.Fault
	// active is len(rules), written under mu: Match, on every request,
	// answers without the lock when no fault is set (the usual case).
	active atomic.Int32
}

// NewFaults makes an empty script whose percentages draw from seed.
func NewFaults(seed uint64) *Faults {
	return &Faults{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed}
}

// Seed restarts the generator, so a script replays the same way.
func (f *Faults) Seed(seed uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seed = seed
	f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Add validates and appends a fault, returning it with its id.
func (f *Faults) Add(x pushtest.Fault) (pushtest.Fault, error) {
	if f.Complete != nil {
		x = f.Complete(x)
	}
	if x.Action == "" {
		switch {
		case x.Status != 0 || x.Reason != "":
			x.Action = pushtest.Respond
		case x.Latency > 0:
			x.Action = pushtest.Delay
		}
	}
	switch x.Action {
	case pushtest.Respond:
		if x.Status < 100 || x.Status > 599 {
			return pushtest.Fault{}, fmt.Errorf("fault: status %d is not an HTTP status", x.Status)
		}
	case pushtest.Delay, pushtest.AcceptLate, pushtest.DelayAccept:
		if x.Latency <= 0 {
			return pushtest.Fault{}, fmt.Errorf("fault: %s needs a latency", x.Action)
		}
	case pushtest.Reset, pushtest.GoAway, pushtest.AcceptReset:
	default:
		return pushtest.Fault{}, fmt.Errorf("fault: unknown action %q (respond, delay, reset, goaway, accept_reset, accept_late, delay_accept)", x.Action)
	}
	if x.Percent < 0 || x.Percent > 100 {
		return pushtest.Fault{}, fmt.Errorf("fault: percent %v is outside 0..100", x.Percent)
	}
	if x.Count < 0 {
		return pushtest.Fault{}, fmt.Errorf("fault: count %d is negative", x.Count)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	x.ID = "f" + strconv.Itoa(f.next)
	x.Hits = 0
	f.rules = append(f.rules, &x)
	f.active.Store(int32(len(f.rules)))
	return x, nil
}

// Match returns the fault that fires for a request to token, if any, counting
// the hit and retiring a fault whose Count is spent.
func (f *Faults) Match(token string) (pushtest.Fault, bool) {
	if f.active.Load() == 0 {
		return pushtest.Fault{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.Token != "" && r.Token != token {
			continue
		}
		if r.Percent > 0 && r.Percent < 100 && f.rng.Float64()*100 >= r.Percent {
			continue
		}
		r.Hits++
		fired := *r
		if r.Count > 0 && r.Hits >= r.Count {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			f.active.Store(int32(len(f.rules)))
		}
		return fired, true
	}
	return pushtest.Fault{}, false
}

// List returns the active faults.
func (f *Faults) List() []pushtest.Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]pushtest.Fault, len(f.rules))
	for i, r := range f.rules {
		out[i] = *r
	}
	return out
}

// Remove deletes a fault by id.
func (f *Faults) Remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.ID == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			f.active.Store(int32(len(f.rules)))
			return true
		}
	}
	return false
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.active.Store(0)
	f.mu.Unlock()
}

// Hold waits d; with abandon set it stops early, returning false, when ctx
// ends (the client gave up and the provider drops the request).
func Hold(ctx context.Context, d time.Duration, abandon bool) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	if !abandon {
		<-t.C
		return true
	}
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
