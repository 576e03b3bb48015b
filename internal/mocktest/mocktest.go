// Package mocktest is the code mockapnstest and mockfcmtest share: a
// channel-backed inbox per device, and the test-failing wrappers of what
// both mocks do alike (faults, requests, uninstall, pending). It exists so
// the two public helpers stay thin and say the same thing the same way.
// The benchmarks' CPU and RSS readings (CPUTime, ReportCPU, RSS) live here too.
package mocktest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// Mock is what mockapns.Server and mockfcm.Server do alike, by the same
// names.
type Mock interface {
	AddFault(pushtest.Fault) (pushtest.Fault, error)
	Faults() []pushtest.Fault
	ClearFaults()
	Requests(since uint64) []pushtest.Request
	Pending(token string) []pushtest.Delivery
	Uninstall(token string) (pushtest.Registration, bool)
	Attach(token string, r pushtest.Receiver) int
	Detach(token string)
}

// Kit is what both helpers do alike (pushtest.Provider), over a started
// mock. Failures go to T.
type Kit struct {
	T    testing.TB
	Mock Mock
}

var _ pushtest.Provider = (*Kit)(nil)
var _ pushtest.Inbox = (*Inbox)(nil)

// Inbox attaches a new inbox for token to the mock: the device is online,
// and what the mock stored for it is in the inbox already.
func (k *Kit) Inbox(token string) *Inbox {
	in := &Inbox{mock: k.Mock, token: token, ready: make(chan struct{}, 1)}
	in.Online()
	return in
}

// AddFault adds f to the mock's script, failing the test if the mock refuses it.
func (k *Kit) AddFault(f pushtest.Fault) pushtest.Fault {
	k.T.Helper()
	got, err := k.Mock.AddFault(f)
	if err != nil {
		k.T.Fatalf("add fault: %v", err)
	}
	return got
}

// Faults is the script as it stands, hit counts included.
func (k *Kit) Faults() []pushtest.Fault { return k.Mock.Faults() }

// ClearFaults empties the script.
func (k *Kit) ClearFaults() { k.Mock.ClearFaults() }

// Requests is the recorded requests with Seq > since.
func (k *Kit) Requests(since uint64) []pushtest.Request { return k.Mock.Requests(since) }

// Uninstall uninstalls token's app, failing the test if the mock never
// issued token; it returns when the mock says the app was removed.
func (k *Kit) Uninstall(token string) time.Time {
	k.T.Helper()
	reg, ok := k.Mock.Uninstall(token)
	if !ok {
		k.T.Fatalf("uninstall: no device has token %s", token)
	}
	return reg.UninstalledAt
}

// Pending is what the mock keeps for token while its device is offline.
func (k *Kit) Pending(token string) []pushtest.Delivery { return k.Mock.Pending(token) }

// Inbox is one device's end of a mock's push channel: Deliver queues without
// ever blocking the mock (a slow test must not stall delivery to the other
// devices), Next waits for the next one.
type Inbox struct {
	mock  Mock
	token string
	ready chan struct{} // holds a token while q may be non-empty

	mu sync.Mutex
	q  []pushtest.Delivery
}

// Deliver queues d; it is the pushtest.Receiver the hub calls.
func (in *Inbox) Deliver(d pushtest.Delivery) {
	in.mu.Lock()
	in.q = append(in.q, d)
	in.mu.Unlock()
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// Next returns the oldest delivery not yet returned, waiting for one until
// ctx ends (then it returns ctx's error).
func (in *Inbox) Next(ctx context.Context) (pushtest.Delivery, error) {
	for {
		in.mu.Lock()
		if len(in.q) > 0 {
			d := in.q[0]
			in.q = in.q[1:]
			more := len(in.q) > 0
			in.mu.Unlock()
			if more {
				select {
				case in.ready <- struct{}{}:
				default:
				}
			}
			return d, nil
		}
		in.mu.Unlock()
		select {
		case <-in.ready:
		case <-ctx.Done():
			return pushtest.Delivery{}, ctx.Err()
		}
	}
}

// Online attaches the inbox to its token; the mock first hands over what it
// stored. It returns how many stored notifications were handed over.
func (in *Inbox) Online() int { return in.mock.Attach(in.token, in) }

// Offline detaches it: the mock stores what comes next, by its own rules.
func (in *Inbox) Offline() { in.mock.Detach(in.token) }

// FailsWith runs do with k's failures going to a recorder instead of the
// test, and returns what do failed with ("" if nothing failed).
func (k *Kit) FailsWith(t testing.TB, do func()) string {
	saved := k.T
	defer func() { k.T = saved }()
	return Failure(t, func(tb testing.TB) {
		k.T = tb
		do()
	})
}

// FailCase is a call to a helper that must fail the test with Want in its message.
type FailCase struct {
	Name string
	Do   func()
	Want string
}

// CheckFailures runs each case with k's failures recorded, as a subtest.
func (k *Kit) CheckFailures(t *testing.T, cases []FailCase) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := k.FailsWith(t, c.Do); got == "" || !strings.Contains(got, c.Want) {
				t.Errorf("failed with %q, want %q", got, c.Want)
			}
		})
	}
}

// Failure runs fn with a testing.TB whose Fatal and Fatalf end fn (not the
// test) and returns what fn failed with, "" if it did not fail: the helpers'
// own tests check that they fail the test, and how. All else goes to t.
func Failure(t testing.TB, fn func(testing.TB)) string {
	f := &failTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

type failTB struct {
	testing.TB
	msg string
}

func (f *failTB) Helper() {}

func (f *failTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *failTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
