package mockkit

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// Action is what a fault does to a request. The actions are pushtest's: one
// set of names, documented there, for the mocks and for tests in any module.
type Action = pushtest.Action

// The fault actions (see pushtest for what each does).
const (
	Respond     = pushtest.Respond
	Delay       = pushtest.Delay
	Reset       = pushtest.Reset
	GoAway      = pushtest.GoAway
	AcceptReset = pushtest.AcceptReset
	AcceptLate  = pushtest.AcceptLate
	DelayAccept = pushtest.DelayAccept
)

// Actions lists every action, in the order the documentation gives them.
var Actions = pushtest.Actions

// Fault is one scripted misbehaviour. Faults are tried in the order added; the
// first that matches a request fires.
type Fault struct {
	ID string `json:"id"`
	// Token limits the fault to requests for one device token ("" = any).
	Token string `json:"token,omitempty"`
	// Percent fires the fault on that share of matching requests (0 < p < 100),
	// drawn from the seeded generator so a run is reproducible; 0 or 100 = every one.
	Percent float64 `json:"percent,omitempty"`
	// Count fires the fault on the next Count matching requests, then removes
	// it; 0 = until removed.
	Count  int    `json:"count,omitempty"`
	Action Action `json:"action"`
	// Status and Reason are the answer (APNs reason or FCM error code); a
	// Status alone takes the provider's usual reason for it.
	Status     int    `json:"status,omitempty"`
	Reason     string `json:"reason,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"` // Retry-After header: seconds or an HTTP date
	// Latency is added before the request is answered, whatever the action;
	// for accept_late it comes after the push is delivered, for
	// delay_accept the client's giving up does not cut it short.
	Latency Duration `json:"latency,omitempty"`
	// Hits counts how often the fault fired.
	Hits int `json:"hits"`
}

// Duration is a time.Duration that reads and writes as "250ms" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "250ms" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		ms, nerr := strconv.ParseFloat(string(b), 64)
		if nerr != nil {
			return fmt.Errorf("latency: want \"250ms\" or milliseconds, got %s", b)
		}
		*d = Duration(ms * float64(time.Millisecond))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Faults is a mock's fault script.
type Faults struct {
	// Complete, if set, fills in what the provider can infer before a fault
	// is validated by Add (mockfcm: the HTTP status of an FCM error code
	// named alone). Set it before the script is used.
	Complete func(Fault) Fault

	mu    sync.Mutex
	rng   *rand.Rand
	seed  uint64
	next  int
	rules []*Fault
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
func (f *Faults) Add(x Fault) (Fault, error) {
	if f.Complete != nil {
		x = f.Complete(x)
	}
	if x.Action == "" {
		switch {
		case x.Status != 0 || x.Reason != "":
			x.Action = Respond
		case x.Latency > 0:
			x.Action = Delay
		}
	}
	switch x.Action {
	case Respond:
		if x.Status < 100 || x.Status > 599 {
			return Fault{}, fmt.Errorf("fault: status %d is not an HTTP status", x.Status)
		}
	case Delay, AcceptLate, DelayAccept:
		if x.Latency <= 0 {
			return Fault{}, fmt.Errorf("fault: %s needs a latency", x.Action)
		}
	case Reset, GoAway, AcceptReset:
	default:
		return Fault{}, fmt.Errorf("fault: unknown action %q (respond, delay, reset, goaway, accept_reset, accept_late, delay_accept)", x.Action)
	}
	if x.Percent < 0 || x.Percent > 100 {
		return Fault{}, fmt.Errorf("fault: percent %v is outside 0..100", x.Percent)
	}
	if x.Count < 0 {
		return Fault{}, fmt.Errorf("fault: count %d is negative", x.Count)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	x.ID = "f" + strconv.Itoa(f.next)
	x.Hits = 0
	f.rules = append(f.rules, &x)
	return x, nil
}

// Match returns the fault that fires for a request to token, if any, counting
// the hit and retiring a fault whose Count is spent.
func (f *Faults) Match(token string) (Fault, bool) {
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
		}
		return fired, true
	}
	return Fault{}, false
}

// List returns the active faults.
func (f *Faults) List() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, len(f.rules))
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
			return true
		}
	}
	return false
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
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
