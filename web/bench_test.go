package web

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
)

// benchClients connects n browsers that read as fast as they can and
// count the published frames they get.
func benchClients(b *testing.B, n int) (*Server, *atomic.Int64, func()) {
	b.Helper()
	t := &testing.T{}
	s, srv := newTestView(t, Config{History: 50000, ClientQueue: DefaultClientQueue})
	var got atomic.Int64
	var wg sync.WaitGroup
	var conns []*wsClient
	for range n {
		c, _, err := dialView(t, srv, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, msg, err := c.conn.ReadMessage()
				if err != nil {
					return
				}
				// Count event frames without decoding them.
				got.Add(int64(bytes.Count(msg, []byte(`"k":"ev"`))))
			}
		}()
	}
	for s.hub.clientCount() < n {
		time.Sleep(time.Millisecond)
	}
	stop := func() {
		for _, c := range conns {
			c.conn.Close()
		}
		wg.Wait()
		srv.Close()
		s.Close()
	}
	return s, &got, stop
}

func benchEvent(i int) events.Event {
	return events.Event{Seq: uint64(i), TraceID: fmt.Sprintf("ack%08d", i/12), Hop: events.ProviderAccepted, Actor: "mockapns",
		At: time.Now(), Status: "200", Detail: "accepted", Attrs: map[string]string{"apns-id": "8f0e1d2c-aaaa-bbbb-cccc-0123456789ab", "token": "a1b2…c3d4"}}
}

// BenchmarkHubPublish is the publisher's cost per event, as fast as it can
// go, with no browser and with 20 reading ones (the fan-out is the hub's
// work; browsers that fall behind are evicted, never waited for).
func BenchmarkHubPublish(b *testing.B) {
	for _, n := range []int{0, 20} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			s, _, stop := benchClients(b, n)
			defer stop()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s.event("lab", benchEvent(i))
			}
			b.StopTimer()
			b.ReportMetric(float64(s.hub.evicted.Load()), "evicted")
		})
	}
}

// BenchmarkHubFanOut10kPerSecond publishes at 10,000 events/s to 20
// browsers, as a load run does: publish-ns/event is the publisher's own
// time per event, evicted must stay 0, and every browser gets every event.
func BenchmarkHubFanOut10kPerSecond(b *testing.B) {
	const rate, clients, burst = 10000, 20, 100
	s, got, stop := benchClients(b, clients)
	defer stop()
	var publishing time.Duration
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; {
		// Pace in bursts: the schedule, not the sleep, sets the rate.
		due := start.Add(time.Duration(i) * time.Second / rate)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		t0 := time.Now()
		for j := 0; j < burst && i < b.N; j++ {
			s.event("lab", benchEvent(i))
			i++
		}
		publishing += time.Since(t0)
	}
	elapsed := time.Since(start)
	// Let the browsers drain what is in flight.
	want := int64(b.N * clients)
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(publishing.Nanoseconds())/float64(b.N), "publish-ns/event")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(s.hub.evicted.Load()), "evicted")
	b.ReportMetric(float64(got.Load())/float64(want), "delivered-ratio")
}
