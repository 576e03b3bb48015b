package web

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushlab/pushlab/events"
)

// Frame kinds, as the page reads them (field "k").
const (
	kindHello   = "hello"   // first frame of a connection: the hub's last seq, whether this is a resume
	kindEvent   = "ev"      // one hop, with the source it came from
	kindGap     = "gap"     // events were lost: a source skipped, or the page resumed past the history
	kindSource  = "source"  // a source went up or down
	kindDevices = "devices" // the fleet's current state (not history: only the latest matters)
	kindStats   = "stats"   // live counters and the last second's throughput and latency
)

// frame is one message to the page. Seq is the hub's own sequence (sources
// are merged, so a source's seq cannot order the timeline).
type frame struct {
	K       string        `json:"k"`
	Seq     uint64        `json:"seq,omitempty"`
	Src     string        `json:"src,omitempty"`
	E       *events.Event `json:"e,omitempty"`
	State   string        `json:"state,omitempty"`
	Err     string        `json:"err,omitempty"`
	After   uint64        `json:"after,omitempty"`
	Next    uint64        `json:"next,omitempty"`
	Missing uint64        `json:"missing,omitempty"`
	Why     string        `json:"why,omitempty"`
	Resumed bool          `json:"resumed,omitempty"`
	Reset   bool          `json:"reset,omitempty"`
	Oldest  uint64        `json:"oldest,omitempty"`
	Data    any           `json:"data,omitempty"`
}

func (f frame) encode() []byte {
	b, _ := json.Marshal(f) // strings, numbers and events only: cannot fail
	return b
}

// stored is a history entry: the encoded frame and the trace it belongs to,
// so a snapshot can pick whole notifications.
type stored struct {
	seq   uint64
	trace string
	data  []byte
}

// hub fans the merged timeline out to browsers. Publishing never blocks: a
// client is a cursor into the hub's history plus a wake-up signal, and one
// that falls more than queue frames behind is evicted (the page reconnects
// and resumes from its last seq, or gets a gap marker). The publisher's
// work per event is one encoding and one non-blocking signal per client,
// however many frames a client has yet to take.
type hub struct {
	queue          int // how far a client may fall behind before eviction
	snapshotTraces int // notifications in a fresh page's snapshot

	mu      sync.Mutex
	seq     uint64
	ring    []stored
	next    int
	clients map[*client]struct{}
	state   map[string][]byte // latest devices / stats frames

	evicted atomic.Uint64
}

func newHub(history, queue, snapshotTraces int) *hub {
	// A client's unsent frames live in the history: it must hold them.
	history = max(history, queue)
	return &hub{queue: queue, snapshotTraces: snapshotTraces, ring: make([]stored, 0, history),
		clients: map[*client]struct{}{}, state: map[string][]byte{}}
}

type client struct {
	wake    chan struct{} // capacity 1: "there is something to take"
	gone    chan struct{}
	once    sync.Once
	evicted atomic.Bool

	// Guarded by hub.mu.
	backlog [][]byte          // written before anything else (hello, snapshot, resume)
	next    uint64            // the next history seq to send
	state   map[string][]byte // state frames not yet sent: only the newest of each kind
}

func (c *client) close() { c.once.Do(func() { close(c.gone) }) }

func (c *client) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// publish stamps f with the next seq, records it and wakes every client.
func (h *hub) publish(f frame, trace string) uint64 {
	// Encode outside the lock; the seq, known only under it, is spliced in
	// as the first member.
	f.Seq = 0
	body := f.encode()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	data := make([]byte, 0, len(body)+24)
	data = append(data, `{"seq":`...)
	data = strconv.AppendUint(data, h.seq, 10)
	data = append(data, ',')
	data = append(data, body[1:]...)
	s := stored{seq: h.seq, trace: trace, data: data}
	if c := cap(h.ring); len(h.ring) < c {
		h.ring = append(h.ring, s)
	} else if c > 0 {
		h.ring[h.next] = s
		h.next = (h.next + 1) % c
	}
	for c := range h.clients {
		if h.seq-c.next+1 > uint64(h.queue) {
			// Too slow: never wait for it. The page will resume from its seq.
			h.evictLocked(c)
			continue
		}
		c.poke()
	}
	return h.seq
}

func (h *hub) evictLocked(c *client) {
	delete(h.clients, c)
	c.evicted.Store(true)
	c.close()
	h.evicted.Add(1)
}

// setState replaces a state frame (devices, stats) and offers it to every client.
func (h *hub) setState(kind string, data any) {
	b := frame{K: kind, Data: data}.encode()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state[kind] = b
	for c := range h.clients {
		c.state[kind] = b
		c.poke()
	}
}

func (h *hub) event(src string, e events.Event) uint64 {
	return h.publish(frame{K: kindEvent, Src: src, E: &e}, e.TraceID)
}

func (h *hub) gap(src string, after, next uint64, why string) uint64 {
	return h.publish(frame{K: kindGap, Src: src, After: after, Next: next, Missing: next - after - 1, Why: why}, "")
}

func (h *hub) source(src, state string, err error) uint64 {
	f := frame{K: kindSource, Src: src, State: state}
	if err != nil {
		f.Err = err.Error()
	}
	return h.publish(f, "")
}

// historyLocked returns the ring oldest first.
func (h *hub) historyLocked() []stored {
	if len(h.ring) < cap(h.ring) {
		return h.ring
	}
	out := make([]stored, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// attach registers a client. since is the last seq the page holds (0: none).
// The backlog it returns and the queue it starts filling join without a hole
// or an overlap: both are decided under the hub's lock.
func (h *hub) attach(since uint64) *client {
	c := &client{wake: make(chan struct{}, 1), gone: make(chan struct{}), state: map[string][]byte{}}
	h.mu.Lock()
	defer h.mu.Unlock()
	hist := h.historyLocked()
	oldest := h.seq + 1
	if len(hist) > 0 {
		oldest = hist[0].seq
	}
	hello := frame{K: kindHello, Seq: h.seq, Oldest: oldest}
	var body [][]byte
	switch {
	case since > 0 && since <= h.seq && since+1 >= oldest:
		hello.Resumed = true
		for _, s := range hist {
			if s.seq > since {
				body = append(body, s.data)
			}
		}
	default:
		if since > h.seq {
			hello.Reset = true // the page saw another incarnation of this hub
		} else if since > 0 {
			// Resuming past what the ring still holds: say what is lost.
			body = append(body, frame{K: kindGap, After: since, Next: oldest, Missing: oldest - since - 1,
				Why: "the view's history no longer holds these events"}.encode())
		}
		body = append(body, h.snapshotLocked(hist)...)
	}
	c.backlog = append([][]byte{hello.encode()}, body...)
	for k, b := range h.state {
		c.state[k] = b
	}
	c.next = h.seq + 1
	h.clients[c] = struct{}{}
	c.poke()
	return c
}

// snapshotLocked picks the frames of the newest snapshotTraces notifications,
// plus the frames that belong to none (registrations, gaps, sources).
func (h *hub) snapshotLocked(hist []stored) [][]byte {
	keep := map[string]bool{}
	for i := len(hist) - 1; i >= 0 && len(keep) < h.snapshotTraces; i-- {
		if t := hist[i].trace; t != "" {
			keep[t] = true
		}
	}
	out := make([][]byte, 0, len(hist))
	for _, s := range hist {
		if s.trace == "" || keep[s.trace] {
			out = append(out, s.data)
		}
	}
	return out
}

// older returns up to n notifications' frames from before seq, for "load older".
func (h *hub) older(before uint64, n int) [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	hist := h.historyLocked()
	keep := map[string]bool{}
	for i := len(hist) - 1; i >= 0 && len(keep) < n; i-- {
		if hist[i].seq < before && hist[i].trace != "" {
			keep[hist[i].trace] = true
		}
	}
	var out [][]byte
	for _, s := range hist {
		if s.seq < before && keep[s.trace] {
			out = append(out, s.data)
		}
	}
	return out
}

func (h *hub) detach(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.close()
}

func (h *hub) lastSeq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

func (h *hub) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// batch joins frames into one JSON array: one websocket message per wakeup,
// however many frames arrived meanwhile.
func batch(frames [][]byte) []byte {
	n := 2
	for _, f := range frames {
		n += len(f) + 1
	}
	var b bytes.Buffer
	b.Grow(n)
	b.WriteByte('[')
	for i, f := range frames {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// maxBatch bounds one websocket message, so a big backlog reaches the page in
// pieces it can render between.
const maxBatch = 1000

// take waits until the client has frames and returns up to maxBatch of them,
// oldest first, state frames last. It returns nil, true when tick fires with
// nothing to send, and nil, false once the client is gone.
func (h *hub) take(c *client, tick <-chan time.Time) ([][]byte, bool) {
	for {
		select {
		case <-c.wake:
		case <-tick:
			return nil, true
		case <-c.gone:
			return nil, false
		}
		h.mu.Lock()
		out := h.takeLocked(c)
		h.mu.Unlock()
		if len(out) > 0 {
			return out, true
		}
	}
}

func (h *hub) takeLocked(c *client) [][]byte {
	n := min(len(c.backlog), maxBatch)
	out := append([][]byte(nil), c.backlog[:n]...)
	c.backlog = c.backlog[n:]
	if len(c.backlog) == 0 {
		c.backlog = nil
	}
	if l := len(h.ring); l > 0 && c.next <= h.seq {
		base := 0
		if l == cap(h.ring) {
			base = h.next // full: the oldest is where the next write goes
		}
		oldest := h.ring[base].seq
		i := (base + int(c.next-oldest)) % l
		for ; c.next <= h.seq && len(out) < maxBatch; c.next++ {
			out = append(out, h.ring[i].data)
			i = (i + 1) % l
		}
	}
	for k, b := range c.state {
		if len(out) >= maxBatch+2 {
			break
		}
		out = append(out, b)
		delete(c.state, k)
	}
	if len(c.backlog) > 0 || c.next <= h.seq || len(c.state) > 0 {
		c.poke() // more to take: come back
	}
	return out
}
