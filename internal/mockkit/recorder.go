package mockkit

import (
	"maps"
	"sync"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// Recorder keeps the last N requests, and counts every request by answer
// for the metrics.
type Recorder struct {
	mu     sync.Mutex
	seq    uint64
	ring   []pushtest.Request
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
	return &Recorder{ring: make([]pushtest.Request, 0, n), counts: map[Answer]uint64{}}
}

// Add records r, stamping Seq (and At if unset).
func (rc *Recorder) Add(r pushtest.Request) {
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
	if len(rc.ring) < cap(rc.ring) {
		rc.ring = append(rc.ring, r)
		return
	}
	rc.ring[rc.next] = r
	rc.next = (rc.next + 1) % cap(rc.ring)
}

// Since returns the kept requests with Seq > since, oldest first. Their maps
// are copies: the mocks share one map between records of identical headers,
// and a reader writing to a record must not change another.
func (rc *Recorder) Since(since uint64) []pushtest.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	// Until the ring is full next is 0, so this is oldest-first either way.
	all := append(append([]pushtest.Request{}, rc.ring[rc.next:]...), rc.ring[:rc.next]...)
	out := all[:0]
	for _, r := range all {
		if r.Seq > since {
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
