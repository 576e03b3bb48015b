package events

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestPublishAssignsSequenceAndTime(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	b := NewBus(WithClock(func() time.Time { return at }))
	e1 := b.Publish(Event{Hop: ServerSent, Actor: "server", TraceID: "a1"})
	e2 := b.Publish(Event{Hop: ProxyReceived, Actor: "proxy", TraceID: "a1", At: at.Add(time.Second)})
	if e1.Seq != 1 || e2.Seq != 2 {
		t.Fatalf("seqs = %d, %d; want 1, 2", e1.Seq, e2.Seq)
	}
	if !e1.At.Equal(at) || !e2.At.Equal(at.Add(time.Second)) {
		t.Fatalf("times = %v, %v; the bus must stamp only events without a time", e1.At, e2.At)
	}
	if got := b.Seq(); got != 2 {
		t.Fatalf("Seq() = %d, want 2", got)
	}
}

func TestHistoryIsBoundedAndOrdered(t *testing.T) {
	b := NewBus(WithHistory(3))
	for i := range 5 {
		b.Publish(Event{Hop: ServerSent, TraceID: fmt.Sprint(i)})
	}
	h := b.History()
	if len(h) != 3 {
		t.Fatalf("history has %d events, want 3", len(h))
	}
	for i, want := range []uint64{3, 4, 5} {
		if h[i].Seq != want {
			t.Fatalf("history[%d].Seq = %d, want %d (oldest first)", i, h[i].Seq, want)
		}
	}
	if tr := b.Trace("4"); len(tr) != 1 || tr[0].Seq != 5 {
		t.Fatalf("Trace(4) = %+v", tr)
	}
}

func TestNilBusDiscards(t *testing.T) {
	var b *Bus
	b.Publish(Event{Hop: ServerSent})
	b.Publish(Event{TraceID: "x", Hop: ServerSent, Actor: "server"})
	if b.History() != nil || b.Seq() != 0 || b.Dropped() != 0 {
		t.Fatal("a nil bus must hold nothing")
	}
	sub, hist := b.Subscribe(1, true)
	if hist != nil {
		t.Fatal("nil bus snapshot not empty")
	}
	if _, ok := <-sub.C(); ok {
		t.Fatal("nil bus subscription must be closed")
	}
}

func TestSlowSubscriberDropsWithoutStallingProducer(t *testing.T) {
	b := NewBus()
	slow, _ := b.Subscribe(2, false)
	defer slow.Close()
	fast, _ := b.Subscribe(100, false)
	defer fast.Close()
	done := make(chan struct{})
	go func() {
		for i := range 10 {
			b.Publish(Event{Hop: ServerSent, TraceID: fmt.Sprint(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	if got := slow.Dropped(); got != 8 {
		t.Fatalf("slow subscriber dropped %d, want 8", got)
	}
	if got := fast.Dropped(); got != 0 {
		t.Fatalf("fast subscriber dropped %d, want 0", got)
	}
	if got := b.Dropped(); got != 8 {
		t.Fatalf("bus dropped %d, want 8", got)
	}
	// The slow reader sees seq 1, 2 then — after draining — the gap is visible.
	if e := <-slow.C(); e.Seq != 1 {
		t.Fatalf("first = %d", e.Seq)
	}
	if e := <-slow.C(); e.Seq != 2 {
		t.Fatalf("second = %d", e.Seq)
	}
	b.Publish(Event{Hop: ServerSent})
	if e := <-slow.C(); e.Seq != 11 {
		t.Fatalf("after the gap got seq %d, want 11", e.Seq)
	}
}

func TestSnapshotThenLiveHasNoOverlapOrHole(t *testing.T) {
	b := NewBus()
	for range 5 {
		b.Publish(Event{Hop: ServerSent})
	}
	sub, hist := b.Subscribe(10, true)
	defer sub.Close()
	b.Publish(Event{Hop: ProxyReceived})
	if len(hist) != 5 || hist[4].Seq != 5 {
		t.Fatalf("snapshot = %d events ending at %d", len(hist), hist[len(hist)-1].Seq)
	}
	if e := <-sub.C(); e.Seq != 6 {
		t.Fatalf("first live event seq %d, want 6", e.Seq)
	}
}

func TestConcurrentPublishersAndSubscribers(t *testing.T) {
	const publishers, each = 8, 500
	b := NewBus(WithHistory(publishers * each))
	var wg sync.WaitGroup
	subs := make([]*Subscription, 4)
	counts := make([]int, len(subs))
	for i := range subs {
		subs[i], _ = b.Subscribe(publishers*each, false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := uint64(0)
			for e := range subs[i].C() {
				if e.Seq <= last {
					t.Errorf("subscriber %d: seq %d after %d", i, e.Seq, last)
				}
				last = e.Seq
				counts[i]++
			}
		}()
	}
	var pw sync.WaitGroup
	for p := range publishers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := range each {
				b.Publish(Event{Hop: ServerSent, TraceID: fmt.Sprintf("%d-%d", p, i)})
			}
		}()
	}
	// A subscriber that comes and goes while publishing must not race.
	for range 50 {
		s, _ := b.Subscribe(1, true)
		s.Close()
		s.Close()
	}
	pw.Wait()
	for _, s := range subs {
		s.Close()
	}
	wg.Wait()
	for i, n := range counts {
		if n != publishers*each {
			t.Fatalf("subscriber %d got %d events, want %d", i, n, publishers*each)
		}
	}
	if got := len(b.History()); got != publishers*each {
		t.Fatalf("history %d, want %d", got, publishers*each)
	}
}

func TestExcerptAndRedact(t *testing.T) {
	long := make([]byte, ExcerptLimit+10)
	for i := range long {
		long[i] = 'x'
	}
	if got := Excerpt(long); len(got) != ExcerptLimit+len("…") {
		t.Fatalf("excerpt length %d", len(got))
	}
	if got := Excerpt([]byte("short")); got != "short" {
		t.Fatalf("excerpt = %q", got)
	}
	if got := RedactToken("0123456789abcdef0123"); got != "0123…0123" {
		t.Fatalf("redact = %q", got)
	}
	if got := RedactToken("short"); got != "…" {
		t.Fatalf("redact short = %q", got)
	}
}

func BenchmarkPublish(b *testing.B) {
	for _, nsubs := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("subscribers=%d", nsubs), func(b *testing.B) {
			bus := NewBus()
			for range nsubs {
				s, _ := bus.Subscribe(1024, false)
				go func() {
					for range s.C() {
					}
				}()
				defer s.Close()
			}
			e := Event{Hop: ProviderAccepted, Actor: "mockapns", TraceID: "ack-1", Status: "200"}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bus.Publish(e)
				}
			})
			b.ReportMetric(float64(bus.Dropped()), "dropped")
		})
	}
}
