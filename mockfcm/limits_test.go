package mockfcm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/mockfcm"
)

// TestProjectQuota: past the project's messages per minute FCM answers 429
// QUOTA_EXCEEDED with Retry-After until the minute (started by the first
// message, not the clock) is over; client errors count, 429s do not.
func TestProjectQuota(t *testing.T) {
	f := newFixture(t, false, func(c *mockfcm.Config) { c.ProjectQuotaPerMinute = 3 })
	dev := f.device(t, testProjectA, "com.example", true)
	if _, err := f.client.Send(f.ctx, msgTo(dev.reg.Token)); err != nil {
		t.Fatal(err)
	}
	// A client error counts toward the quota.
	if _, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"from": "x"}}); !messaging.IsInvalidArgument(err) {
		t.Fatalf("reserved key: %v", err)
	}
	f.clock.Advance(15 * time.Second)
	if _, err := f.client.Send(f.ctx, msgTo(dev.reg.Token)); err != nil {
		t.Fatal(err)
	}
	_, err := f.client.Send(f.ctx, msgTo(dev.reg.Token))
	if !messaging.IsQuotaExceeded(err) || !errorutils.IsResourceExhausted(err) {
		t.Fatalf("4th message in a minute: %v", err)
	}
	if r := errorutils.HTTPResponse(err); r == nil || r.StatusCode != 429 || r.Header.Get("Retry-After") != "45" {
		t.Fatalf("response %+v", r)
	}
	// The 429 itself did not count: after the minute, three more go through.
	f.clock.Advance(45 * time.Second)
	for i := range 3 {
		if _, err := f.client.Send(f.ctx, msgTo(dev.reg.Token)); err != nil {
			t.Fatalf("next minute, message %d: %v", i, err)
		}
	}
}

// TestTokenExpiresAfterInactivity drives the 270-day rule through the control
// API's clock: a token whose device never connected again is UNREGISTERED
// (and NOT_FOUND to topic management); one that came online meanwhile lives.
func TestTokenExpiresAfterInactivity(t *testing.T) {
	f := newFixture(t, false)
	idle := f.device(t, testProjectA, "com.example", false)
	active := f.device(t, testProjectA, "com.example", false)
	advance := func(d time.Duration) {
		t.Helper()
		body := fmt.Sprintf(`{"advance":%q}`, d.String())
		resp, err := http.Post(f.s.ControlURL+"/control/clock", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Now    time.Time
			Offset string
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
			t.Fatalf("clock: %d", resp.StatusCode)
		}
	}
	advance(200 * 24 * time.Hour)
	f.s.Attach(active.reg.Token, mockfcm.ReceiverFunc(func(mockfcm.Delivery) {}))
	advance(70*24*time.Hour - time.Minute)
	if _, err := f.client.Send(f.ctx, msgTo(idle.reg.Token)); err != nil {
		t.Fatalf("a minute short of 270 days: %v", err)
	}
	advance(time.Minute)
	_, err := f.client.Send(f.ctx, msgTo(idle.reg.Token))
	if !messaging.IsUnregistered(err) {
		t.Fatalf("270 days inactive: %v", err)
	}
	if r := errorutils.HTTPResponse(err); r == nil || r.StatusCode != 404 {
		t.Fatalf("response %+v", r)
	}
	if _, err := f.client.Send(f.ctx, msgTo(active.reg.Token)); err != nil {
		t.Fatalf("a token whose device came online at day 200: %v", err)
	}
	resp, err := f.client.SubscribeToTopic(f.ctx, []string{idle.reg.Token, active.reg.Token}, "news")
	if err != nil || resp.FailureCount != 1 || resp.Errors[0].Index != 0 || resp.Errors[0].Reason != "NOT_FOUND" {
		t.Fatalf("subscribe: %+v %v", resp, err)
	}
	// A bad clock request is refused and changes nothing.
	r, err := http.Post(f.s.ControlURL+"/control/clock", "application/json", bytes.NewReader([]byte(`{"advance":"1h","reset":true}`)))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 400 {
		t.Fatalf("two moves at once: %d", r.StatusCode)
	}
}

// TestTooManyTopics: an app instance holds at most 2,000 topics; the 2,001st
// is TOO_MANY_TOPICS for that token only, while a topic it already has is fine.
func TestTooManyTopics(t *testing.T) {
	f := newFixture(t, false)
	full := f.device(t, testProjectA, "com.example", true)
	fresh := f.device(t, testProjectA, "com.example", true)
	for i := range mockfcm.MaxTopicsPerInstance {
		if err := f.s.Subscribe(full.reg.Token, fmt.Sprintf("t%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.Subscribe(full.reg.Token, "one-more"); err == nil {
		t.Fatal("Subscribe past 2000 topics succeeded")
	}
	resp, err := f.client.SubscribeToTopic(f.ctx, []string{full.reg.Token, fresh.reg.Token}, "news")
	if err != nil || resp.SuccessCount != 1 || resp.FailureCount != 1 || resp.Errors[0].Index != 0 || resp.Errors[0].Reason != "TOO_MANY_TOPICS" {
		t.Fatalf("subscribe: %+v %v", resp, err)
	}
	if resp, err := f.client.SubscribeToTopic(f.ctx, []string{full.reg.Token}, "t7"); err != nil || resp.SuccessCount != 1 {
		t.Fatalf("a topic it has: %+v %v", resp, err)
	}
	if got := len(f.s.Topics(full.reg.Token)); got != mockfcm.MaxTopicsPerInstance {
		t.Fatalf("%d topics", got)
	}
}

// TestBatchLimit: a batch of more than 1,000 app instances is refused whole
// (the SDK refuses it before sending; a raw client gets 400).
func TestBatchLimit(t *testing.T) {
	f := newFixture(t, false)
	a, _ := accounts(t)
	tok := accessToken(t, f, a, mockfcm.ScopeCloudPlatform)
	dev := f.device(t, testProjectA, "com.example", true)
	tokens := make([]string, mockfcm.MaxBatchInstances+1)
	for i := range tokens {
		tokens[i] = dev.reg.Token
	}
	for _, n := range []int{mockfcm.MaxBatchInstances, mockfcm.MaxBatchInstances + 1} {
		body, _ := json.Marshal(map[string]any{"to": "/topics/news", "registration_tokens": tokens[:n]})
		req, _ := http.NewRequest("POST", f.s.URL+"/iid/v1:batchAdd", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("access_token_auth", "true")
		resp, err := f.s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 200, false: 400}[n <= mockfcm.MaxBatchInstances]; resp.StatusCode != want {
			t.Fatalf("%d tokens: %d, want %d", n, resp.StatusCode, want)
		}
	}
	if _, err := f.client.SubscribeToTopic(f.ctx, tokens, "news"); err == nil {
		t.Fatal("the SDK sent 1,001 tokens")
	}
}
