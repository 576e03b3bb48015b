package mockkit

import (
	"maps"
	"net/http"
	"testing"

	"github.com/pushlab/pushlab/pushtest"
)

func TestRecorderCountsEveryAnswer(t *testing.T) {
	rc := NewRecorder(2)
	for _, r := range []pushtest.Request{{Status: 200}, {Status: 410, Reason: "Unregistered"}, {Status: 200},
		{Status: 200, Reason: "odd"}, {Status: 410, Reason: "Unregistered"}, {Status: 200}} {
		rc.Add(r)
	}
	want := map[Answer]uint64{{Status: 200}: 3, {410, "Unregistered"}: 2, {200, "odd"}: 1}
	if got := rc.Counts(); !maps.Equal(got, want) {
		t.Fatalf("Counts() = %v, want %v", got, want)
	}
	if got := rc.Since(0); len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 6 {
		t.Fatalf("Since(0) = %+v, want the last two (seq 5, 6)", got)
	}
	if got := NewRecorder(1).Counts(); len(got) != 0 {
		t.Fatalf("a new recorder counts %v", got)
	}
}

func TestSinceHandsOutCopies(t *testing.T) {
	rc := NewRecorder(4)
	shared := map[string]string{"apns-topic": "t"}
	rc.Add(pushtest.Request{Status: 200, Headers: shared})
	rc.Add(pushtest.Request{Status: 200, Headers: shared})
	got := rc.Since(0)
	got[0].Headers["apns-topic"] = "changed"
	if again := rc.Since(0); again[1].Headers["apns-topic"] != "t" || again[0].Headers["apns-topic"] != "t" {
		t.Errorf("a reader's write reached the records: %v", again)
	}
}

func TestRecorderBuildsHeadersWhenRead(t *testing.T) {
	rc := NewRecorder(4)
	h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer secret"}}
	rc.AddWith(pushtest.Request{Status: 200}, Headers{From: h, Shown: [][2]string{{"Content-Type", "content-type"}, {"User-Agent", "user-agent"}}, Proto: "HTTP/2.0"})
	rc.Add(pushtest.Request{Status: 200, Headers: map[string]string{"as": "given"}})
	want := []map[string]string{{"content-type": "application/json", "proto": "HTTP/2.0"}, {"as": "given"}}
	for range 2 { // built once, the same when read again
		got := rc.Since(0)
		if len(got) != 2 || !maps.Equal(got[0].Headers, want[0]) || !maps.Equal(got[1].Headers, want[1]) {
			t.Fatalf("Since(0) = %+v, want headers %v", got, want)
		}
	}
	if got := rc.Since(2); got == nil || len(got) != 0 {
		t.Fatalf("Since(2) = %#v, want an empty, non-nil log", got)
	}
}
