package events

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func dialTest(t *testing.T, srv *httptest.Server, query string) *Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestHandlerStreamsHistoryThenLive(t *testing.T) {
	b := NewBus()
	b.Publish(Event{Hop: ServerSent, TraceID: "a", Actor: "server"})
	b.Publish(Event{Hop: ProxyReceived, TraceID: "a", Actor: "proxy"})
	srv := httptest.NewServer(Handler(b))
	defer srv.Close()

	s := dialTest(t, srv, "")
	for _, want := range []Hop{ServerSent, ProxyReceived} {
		e, gap, err := s.Next()
		if err != nil || gap != nil || e.Hop != want {
			t.Fatalf("got %+v gap=%v err=%v, want %s", e, gap, err, want)
		}
	}
	b.Publish(Event{Hop: ProviderAccepted, TraceID: "a", Actor: "mockapns", Attrs: map[string]string{"apns-id": "x"}})
	e, gap, err := s.Next()
	if err != nil || gap != nil || e.Hop != ProviderAccepted || e.Seq != 3 || e.Attrs["apns-id"] != "x" {
		t.Fatalf("live event %+v gap=%v err=%v", e, gap, err)
	}
}

func TestHandlerSinceResumes(t *testing.T) {
	b := NewBus()
	for range 4 {
		b.Publish(Event{Hop: ServerSent})
	}
	srv := httptest.NewServer(Handler(b))
	defer srv.Close()
	s := dialTest(t, srv, "?since=2")
	e, _, err := s.Next()
	if err != nil || e.Seq != 3 {
		t.Fatalf("first after since=2: %+v %v", e, err)
	}
}

func TestStreamReportsGap(t *testing.T) {
	// A server that skips seq 3 and 4, as a bus does for a reader that overflowed.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for _, seq := range []uint64{1, 2, 5, 6} {
			conn.WriteMessage(websocket.TextMessage, Event{Seq: seq, Hop: ServerSent}.JSON())
		}
		conn.ReadMessage() // until the reader leaves
	}))
	defer srv.Close()
	s := dialTest(t, srv, "")
	var gaps []Gap
	for range 4 {
		_, gap, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if gap != nil {
			gaps = append(gaps, *gap)
		}
	}
	if len(gaps) != 1 || gaps[0] != (Gap{After: 2, Next: 5}) || gaps[0].Missing() != 2 {
		t.Fatalf("gaps = %+v, want one 2→5 missing 2", gaps)
	}
}

func TestOverflowingReaderSeesGapOverWebsocket(t *testing.T) {
	b := NewBus()
	srv := httptest.NewServer(Handler(b))
	defer srv.Close()
	s := dialTest(t, srv, "?history=0&buffer=1")
	// Wait until the server-side subscription exists.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.subs)
		b.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscriber never attached")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Publish far more than a one-event buffer and the socket buffers (20 MB)
	// hold while the reader is idle: the server-side writer must fall behind.
	for range 5000 {
		b.Publish(Event{Hop: ServerSent, Payload: strings.Repeat("p", 4000)})
	}
	if b.Dropped() == 0 {
		t.Fatal("5000 events into a one-event buffer of an idle reader dropped nothing")
	}
	// Keep offering a marker until the reader has seen a gap and a marker:
	// the marker itself may be dropped while the buffer is full.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				b.Publish(Event{Hop: ProxyAcked})
			}
		}
	}()
	sawGap := false
	for {
		e, gap, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if gap != nil {
			sawGap = true
		}
		if e.Hop == ProxyAcked && sawGap {
			break
		}
	}
}
