package mocktest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
)

// The public types mirror the mocks' own field for field: a field added to
// one side and not the other would be silently dropped by the conversions.
func TestPublicTypesMirrorTheMocks(t *testing.T) {
	for _, pair := range [][2]any{
		{mockkit.Delivery{}, pushtest.Delivery{}},
		{mockkit.Fault{}, pushtest.Fault{}},
		{mockkit.Recorded{}, pushtest.Request{}},
	} {
		internal, public := fieldNames(pair[0]), fieldNames(pair[1])
		if !slices.Equal(internal, public) {
			t.Errorf("%T has fields %v, %T has %v: convert the new ones in mocktest.go", pair[0], internal, pair[1], public)
		}
	}
}

func fieldNames(v any) []string {
	rt := reflect.TypeOf(v)
	var out []string
	for i := range rt.NumField() {
		out = append(out, rt.Field(i).Name)
	}
	return out
}

func TestFaultRoundTrip(t *testing.T) {
	k := &Kit{T: t, Script: mockkit.NewFaults(1)}
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
	hub := mockkit.NewHub(mockkit.FCMStorage, time.Now)
	in := (&Kit{T: t, Hub: hub}).Inbox("tok")
	const n = 500
	for i := range n {
		if out := hub.Send(mockkit.Delivery{Token: "tok", ID: strconv.Itoa(i)}); out != mockkit.Delivered {
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
	hub.Send(mockkit.Delivery{Token: "tok", ID: "stored"})
	if p := (&Kit{Hub: hub}).Pending("tok"); len(p) != 1 || p[0].ID != "stored" {
		t.Fatalf("pending = %+v", p)
	}
	if got := in.Online(); got != 1 {
		t.Errorf("Online handed over %d, want 1", got)
	}
	if d, err := in.Next(ctx); err != nil || d.ID != "stored" || !d.Stored {
		t.Errorf("after Online: %+v, %v", d, err)
	}
}
