package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestThrottleBucket(t *testing.T) {
	th := newThrottle(3, 10, "")
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _, _ := th.allow("a", now); !ok {
			t.Fatalf("request %d of the burst denied", i+1)
		}
	}
	ok, _, wait := th.allow("a", now)
	if ok || wait <= 0 {
		t.Fatalf("4th request in the same instant: ok=%v wait=%v", ok, wait)
	}
	if ok, _, _ := th.allow("b", now); !ok {
		t.Fatal("another client was throttled by the first")
	}
	// After the announced wait the bucket has a token again.
	if ok, _, _ := th.allow("a", now.Add(wait)); !ok {
		t.Fatal("denied after the announced wait")
	}
}

func TestThrottleStoreIsBounded(t *testing.T) {
	th := newThrottle(1, 3, "")
	now := time.Unix(1000, 0)
	for _, k := range []string{"a", "b", "c", "d"} {
		th.allow(k, now)
	}
	if th.len() != 3 {
		t.Fatalf("store holds %d clients, want 3", th.len())
	}
	// "a" was forgotten (least recently seen) and starts with a full bucket.
	if ok, _, _ := th.allow("a", now); !ok {
		t.Fatal("the forgotten client was still throttled")
	}
	// "c" is remembered and still empty.
	if ok, _, _ := th.allow("c", now); ok {
		t.Fatal("a remembered client got a second token in the same instant")
	}
	if newThrottle(0, 10, "") != nil {
		t.Fatal("ThrottlePerSec 0 should disable throttling")
	}
}

func TestThrottleKey(t *testing.T) {
	th := newThrottle(1, 10, "X-Forwarded-For X-Real-IP")
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	if k := th.key(r); k != "10.1.2.3" {
		t.Fatalf("no header: key %q, want the remote IP", k)
	}
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	if k := th.key(r); k != "X-Forwarded-For=198.51.100.7" {
		t.Fatalf("key %q", k)
	}
}

// UpstreamThrottleKey: requests without a vary-by value share one bucket,
// whatever their IP.
func TestThrottleSharedKey(t *testing.T) {
	th := newThrottle(1, 10, "X-Forwarded-For")
	th.shared = true
	a := httptest.NewRequest(http.MethodPost, "/", nil)
	a.RemoteAddr = "10.1.2.3:5555"
	b := httptest.NewRequest(http.MethodPost, "/", nil)
	b.RemoteAddr = "10.9.9.9:5555"
	if th.key(a) != th.key(b) {
		t.Fatalf("keys %q and %q differ", th.key(a), th.key(b))
	}
	b.Header.Set("X-Forwarded-For", "198.51.100.7")
	if th.key(a) == th.key(b) {
		t.Fatal("a vary-by value should still key its own bucket")
	}
}

// Over the limit a client gets upstream's 429; others and /healthz do not.
func TestThrottleHTTP(t *testing.T) {
	f := &fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 200}}}
	var logs *logBuffer
	cfg := runConfig{Config: Config{FileConfig: FileConfig{ThrottlePerSec: 2, ThrottleVaryByHeader: "X-Forwarded-For", EnableMetrics: true}}}
	cfg.Logger, logs = testLogger(t)
	s, _ := newFakeServer(t, cfg, f)
	body := `{"platform":"fake","server_id":"s","device_id":"d"}`
	send := func(client string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/send_push", strings.NewReader(body))
		req.Header.Set("X-Forwarded-For", client)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	// A burst of ThrottlePerSec passes whatever the clock does next; the
	// request after it, in the same second, cannot have a token yet unless a
	// full 500 ms passed, so send until one is denied (bounded).
	var denied *httptest.ResponseRecorder
	for i := 0; i < 50 && denied == nil; i++ {
		if rec := send("198.51.100.7"); rec.Code == http.StatusTooManyRequests {
			denied = rec
		}
	}
	if denied == nil {
		t.Fatal("never throttled")
	}
	if denied.Body.String() != "limit exceeded\n" || denied.Header().Get("Retry-After") == "" ||
		denied.Header().Get("X-RateLimit-Limit") != "2" || denied.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429: body %q headers %v", denied.Body.String(), denied.Header())
	}
	if rec := send("203.0.113.9"); rec.Code != http.StatusOK {
		t.Fatalf("another client: %d", rec.Code)
	}
	for i := 0; i < 5; i++ {
		if code, _ := get(t, s.Handler(), "/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz throttled: %d", code)
		}
	}
	if !strings.Contains(logs.String(), "request throttled") {
		t.Fatal("throttling not logged")
	}
	_, metrics := get(t, s.Handler(), "/metrics")
	if !strings.Contains(metrics, "pushlab_proxy_throttled_total ") {
		t.Fatalf("metrics:\n%s", metrics)
	}
}
