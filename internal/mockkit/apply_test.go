package mockkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// Each action runs the mock's steps in one order, whichever mock it is.
func TestFaultSteps(t *testing.T) {
	var did []string
	step := func(name string) func() { return func() { did = append(did, name) } }
	before := Before{Abandoned: step("abandoned"), Respond: step("respond"), Reset: step("reset"), GoAway: step("goaway")}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		f    pushtest.Fault
		ctx  context.Context
		done bool
		want string
	}{
		{pushtest.Fault{Action: pushtest.Respond}, context.Background(), true, "respond"},
		{pushtest.Fault{Action: pushtest.Reset}, context.Background(), true, "reset"},
		{pushtest.Fault{Action: pushtest.GoAway}, context.Background(), false, "goaway"},
		{pushtest.Fault{Action: pushtest.Delay, Latency: time.Millisecond}, context.Background(), false, ""},
		{pushtest.Fault{Action: pushtest.Respond, Latency: time.Hour}, gone, true, "abandoned"},
	} {
		did = nil
		if done := BeforeJudging(c.ctx, c.f, before); done != c.done || strings.Join(did, ",") != c.want {
			t.Errorf("%s: done %v, steps %v; want %v, %q", c.f.Action, done, did, c.done, c.want)
		}
	}
	acc := Acceptance{Deliver: step("deliver"), Answer: step("answer"), Reset: step("reset")}
	for _, c := range []struct {
		f    *pushtest.Fault
		ctx  context.Context
		want string
	}{
		{nil, context.Background(), "answer,deliver"},
		{&pushtest.Fault{Action: pushtest.Delay}, context.Background(), "answer,deliver"},
		{&pushtest.Fault{Action: pushtest.DelayAccept, Latency: time.Millisecond}, context.Background(), "answer,deliver"},
		{&pushtest.Fault{Action: pushtest.AcceptReset}, context.Background(), "deliver,reset"},
		{&pushtest.Fault{Action: pushtest.AcceptLate, Latency: time.Millisecond}, context.Background(), "deliver,answer"},
		{&pushtest.Fault{Action: pushtest.AcceptLate, Latency: time.Hour}, gone, "deliver"},
	} {
		did = nil
		HoldAccepted(c.ctx, c.f)
		if Accept(c.ctx, c.f, acc); strings.Join(did, ",") != c.want {
			t.Errorf("%+v: steps %v, want %q", c.f, did, c.want)
		}
	}
}
