package web

import (
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
)

func TestStatsCountAndMeasureEndToEnd(t *testing.T) {
	s := newStats()
	t0 := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	for _, e := range []events.Event{
		{TraceID: "a", Hop: events.ServerSent, At: t0},
		{TraceID: "a", Hop: events.ProviderAccepted, At: t0.Add(time.Millisecond)},
		{TraceID: "a", Hop: events.DeviceDelivered, At: t0.Add(2 * time.Millisecond)},
		{TraceID: "a", Hop: events.DeviceDisplayed, At: t0.Add(3 * time.Millisecond)},
		{TraceID: "a", Hop: events.ProxyAcked, At: t0.Add(4 * time.Millisecond)},
		{TraceID: "b", Hop: events.ServerSent, At: t0},
		{TraceID: "b", Hop: events.ProxyResponded, Status: "REMOVE", At: t0.Add(time.Millisecond)},
		{TraceID: "b", Hop: events.ProxyAcked, At: t0.Add(9 * time.Second)}, // after REMOVE: not a latency
		{TraceID: "c", Hop: events.ServerSent, At: t0},
		{TraceID: "c", Hop: events.ProxyResponded, Status: "FAIL", At: t0},
		{TraceID: "d", Hop: events.DeviceRejected, Status: "replay", At: t0},
		{TraceID: "e", Hop: events.FaultInjected, At: t0},
	} {
		s.count(e)
	}
	snap := s.tick(s.prevAt.Add(time.Second))
	want := Counters{Events: 12, Sent: 3, Accepted: 1, Delivered: 1, Displayed: 1, Acked: 2, Remove: 1, Fail: 1, Rejected: 1, Faults: 1}
	if snap.Counters != want {
		t.Fatalf("counters %+v, want %+v", snap.Counters, want)
	}
	if snap.LatencyP50 != 4 || snap.LatencyP95 != 4 {
		t.Fatalf("latency p50 %v p95 %v, want 4 ms (only a's ack counts)", snap.LatencyP50, snap.LatencyP95)
	}
	if snap.SentPerSec != 3 || snap.EventsPerSec != 12 {
		t.Fatalf("rates %v sent/s %v ev/s", snap.SentPerSec, snap.EventsPerSec)
	}
	if next := s.tick(s.prevAt.Add(time.Second)); next.EventsPerSec != 0 || next.LatencyP50 != 0 {
		t.Fatalf("an idle second: %+v", next)
	}
}
