package timeline

import (
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
)

func TestWrite(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []events.Event{
		{TraceID: "a", Hop: events.ServerSent, Actor: "server", Status: "OK", Detail: "message to ios-1", At: t0},
		{Hop: events.DeviceRegistered, Actor: "device:x", At: t0},
		{TraceID: "b", Hop: events.ServerSent, Actor: "server", Status: "OK", Detail: "in clear", At: t0.Add(time.Millisecond), Plaintext: true},
		{TraceID: "a", Hop: events.DeviceDisplayed, Actor: "device:ios-1", Status: "shown", Detail: strings.Repeat("x", 300), At: t0.Add(12500 * time.Microsecond)},
	}
	tests := []struct {
		name string
		want string
	}{
		{"traces in order of first event", "notification a\n"},
		{"offset from the trace's first event", "+  12.5ms  device:ios-1"},
		{"zero offset", "+   0.0ms  server "},
		{"plaintext is flagged", "notification b  ⚠ PLAINTEXT"},
		{"long details are cut", "x…\n"},
	}
	var b strings.Builder
	if err := Write(&b, evs, Options{Width: 120}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, tt := range tests {
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s: output lacks %q:\n%s", tt.name, tt.want, out)
		}
	}
	if strings.Contains(out, "device.registered") {
		t.Errorf("an event without a trace was printed:\n%s", out)
	}
	if strings.Index(out, "notification a") > strings.Index(out, "notification b") {
		t.Errorf("trace order:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 120 {
			t.Errorf("line of %d runes exceeds the width: %q", n, line)
		}
	}
}

func TestWriteTraceSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := Trace{ID: "x", Events: []events.Event{
		{TraceID: "x", Hop: events.ProxyReceived, Actor: "proxy", At: t0.Add(time.Millisecond)},
		{TraceID: "x", Hop: events.ServerSent, Actor: "server", At: t0, Status: "OK"},
	}}
	var b strings.Builder
	WriteTrace(&b, tr, Options{})
	out := b.String()
	if strings.Index(out, "server.sent") > strings.Index(out, "proxy.received") || !strings.Contains(out, "+   1.0ms  proxy") {
		t.Errorf("not in time order with offsets from the earliest:\n%s", out)
	}
}
