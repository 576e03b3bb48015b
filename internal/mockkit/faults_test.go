package mockkit

import (
	"strings"
	"testing"
	"time"
)

// The ambiguous actions act at acceptance, and the two that wait need a
// latency.
func TestAmbiguousActions(t *testing.T) {
	f := NewFaults(1)
	for _, c := range []struct {
		fault Fault
		err   string
	}{
		{Fault{Action: AcceptReset}, ""},
		{Fault{Action: AcceptLate}, "accept_late needs a latency"},
		{Fault{Action: DelayAccept}, "delay_accept needs a latency"},
		{Fault{Action: AcceptLate, Latency: Duration(time.Second)}, ""},
		{Fault{Action: DelayAccept, Latency: Duration(time.Second)}, ""},
		{Fault{Action: "accept_twice"}, "unknown action"},
	} {
		_, err := f.Add(c.fault)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: err %v, want %q", c.fault.Action, err, c.err)
		}
	}
	for _, a := range Actions {
		if want := a == AcceptReset || a == AcceptLate || a == DelayAccept; a.AtAccept() != want {
			t.Errorf("%s.AtAccept() = %v", a, !want)
		}
	}
}
