package e2e

import (
	"strings"
	"testing"

	"github.com/pushlab/pushlab/events"
)

func trace(hops ...string) []events.Event {
	var out []events.Event
	for _, h := range hops {
		hop, status, _ := strings.Cut(h, "=")
		e := events.Event{Hop: events.Hop(hop), Status: status}
		if e.Hop == events.DeviceAcked {
			e.Attrs = map[string]string{"proxy_status": status}
		}
		out = append(out, e)
	}
	return out
}

// Each rule of the accounting, broken once, is named; a whole run is not.
func TestAccount(t *testing.T) {
	ok := trace("server.sent", "provider.accepted", "device.delivered", "device.acked=OK", "server.answered=OK")
	tests := []struct {
		name   string
		traces map[string][]events.Event
		want   string // "" = no violation
	}{
		{"delivered", map[string][]events.Event{"a": ok}, ""},
		{"held for an offline device", map[string][]events.Event{"a": trace("server.sent", "provider.accepted", "provider.stored", "server.answered=OK")}, ""},
		{"reported failure", map[string][]events.Event{"a": trace("server.sent", "provider.rejected=BadDeviceToken", "server.answered=REMOVE")}, ""},
		{"no answer", map[string][]events.Event{"a": trace("server.sent")}, "unaccounted"},
		{"an answer that is no verdict", map[string][]events.Event{"a": trace("server.sent", "server.answered=MAYBE")}, "unaccounted"},
		{"OK without sending", map[string][]events.Event{"a": trace("server.sent", "server.answered=OK")}, "provider never accepted"},
		{"accepted, never pushed", map[string][]events.Event{"a": trace("server.sent", "provider.accepted", "server.answered=OK")}, "device never got it"},
		{"delivered twice", map[string][]events.Event{"a": trace("server.sent", "provider.accepted", "device.delivered", "device.delivered", "server.answered=OK")}, "delivered 2 times"},
		{"FAIL but delivered", map[string][]events.Event{"a": trace("server.sent", "provider.accepted", "device.delivered", "server.answered=FAIL")}, "reported FAIL but delivered"},
		{"accepted twice", map[string][]events.Event{"a": trace("server.sent", "provider.accepted", "provider.accepted", "device.delivered", "server.answered=OK")}, "accepted it 2 times"},
		{"ack refused", map[string][]events.Event{"a": trace("server.sent", "provider.accepted", "device.delivered", "device.acked=FAIL", "server.answered=OK")}, "ack dropped"},
		{"ack swallowed by a reporting proxy", map[string][]events.Event{"a": trace("server.sent", "proxy.received", "provider.accepted", "device.delivered", "device.acked=OK", "server.answered=OK")}, "ack lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Account(tt.traces, nil, false)
			var got []string
			for _, v := range a.Violations {
				got = append(got, v.Rule)
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Fatalf("violations %q, want none", got)
			case tt.want != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tt.want)):
				t.Fatalf("violations %q, want one saying %q", got, tt.want)
			}
		})
	}
	// A replay the scenario made itself is not a duplicate.
	twice := trace("server.sent", "provider.accepted", "device.delivered", "device.delivered", "server.answered=OK")
	if a := Account(map[string][]events.Event{"a": twice}, map[string]bool{"a": true}, false); len(a.Violations) != 0 {
		t.Fatalf("an injected replay: %+v", a.Violations)
	}
	// The totals: sent = delivered + held + reported failures.
	a := Account(map[string][]events.Event{"a": ok, "b": trace("server.sent", "provider.accepted", "provider.stored", "server.answered=OK"),
		"c": trace("server.sent", "server.answered=FAIL")}, nil, false)
	if a.Sent != 3 || a.Delivered != 1 || a.Stored != 1 || a.Fail != 1 || a.OK != 2 {
		t.Fatalf("accounting %+v", a)
	}
}
