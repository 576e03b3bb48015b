package events

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults sized for a demo or a CI run: a few thousand notifications of a
// dozen hops each stay in history; a reader may fall a second or two behind.
const (
	DefaultHistory = 8192
	DefaultBuffer  = 1024
)

// Bus fans events out to subscribers without ever blocking a producer: each
// subscriber has a bounded buffer, and an event that does not fit is dropped and
// counted for that subscriber (who then sees a gap in Seq). The bus keeps a
// bounded history so a late reader can start from a snapshot.
//
// A nil *Bus is valid and discards everything, so an actor run outside pushlab
// pays nothing for its events.
type Bus struct {
	now func() time.Time

	mu      sync.Mutex
	seq     uint64
	history []Event // ring of cap historyCap
	next    int     // ring write position once full
	subs    map[*Subscription]struct{}

	dropped atomic.Uint64
}

// Option configures a Bus.
type Option func(*Bus)

// WithHistory sets how many recent events the bus keeps for snapshots (0 keeps none).
func WithHistory(n int) Option {
	return func(b *Bus) {
		if n < 0 {
			n = 0
		}
		b.history = make([]Event, 0, n)
	}
}

// WithClock sets the clock used to stamp events that carry no time (tests).
func WithClock(now func() time.Time) Option { return func(b *Bus) { b.now = now } }

// NewBus returns a bus keeping DefaultHistory events unless told otherwise.
func NewBus(opts ...Option) *Bus {
	b := &Bus{now: time.Now, history: make([]Event, 0, DefaultHistory), subs: map[*Subscription]struct{}{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Publish stamps e with the next sequence number (and the time, if unset),
// records it, and offers it to every subscriber. It never blocks on a reader.
// It returns the stamped event.
func (b *Bus) Publish(e Event) Event {
	if b == nil {
		return e
	}
	if e.At.IsZero() {
		e.At = b.now()
	}
	b.mu.Lock()
	b.seq++
	e.Seq = b.seq
	if c := cap(b.history); c > 0 {
		if len(b.history) < c {
			b.history = append(b.history, e)
		} else {
			b.history[b.next] = e
			b.next = (b.next + 1) % c
		}
	}
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
	b.mu.Unlock()
	return e
}

// History returns the retained events, oldest first.
func (b *Bus) History() []Event {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.historyLocked()
}

func (b *Bus) historyLocked() []Event {
	out := make([]Event, 0, len(b.history))
	if len(b.history) < cap(b.history) {
		return append(out, b.history...)
	}
	out = append(out, b.history[b.next:]...)
	return append(out, b.history[:b.next]...)
}

// Trace returns the retained events of one notification, in order.
func (b *Bus) Trace(traceID string) []Event {
	var out []Event
	for _, e := range b.History() {
		if e.TraceID == traceID {
			out = append(out, e)
		}
	}
	return out
}

// Seq is the sequence number of the last published event.
func (b *Bus) Seq() uint64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Dropped counts events that some subscriber could not take, over all subscribers.
func (b *Bus) Dropped() uint64 {
	if b == nil {
		return 0
	}
	return b.dropped.Load()
}

// Subscription is one reader's view of the bus.
type Subscription struct {
	bus     *Bus
	ch      chan Event
	dropped atomic.Uint64
	once    sync.Once
}

// Subscribe returns a subscription with a buffer of n events (DefaultBuffer if n ≤ 0).
// If snapshot is true, the retained history is returned too, and the
// subscription delivers only events after it, so nothing is seen twice or missed.
func (b *Bus) Subscribe(n int, snapshot bool) (*Subscription, []Event) {
	if n <= 0 {
		n = DefaultBuffer
	}
	s := &Subscription{bus: b, ch: make(chan Event, n)}
	if b == nil {
		close(s.ch)
		return s, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[s] = struct{}{}
	var hist []Event
	if snapshot {
		hist = b.historyLocked()
	}
	return s, hist
}

// C delivers the events; it is closed by Close.
func (s *Subscription) C() <-chan Event { return s.ch }

// Dropped counts events this subscriber missed because its buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close detaches the subscription and closes C. It is safe to call twice.
func (s *Subscription) Close() {
	s.once.Do(func() {
		if s.bus == nil {
			return
		}
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		close(s.ch)
		s.bus.mu.Unlock()
	})
}
