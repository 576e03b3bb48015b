package mockkit

import (
	"context"

	"github.com/pushlab/pushlab/pushtest"
)

// How a fault plays out is decided here, once for both mocks; each mock
// supplies its own way of answering, resetting and delivering.

// Before are a mock's ways of carrying out a fault that acts before the
// request is judged.
type Before struct {
	// Abandoned records a request whose client gave up during the fault's
	// latency: the provider drops it unserved.
	Abandoned func()
	// Respond answers the fault's Status and Reason.
	Respond func()
	// Reset kills the connection without an answer; it does not return
	// (it panics with http.ErrAbortHandler).
	Reset func()
	// GoAway arranges for the connection to close once the request is answered.
	GoAway func()
}

// BeforeJudging carries out f, a fault that acts before the request is
// judged (not f.Action.AtAccept()): it waits f's latency, which a client
// that gives up cuts short (then the request is dropped), then acts. It
// reports whether the fault disposed of the request; false means the
// request is served as usual (Delay, GoAway).
func BeforeJudging(ctx context.Context, f pushtest.Fault, do Before) (done bool) {
	if !Hold(ctx, f.Latency, true) {
		do.Abandoned()
		return true
	}
	switch f.Action {
	case pushtest.Respond:
		do.Respond()
		return true
	case pushtest.Reset:
		do.Reset()
		return true
	case pushtest.GoAway:
		do.GoAway()
	}
	return false
}

// HoldAccepted holds a push accepted under f (f may be nil) for a
// DelayAccept fault's latency, even if the client gives up meanwhile: the
// push is the provider's now, and is delivered.
func HoldAccepted(ctx context.Context, f *pushtest.Fault) {
	if f != nil && f.Action == pushtest.DelayAccept {
		Hold(ctx, f.Latency, false)
	}
}

// Acceptance is a mock's way of finishing a push it accepted.
type Acceptance struct {
	Deliver func() // hand the push to the push channel
	Answer  func() // answer the request: accepted
	// Reset kills the connection without an answer; it does not return.
	Reset func()
}

// Accept finishes a push accepted under f (nil: no fault): AcceptReset
// delivers it and resets the connection unanswered; AcceptLate delivers it,
// then answers after f's latency if the client still waits; any other push
// is answered, then delivered.
func Accept(ctx context.Context, f *pushtest.Fault, a Acceptance) {
	switch {
	case f != nil && f.Action == pushtest.AcceptReset:
		a.Deliver()
		a.Reset()
	case f != nil && f.Action == pushtest.AcceptLate:
		a.Deliver()
		if Hold(ctx, f.Latency, true) {
			a.Answer()
		}
	default:
		a.Answer()
		a.Deliver()
	}
}
