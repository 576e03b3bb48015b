package bench

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/pushlab/pushlab/events"
)

// The stages of a notification the report times, each between two hops of
// the spine. A stage whose hops an actor does not emit (a proxy elsewhere
// emits nothing here) is left out of the report.
const (
	StageServerToProxy    = "server → proxy"
	StageProxyToProvider  = "proxy → provider"
	StageProviderToDevice = "provider → device"
	StageVerifyDecrypt    = "device verify + decrypt"
	StageAckRoundTrip     = "ack round trip"
	StageSendRoundTrip    = "send_push round trip"
	StageEndToEnd         = "end to end (displayed)"
	StageEndToEndAcked    = "end to end (acked)"
)

var stageOrder = []string{StageServerToProxy, StageProxyToProvider, StageProviderToDevice, StageVerifyDecrypt,
	StageAckRoundTrip, StageSendRoundTrip, StageEndToEnd, StageEndToEndAcked}

// trace is what the collector knows of one notification in flight; it is
// dropped once the notification is settled, so memory follows the in-flight
// count, not the run's length.
type trace struct {
	sent, received, provider, delivered, opened, displayed, acked time.Time
	answer                                                        string // server.answered status
	answered                                                      bool
	displays, deliveries                                          int
}

// collector reads the spine and folds each notification into histograms and
// counters as it settles. It keeps no events.
type collector struct {
	sub   *events.Subscription
	start time.Time
	done  chan struct{}

	mu       sync.Mutex
	open     map[string]*trace
	hist     map[string]*hdrhistogram.Histogram
	acc      Accounting
	reasons  map[string]int // provider reason → count, "mockapns 410 Unregistered"
	verdicts map[string]int // proxy verdicts as the server got them
	failures map[string]int // why, for verdicts other than OK
	faults   int
	late     int
	perSec   []Second
	settled  chan struct{} // signalled when open shrinks
}

func newCollector(bus *events.Bus, buffer int) *collector {
	sub, _ := bus.Subscribe(buffer, false)
	c := &collector{sub: sub, start: time.Now(), done: make(chan struct{}), open: map[string]*trace{},
		hist: map[string]*hdrhistogram.Histogram{}, reasons: map[string]int{}, verdicts: map[string]int{},
		failures: map[string]int{}, settled: make(chan struct{}, 1)}
	for _, s := range stageOrder {
		// 1 µs .. 60 s at 3 significant figures.
		c.hist[s] = hdrhistogram.New(1, 60_000_000, 3)
	}
	go c.run()
	return c
}

func (c *collector) run() {
	defer close(c.done)
	for e := range c.sub.C() {
		c.mu.Lock()
		c.add(e)
		c.mu.Unlock()
	}
}

func (c *collector) second(at time.Time) *Second {
	i := int(at.Sub(c.start) / time.Second)
	if i < 0 {
		i = 0
	}
	for len(c.perSec) <= i {
		c.perSec = append(c.perSec, Second{At: len(c.perSec)})
	}
	return &c.perSec[i]
}

func (c *collector) add(e events.Event) {
	switch e.Hop {
	case events.ProviderRejected:
		c.reasons[e.Actor+" "+e.Status]++
	case events.FaultInjected:
		c.faults++
	}
	if e.TraceID == "" {
		return
	}
	t := c.open[e.TraceID]
	if t == nil {
		if e.Hop != events.ServerSent {
			// server.sent opens every notification (it is published before
			// the post); anything else is a straggler of a settled one.
			c.late++
			return
		}
		t = &trace{}
		c.open[e.TraceID] = t
	}
	switch e.Hop {
	case events.ServerSent:
		t.sent = e.At
		c.acc.Sent++
		c.second(e.At).Sent++
	case events.ProxyReceived:
		if t.received.IsZero() {
			t.received = e.At
		}
	case events.ProviderAccepted, events.ProviderRejected:
		if t.provider.IsZero() && !t.received.IsZero() {
			c.record(StageProxyToProvider, t.received, e.At)
		}
		t.provider = e.At
	case events.DeviceDelivered:
		t.deliveries++
		if t.delivered.IsZero() {
			t.delivered = e.At
			if !t.provider.IsZero() {
				c.record(StageProviderToDevice, t.provider, e.At)
			}
		}
	case events.DeviceSignatureOK, events.DeviceDecrypted:
		if !t.delivered.IsZero() && e.At.After(t.opened) {
			t.opened = e.At
		}
	case events.DeviceDisplayed:
		t.displays++
		if t.displays == 1 {
			t.displayed = e.At
		}
	case events.DeviceAcked:
		t.acked = e.At
	case events.ServerAnswered:
		t.answered, t.answer = true, e.Status
		c.verdicts[e.Status]++
		c.record(StageSendRoundTrip, t.sent, e.At)
		if e.Status != "OK" {
			c.second(e.At).Failed++
			c.failures[failureReason(e.Detail)]++
		}
	}
	if c.settles(t) {
		c.finish(e.TraceID, t)
	}
}

// settles: the proxy answered, and an OK answer's notification was also
// shown and acked (in whichever order those arrive).
func (c *collector) settles(t *trace) bool {
	if !t.answered {
		return false
	}
	return t.answer != "OK" || !t.acked.IsZero()
}

func (c *collector) finish(id string, t *trace) {
	delete(c.open, id)
	select {
	case c.settled <- struct{}{}:
	default:
	}
	c.tally(t)
}

// tally adds a settled (or, at the end, abandoned) notification to the
// accounting and the stage histograms.
func (c *collector) tally(t *trace) {
	switch {
	case t.displays > 0:
		c.acc.Delivered++
		if t.answer != "OK" && t.answered {
			c.acc.ReportedFailedButShown++
		}
		c.second(t.displayed).Delivered++
	case t.answered && t.answer != "OK":
		c.acc.Failed++
	default:
		c.acc.Lost++
	}
	if t.displays > 1 {
		c.acc.Duplicated++
	}
	if t.deliveries > 1 {
		c.acc.Redelivered++
	}
	if !t.received.IsZero() {
		c.record(StageServerToProxy, t.sent, t.received)
	}
	if !t.opened.IsZero() {
		c.record(StageVerifyDecrypt, t.delivered, t.opened)
	}
	if !t.displayed.IsZero() {
		c.record(StageEndToEnd, t.sent, t.displayed)
		if !t.acked.IsZero() {
			c.record(StageAckRoundTrip, t.displayed, t.acked)
			c.record(StageEndToEndAcked, t.sent, t.acked)
		}
	}
}

func (c *collector) record(stage string, from, to time.Time) {
	if from.IsZero() || to.IsZero() {
		return
	}
	us := to.Sub(from).Microseconds()
	if us < 1 {
		us = 1
	}
	c.hist[stage].RecordValue(us)
}

// inFlight is how many notifications have not settled.
func (c *collector) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// snapshot is the running tally for progress lines.
func (c *collector) snapshot() (Accounting, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acc, len(c.open)
}

// drain waits until every notification settled or until deadline, then stops
// reading the spine; what is still open then is lost.
func (c *collector) drain(deadline time.Time) {
	for c.inFlight() > 0 && time.Now().Before(deadline) {
		select {
		case <-c.settled:
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.sub.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, t := range c.open {
		delete(c.open, id)
		c.tally(t)
	}
	c.acc.EventsMissed = c.sub.Dropped()
}

// stages reports the histograms that saw values, in path order.
func (c *collector) stages() []Stage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Stage
	for _, name := range stageOrder {
		h := c.hist[name]
		if h.TotalCount() == 0 {
			continue
		}
		out = append(out, stageOf(name, h))
	}
	return out
}

func stageOf(name string, h *hdrhistogram.Histogram) Stage {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	s := Stage{Name: name, Count: h.TotalCount(),
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			s.Histogram = append(s.Histogram, Bucket{UpToMs: ms(b.To), Count: b.Count})
		}
	}
	s.Histogram = coarsen(s.Histogram, 200)
	return s
}

// coarsen merges adjacent buckets until at most n remain (for plots).
func coarsen(b []Bucket, n int) []Bucket {
	for len(b) > n {
		out := make([]Bucket, 0, (len(b)+1)/2)
		for i := 0; i < len(b); i += 2 {
			x := b[i]
			if i+1 < len(b) {
				x.UpToMs = b[i+1].UpToMs
				x.Count += b[i+1].Count
			}
			out = append(out, x)
		}
		b = out
	}
	return b
}

func sortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Name: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// failureReason shortens a server.answered detail to what is common to
// failures of one kind ("proxy answered FAIL: proxy /api/v1/send_push: HTTP
// 429 …" is "FAIL: HTTP 429").
func failureReason(detail string) string {
	d := strings.TrimPrefix(detail, "proxy answered ")
	if i := strings.Index(d, "HTTP "); i >= 0 && len(d) >= i+8 {
		verdict, _, _ := strings.Cut(d, ":")
		return verdict + ": " + d[i:i+8]
	}
	if len(d) > 80 {
		d = d[:80] + "…"
	}
	return d
}
