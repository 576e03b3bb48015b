package mockkit

import (
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// Recorder keeps the last N requests, and counts every request by answer
// for the metrics.
type Recorder struct {
	mu     sync.Mutex
	seq    uint64
	ring   []recorded
	next   int
	counts map[Answer]uint64 // every answer but a plain 200
	ok     uint64            // answered 200 with no reason: most requests, counted without hashing
}

// Answer is a status and reason, the key requests are counted by.
type Answer struct {
	Status int
	Reason string
}

// NewRecorder keeps up to n requests (n ≤ 0: 1000).
func NewRecorder(n int) *Recorder {
	if n <= 0 {
		n = 1000
	}
	return &Recorder{ring: make([]recorded, 0, n), counts: map[Answer]uint64{}}
}

// recorded is a kept request, with the headers its Headers are still to be
// built from.
type recorded struct {
	pushtest.Request
	headers Headers
}

// Headers are the request headers a record shows, kept as received and
// turned into its Headers map only when the log is read: most records are
// never read, and the map would cost every request. net/http makes a
// request's header map afresh and never writes it once the handler runs,
// so holding it is safe.
type Headers struct {
	From  http.Header
	Shown [][2]string // canonical name, name shown; the first value is shown
	Proto string      // shown as "proto" when set
}

// build is the Headers map of a record.
func (h Headers) build() map[string]string {
	out := make(map[string]string, len(h.Shown)+1)
	for _, n := range h.Shown {
		if v := h.From[n[0]]; len(v) > 0 {
			out[n[1]] = v[0]
		}
	}
	if h.Proto != "" {
		out["proto"] = h.Proto
	}
	return out
}

// Add records r, stamping Seq (and At if unset).
func (rc *Recorder) Add(r pushtest.Request) { rc.AddWith(r, Headers{}) }

// AddWith records r like Add, its Headers to be built from h when read
// (h.From nil: r's Headers as they are).
func (rc *Recorder) AddWith(r pushtest.Request, h Headers) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.seq++
	r.Seq = rc.seq
	if r.Status == 200 && r.Reason == "" {
		rc.ok++
	} else {
		rc.counts[Answer{r.Status, r.Reason}]++
	}
	e := recorded{r, h}
	if len(rc.ring) < cap(rc.ring) {
		rc.ring = append(rc.ring, e)
		return
	}
	rc.ring[rc.next] = e
	rc.next = (rc.next + 1) % cap(rc.ring)
}

// Since returns the kept requests with Seq > since, oldest first. Their maps
// are copies: the mocks share one map between records of identical headers,
// and a reader writing to a record must not change another.
func (rc *Recorder) Since(since uint64) []pushtest.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := []pushtest.Request{} // never nil: the control API answers [] for none
	// Until the ring is full next is 0, so this is oldest-first either way.
	for _, part := range [2][]recorded{rc.ring[rc.next:], rc.ring[:rc.next]} {
		for i := range part {
			e := &part[i]
			if e.Seq <= since {
				continue
			}
			if e.headers.From != nil { // built once, kept for the next reader
				e.Headers, e.headers = e.headers.build(), Headers{}
			}
			r := e.Request
			r.Headers, r.Auth = maps.Clone(r.Headers), maps.Clone(r.Auth)
			out = append(out, r)
		}
	}
	return out
}

// Counts returns how many requests got each answer since the start.
func (rc *Recorder) Counts() map[Answer]uint64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[Answer]uint64, len(rc.counts)+1)
	for k, v := range rc.counts {
		out[k] = v
	}
	if rc.ok > 0 {
		out[Answer{Status: 200}] = rc.ok
	}
	return out
}
