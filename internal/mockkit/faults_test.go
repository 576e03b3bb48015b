package mockkit

import (
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// The ambiguous actions act at acceptance, and the two that wait need a
// latency.
func TestAmbiguousActions(t *testing.T) {
	f := NewFaults(1)
	for _, c := range []struct {
		fault pushtest.Fault
		err   string
	}{
		{pushtest.Fault{Action: pushtest.AcceptReset}, ""},
		{pushtest.Fault{Action: pushtest.AcceptLate}, "accept_late needs a latency"},
		{pushtest.Fault{Action: pushtest.DelayAccept}, "delay_accept needs a latency"},
		{pushtest.Fault{Action: pushtest.AcceptLate, Latency: time.Second}, ""},
		{pushtest.Fault{Action: pushtest.DelayAccept, Latency: time.Second}, ""},
		{pushtest.Fault{Action: "accept_twice"}, "unknown action"},
	} {
		_, err := f.Add(c.fault)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: err %v, want %q", c.fault.Action, err, c.err)
		}
	}
	for _, a := range pushtest.Actions {
		if want := a == pushtest.AcceptReset || a == pushtest.AcceptLate || a == pushtest.DelayAccept; a.AtAccept() != want {
			t.Errorf("%s.AtAccept() = %v", a, !want)
		}
	}
}
