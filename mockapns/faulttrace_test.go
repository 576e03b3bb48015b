package mockapns

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/testpki"
)

// Every fault, whenever it acts, is reported under the push's trace id
// (its ack_id) and its request is recorded with the body, so the web view
// attaches both to the notification.
func TestFaultCarriesTraceID(t *testing.T) {
	for _, fault := range []Fault{
		{Status: 410, Reason: ReasonUnregistered},
		{Action: Delay, Latency: time.Millisecond},
		{Action: Reset},
		{Action: GoAway},
		{Action: AcceptReset},
		{Action: AcceptLate, Latency: time.Millisecond},
		{Action: DelayAccept, Latency: time.Millisecond},
	} {
		t.Run(string(fault.Action)+fault.Reason, func(t *testing.T) {
			f := newFixture(t)
			fault.Count = 1
			added, err := f.s.AddFault(fault)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			f.tokenClient(f.set.APNsKey, testpki.Production).PushWithContext(ctx, f.note(f.prod))
			var faulted bool
			for _, e := range f.bus.Trace("ack-1") {
				faulted = faulted || e.Hop == events.FaultInjected
			}
			if !faulted {
				t.Fatalf("no fault.injected under the ack_id; history: %+v", f.bus.History())
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				for _, r := range f.s.Requests(0) {
					if r.Fault == added.ID {
						if !strings.Contains(r.Body, `"ack_id":"ack-1"`) {
							t.Fatalf("faulted request recorded without its body: %+v", r)
						}
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("faulted request not recorded: %+v", f.s.Requests(0))
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
