package mockkit

import (
	"testing"
	"time"
)

// A key gets max requests per window, the window starts with its first
// request, and a refused request learns how long until the window ends.
func TestRateLimit(t *testing.T) {
	l := NewRateLimit(2, time.Minute)
	t0 := time.Unix(1000, 0)
	for i := range 2 {
		if _, ok := l.Allow("a", t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	if wait, ok := l.Allow("a", t0.Add(20*time.Second)); ok || wait != 40*time.Second {
		t.Fatalf("third request: wait %v, ok %v; want refused for 40s", wait, ok)
	}
	if _, ok := l.Allow("b", t0.Add(20*time.Second)); !ok {
		t.Fatal("another key refused")
	}
	if _, ok := l.Allow("a", t0.Add(time.Minute)); !ok {
		t.Fatal("refused in the next window")
	}
	var off *RateLimit = NewRateLimit(0, time.Minute)
	for range 3 {
		if _, ok := off.Allow("a", t0); !ok {
			t.Fatal("no limit refused a request")
		}
	}
}
