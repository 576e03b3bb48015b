package mockkit

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/pushlab/pushlab/internal/httpjson"
)

// Clock is a mock's settable clock: the wall clock moved by an offset, so that
// a test can jump 270 days ahead (FCM token expiry) or an hour (APNs provider
// tokens) in milliseconds while time keeps flowing. A mock built with
// Config.Now uses that instead and its Clock only reports (Settable false).
type Clock struct {
	base   func() time.Time
	offset atomic.Int64 // a time.Duration; read by every request, so no lock
}

// NewClock makes a clock over base (nil: time.Now).
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the mock's time.
func (c *Clock) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// Advance moves the clock by d (which may be negative).
func (c *Clock) Advance(d time.Duration) time.Time {
	c.offset.Add(int64(d))
	return c.Now()
}

// Set moves the clock so that it reads t now.
func (c *Clock) Set(t time.Time) time.Time {
	c.offset.Store(int64(t.Sub(c.base())))
	return c.Now()
}

// Reset puts the clock back on its base.
func (c *Clock) Reset() { c.offset.Store(0) }

// Offset is how far the clock is from its base.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// ClockState is the control API's view of the clock.
type ClockState struct {
	Now    time.Time         `json:"now"`
	Offset httpjson.Duration `json:"offset"`
}

// ClockRequest moves the clock: either to Now, or by Advance; Reset puts it back.
type ClockRequest struct {
	Now     time.Time         `json:"now,omitzero"`
	Advance httpjson.Duration `json:"advance,omitempty"`
	Reset   bool              `json:"reset,omitempty"`
}

// Apply performs r on the clock.
func (c *Clock) Apply(r ClockRequest) error {
	n := 0
	if !r.Now.IsZero() {
		n++
	}
	if r.Advance != 0 {
		n++
	}
	if r.Reset {
		n++
	}
	if n != 1 {
		return fmt.Errorf("give exactly one of now, advance, reset")
	}
	switch {
	case r.Reset:
		c.Reset()
	case r.Advance != 0:
		c.Advance(time.Duration(r.Advance))
	default:
		c.Set(r.Now)
	}
	return nil
}

func (c *Clock) state() ClockState {
	return ClockState{Now: c.Now(), Offset: httpjson.Duration(c.Offset())}
}

func (c *Clock) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /control/clock", func(w http.ResponseWriter, _ *http.Request) { httpjson.Write(w, 200, c.state()) })
	mux.HandleFunc("POST /control/clock", func(w http.ResponseWriter, r *http.Request) {
		var req ClockRequest
		if !api.Read(w, r, &req) {
			return
		}
		if err := c.Apply(req); err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		httpjson.Write(w, 200, c.state())
	})
}
