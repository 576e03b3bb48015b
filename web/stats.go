package web

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// Counters are the view's running totals, over everything the sources sent.
type Counters struct {
	Events    uint64 `json:"events"`
	Sent      uint64 `json:"sent"`
	Accepted  uint64 `json:"accepted"` // provider accepted
	Delivered uint64 `json:"delivered"`
	Displayed uint64 `json:"displayed"`
	Acked     uint64 `json:"acked"` // the ack reached the proxy
	Remove    uint64 `json:"remove"`
	Fail      uint64 `json:"fail"`
	Rejected  uint64 `json:"rejected"` // refused on the device
	Faults    uint64 `json:"faults"`
}

// Snapshot is one stats frame: totals, and rates and latency since the last one.
type Snapshot struct {
	Counters
	At           time.Time              `json:"at"`
	EventsPerSec float64                `json:"eps"`
	SentPerSec   float64                `json:"sps"`
	AckedPerSec  float64                `json:"aps"`
	LatencyP50   float64                `json:"p50_ms"` // server sent → ack at the proxy, since the last frame
	LatencyP95   float64                `json:"p95_ms"`
	Gaps         uint64                 `json:"gaps"`
	Clients      int                    `json:"clients"`
	Evicted      uint64                 `json:"evicted"`
	Sources      map[string]SourceState `json:"sources,omitempty"`
}

// maxOpen bounds the notifications waiting for their ack; past it the
// oldest are forgotten (their latency is then not measured).
const maxOpen = 100000

type stats struct {
	mu      sync.Mutex
	c       Counters
	prev    Counters
	prevAt  time.Time
	open    map[string]time.Time // trace → server sent
	samples []float64            // end-to-end ms since the last frame
	gaps    atomic.Uint64
}

func newStats() *stats { return &stats{open: map[string]time.Time{}, prevAt: time.Now()} }

func (s *stats) count(e events.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.Events++
	switch e.Hop {
	case events.ServerSent:
		s.c.Sent++
		if e.TraceID != "" {
			if len(s.open) >= maxOpen {
				clear(s.open)
			}
			s.open[e.TraceID] = e.At
		}
	case events.ProviderAccepted:
		s.c.Accepted++
	case events.DeviceDelivered:
		s.c.Delivered++
	case events.DeviceDisplayed:
		s.c.Displayed++
	case events.DeviceRejected:
		s.c.Rejected++
	case events.FaultInjected:
		s.c.Faults++
	case events.ProxyAcked:
		s.c.Acked++
		if t, ok := s.open[e.TraceID]; ok {
			delete(s.open, e.TraceID)
			s.samples = append(s.samples, float64(e.At.Sub(t).Microseconds())/1000)
		}
	case events.ProxyResponded:
		switch e.Status {
		case serversim.StatusRemove:
			s.c.Remove++
			delete(s.open, e.TraceID)
		case serversim.StatusFail:
			s.c.Fail++
			delete(s.open, e.TraceID)
		}
	}
}

func (s *stats) tick(now time.Time) Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	dt := now.Sub(s.prevAt).Seconds()
	if dt <= 0 {
		dt = 1
	}
	snap := Snapshot{Counters: s.c, At: now, Gaps: s.gaps.Load(),
		EventsPerSec: float64(s.c.Events-s.prev.Events) / dt,
		SentPerSec:   float64(s.c.Sent-s.prev.Sent) / dt,
		AckedPerSec:  float64(s.c.Acked-s.prev.Acked) / dt,
	}
	if n := len(s.samples); n > 0 {
		slices.Sort(s.samples)
		snap.LatencyP50 = s.samples[n/2]
		snap.LatencyP95 = s.samples[min(n-1, n*95/100)]
	}
	s.samples = s.samples[:0]
	s.prev, s.prevAt = s.c, now
	return snap
}
