package mocktest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
)

// parts is a mock made of mockkit's parts alone.
type parts struct {
	*mockkit.Hub
	faults *mockkit.Faults
}

func newParts() parts {
	return parts{mockkit.NewHub(mockkit.FCMStorage, time.Now), mockkit.NewFaults(1)}
}

func (p parts) AddFault(f pushtest.Fault) (pushtest.Fault, error) { return p.faults.Add(f) }
func (p parts) Faults() []pushtest.Fault                          { return p.faults.List() }
func (p parts) ClearFaults()                                      { p.faults.Clear() }
func (p parts) Requests(uint64) []pushtest.Request                { return nil }
func (p parts) Uninstall(string) (pushtest.Registration, bool)    { return pushtest.Registration{}, false }

func TestFaultRoundTrip(t *testing.T) {
	k := &Kit{T: t, Mock: newParts()}
	in := pushtest.Fault{Token: "tok", Percent: 50, Count: 3, Action: pushtest.Delay, Latency: 250 * time.Millisecond}
	got := k.AddFault(in)
	in.ID = got.ID
	if got != in {
		t.Errorf("AddFault returned %+v, want %+v", got, in)
	}
	if list := k.Faults(); len(list) != 1 || list[0] != in {
		t.Errorf("FaultList = %+v, want [%+v]", list, in)
	}
}

// Deliver never waits for the reader; Next hands deliveries over in order,
// and gives up with ctx's error when none comes.
func TestInbox(t *testing.T) {
	mock := newParts()
	hub := mock.Hub
	in := (&Kit{T: t, Mock: mock}).Inbox("tok")
	const n = 500
	for i := range n {
		if out := hub.Send(pushtest.Delivery{Token: "tok", ID: strconv.Itoa(i)}); out != mockkit.Delivered {
			t.Fatalf("send %d: %s", i, out)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i := range n {
		d, err := in.Next(ctx)
		if err != nil || d.ID != strconv.Itoa(i) {
			t.Fatalf("Next #%d = %q, %v", i, d.ID, err)
		}
	}
	short, cancel2 := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel2()
	if d, err := in.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next on an empty inbox = %+v, %v; want DeadlineExceeded", d, err)
	}

	in.Offline()
	hub.Send(pushtest.Delivery{Token: "tok", ID: "stored"})
	if p := (&Kit{Mock: mock}).Pending("tok"); len(p) != 1 || p[0].ID != "stored" {
		t.Fatalf("pending = %+v", p)
	}
	if got := in.Online(); got != 1 {
		t.Errorf("Online handed over %d, want 1", got)
	}
	if d, err := in.Next(ctx); err != nil || d.ID != "stored" || !d.Stored {
		t.Errorf("after Online: %+v, %v", d, err)
	}
}
