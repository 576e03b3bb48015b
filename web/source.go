package web

import (
	"container/heap"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
)

// sink takes what sources read: events in, gaps and source states reported.
type sink interface {
	event(src string, e events.Event)
	gap(src string, after, next uint64, why string)
	source(src, state string, err error)
}

// readBus feeds the bus's retained history, then its live events, to s until
// ctx ends. A jump in the bus's seq is a gap: this reader's buffer overflowed.
func readBus(ctx context.Context, name string, bus *events.Bus, buffer int, s sink) {
	sub, hist := bus.Subscribe(buffer, true)
	defer sub.Close()
	s.source(name, "up", nil)
	var last uint64
	take := func(e events.Event) {
		if last != 0 && e.Seq != last+1 {
			s.gap(name, last, e.Seq, "the view fell behind the event bus")
		}
		last = e.Seq
		s.event(name, e)
	}
	for _, e := range hist {
		take(e)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			take(e)
		}
	}
}

// Redial backoff for a remote source that went away.
const (
	redialMin = 100 * time.Millisecond
	redialMax = 5 * time.Second
)

// readRemote follows an actor's GET /events websocket until ctx ends. When
// the stream dies it reports the source down and dials again, resuming after
// the last seq it saw (since=N), so a short outage loses nothing; if the
// actor no longer holds those events the jump is reported as a gap.
func readRemote(ctx context.Context, rawURL string, tlsConfig *tls.Config, token string, log *slog.Logger, s sink) {
	name := sourceName(rawURL)
	var last uint64
	wait := redialMin
	for ctx.Err() == nil {
		u, err := withSince(rawURL, last)
		if err != nil {
			s.source(name, "down", err)
			return
		}
		st, err := events.Dial(ctx, u, tlsConfig, access.Header(token))
		if err != nil {
			s.source(name, "down", err)
			log.Warn("event source unreachable", "source", rawURL, "err", err, "retry_in", wait)
			if !sleep(ctx, wait) {
				return
			}
			wait = min(wait*2, redialMax)
			continue
		}
		s.source(name, "up", nil)
		wait = redialMin
		stop := context.AfterFunc(ctx, func() { st.Close() })
		for {
			e, _, err := st.Next()
			if err != nil {
				if ctx.Err() == nil {
					s.source(name, "down", err)
					log.Warn("event source lost", "source", rawURL, "err", err)
				}
				break
			}
			// The stream's own gap check restarts with each dial; ours spans them.
			if last != 0 && e.Seq > last+1 {
				s.gap(name, last, e.Seq, "events the source could not send us")
			}
			if e.Seq > last {
				last = e.Seq
			}
			s.event(name, e)
		}
		stop()
		st.Close()
		if !sleep(ctx, wait) {
			return
		}
	}
}

// sourceName is how the page names a remote source: its host and path.
func sourceName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host + u.Path
}

// withSince sets since=N (N > 0) on an events URL, keeping its other parameters.
func withSince(raw string, since uint64) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("web: event source %q: %w", raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("web: event source %q: want ws:// or wss://", raw)
	}
	if since > 0 {
		q := u.Query()
		q.Set("since", strconv.FormatUint(since, 10))
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// merger orders events from several sources by time: each waits window
// before release, so one that arrives a little late from another actor still
// takes its place. With one source it is not used.
type merger struct {
	out    sink
	window time.Duration

	mu      sync.Mutex
	pending eventHeap
	n       uint64
}

type pendingEvent struct {
	src     string
	e       events.Event
	arrived time.Time
	n       uint64 // arrival order: ties keep it
}

type eventHeap []pendingEvent

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].e.At.Equal(h[j].e.At) {
		return h[i].e.At.Before(h[j].e.At)
	}
	return h[i].n < h[j].n
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(pendingEvent)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (m *merger) event(src string, e events.Event) {
	m.mu.Lock()
	m.n++
	heap.Push(&m.pending, pendingEvent{src: src, e: e, arrived: time.Now(), n: m.n})
	m.mu.Unlock()
}

// Gaps and source changes are not reordered: they pass at once, after what
// is already due.
func (m *merger) gap(src string, after, next uint64, why string) {
	m.flush(time.Now())
	m.out.gap(src, after, next, why)
}

func (m *merger) source(src, state string, err error) {
	m.flush(time.Now())
	m.out.source(src, state, err)
}

// flush releases, oldest first, the events that have waited out the window.
func (m *merger) flush(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.pending.Len() > 0 {
		head := m.pending[0]
		if now.Sub(head.arrived) < m.window {
			return
		}
		heap.Pop(&m.pending)
		m.out.event(head.src, head.e)
	}
}

func (m *merger) run(ctx context.Context) {
	t := time.NewTicker(m.window / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.flush(now)
		}
	}
}
