package proxy

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mmpush"
)

func TestVerdictTable(t *testing.T) {
	answer := func(status int, reason string) outcome {
		return outcome{Kind: kindAnswer, Status: status, Reason: reason}
	}
	cases := []struct {
		name   string
		p      Provider
		o      outcome
		status string
		retry  Retry
	}{
		{"apns ok", APNs, answer(200, ""), mmpush.StatusOK, NoRetry},
		{"fcm ok", FCM, answer(200, ""), mmpush.StatusOK, NoRetry},
		{"apns BadDeviceToken", APNs, answer(400, "BadDeviceToken"), mmpush.StatusRemove, NoRetry},
		{"apns Unregistered", APNs, answer(410, "Unregistered"), mmpush.StatusRemove, NoRetry},
		{"apns MissingDeviceToken", APNs, answer(400, "MissingDeviceToken"), mmpush.StatusRemove, NoRetry},
		{"apns DeviceTokenNotForTopic", APNs, answer(400, "DeviceTokenNotForTopic"), mmpush.StatusRemove, NoRetry},
		{"apns ExpiredToken is not one of upstream's four", APNs, answer(410, "ExpiredToken"), mmpush.StatusFail, NoRetry},
		{"apns TopicDisallowed", APNs, answer(400, "TopicDisallowed"), mmpush.StatusFail, NoRetry},
		{"apns BadCertificateEnvironment", APNs, answer(403, "BadCertificateEnvironment"), mmpush.StatusFail, NoRetry},
		{"apns ExpiredProviderToken: a 4xx is never retried", APNs, answer(403, "ExpiredProviderToken"), mmpush.StatusFail, NoRetry},
		{"apns PayloadTooLarge", APNs, answer(413, "PayloadTooLarge"), mmpush.StatusFail, NoRetry},
		{"apns TooManyRequests", APNs, answer(429, "TooManyRequests"), mmpush.StatusFail, RetryByProxy},
		{"apns InternalServerError", APNs, answer(500, "InternalServerError"), mmpush.StatusFail, RetryByProxy},
		{"apns ServiceUnavailable", APNs, answer(503, "ServiceUnavailable"), mmpush.StatusFail, RetryByProxy},
		{"apns Shutdown", APNs, answer(503, "Shutdown"), mmpush.StatusFail, RetryByProxy},
		{"fcm UNREGISTERED", FCM, answer(404, "UNREGISTERED"), mmpush.StatusRemove, NoRetry},
		{"fcm SENDER_ID_MISMATCH", FCM, answer(403, "SENDER_ID_MISMATCH"), mmpush.StatusRemove, NoRetry},
		{"fcm INVALID_ARGUMENT, even for a malformed token, as upstream", FCM, answer(400, "INVALID_ARGUMENT"), mmpush.StatusFail, NoRetry},
		{"fcm QUOTA_EXCEEDED", FCM, answer(429, "QUOTA_EXCEEDED"), mmpush.StatusFail, RetryByProxy},
		{"fcm INTERNAL", FCM, answer(500, "INTERNAL"), mmpush.StatusFail, RetryByProxy},
		{"fcm UNAVAILABLE: the SDK retried it", FCM, answer(503, "UNAVAILABLE"), mmpush.StatusFail, RetriedByClient},
		{"fcm THIRD_PARTY_AUTH_ERROR", FCM, answer(401, "THIRD_PARTY_AUTH_ERROR"), mmpush.StatusFail, NoRetry},
		{"fcm refused OAuth", FCM, answer(401, "UNAUTHENTICATED"), mmpush.StatusFail, NoRetry},
		{"sent, unanswered", APNs, outcome{Kind: kindUnconfirmed}, mmpush.StatusFail, NoRetry},
		{"fcm sent, unanswered", FCM, outcome{Kind: kindUnconfirmed}, mmpush.StatusFail, NoRetry},
		{"apns never sent", APNs, outcome{Kind: kindTransport}, mmpush.StatusFail, RetryByProxy},
		{"fcm never sent: the SDK retried it", FCM, outcome{Kind: kindTransport}, mmpush.StatusFail, RetriedByClient},
		{"timed out before sending", APNs, outcome{Kind: kindTimeout}, mmpush.StatusFail, RetryByProxy},
		{"fcm timed out before sending", FCM, outcome{Kind: kindTimeout}, mmpush.StatusFail, RetryByProxy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := judge(c.p, c.o)
			if v.Status != c.status || v.Retry != c.retry {
				t.Fatalf("judge = %s retry %s, want %s retry %s", v.Status, v.Retry, c.status, c.retry)
			}
		})
	}
}

// Every 4xx but 429 is final, whatever the reason and provider.
func TestNoFourXXIsRetried(t *testing.T) {
	for _, p := range []Provider{APNs, FCM} {
		for status := 400; status < 500; status++ {
			v := judge(p, outcome{Kind: kindAnswer, Status: status, Reason: "Anything"})
			if (v.Retry != NoRetry) != (status == 429) {
				t.Errorf("%s %d: retry %s", p, status, v.Retry)
			}
		}
	}
}

func TestRefine(t *testing.T) {
	cases := []struct {
		name     string
		o        outcome
		a        *attempts
		timedOut bool
		want     outcomeKind
		status   int
	}{
		{"answer keeps its kind", outcome{Kind: kindAnswer, Status: 500}, &attempts{n: 1, lastStatus: 500}, false, kindAnswer, 500},
		{"sent and unanswered is unconfirmed", outcome{Kind: kindTransport}, &attempts{n: 1, unanswered: true}, true, kindUnconfirmed, 0},
		{"a synthetic 504 for an unanswered request is unconfirmed", outcome{Kind: kindAnswer, Status: 504, Reason: "DEADLINE_EXCEEDED"}, &attempts{n: 1, unanswered: true}, false, kindUnconfirmed, 0},
		{"deadline before sending is a timeout", outcome{Kind: kindTransport}, &attempts{n: 1}, true, kindTimeout, 0},
		{"dial failure is transport", outcome{Kind: kindTransport}, &attempts{n: 1}, false, kindTransport, 0},
		{"the SDK had an answer when the deadline cut its retries", outcome{Kind: kindTransport}, &attempts{n: 2, lastStatus: 503}, true, kindAnswer, 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := refine(c.o, c.a, c.timedOut)
			if got.Kind != c.want || got.Status != c.status {
				t.Fatalf("refine = kind %d status %d, want %d %d", got.Kind, got.Status, c.want, c.status)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format("Mon, 02 Jan 2006 15:04:05 GMT"): 90 * time.Second,
		now.Add(-time.Minute).Format("Mon, 02 Jan 2006 15:04:05 GMT"):     0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestRetryLoop(t *testing.T) {
	ans := func(status int, reason string, ra time.Duration) outcome {
		return outcome{Kind: kindAnswer, Status: status, Reason: reason, RetryAfter: ra}
	}
	ok := ans(200, "", 0)
	cases := []struct {
		name      string
		p         Provider
		tries     []outcome
		wantBody  string
		wantTries int
		wantWaits []time.Duration
		policy    ResendPolicy // "": the default
	}{
		{"first try", APNs, []outcome{ok}, `{"status":"OK"}`, 1, nil, ""},
		{"503 then ok: backoff", APNs, []outcome{ans(503, "ServiceUnavailable", 0), ok}, `{"status":"OK"}`, 2, []time.Duration{time.Second}, ""},
		{"429 with a longer Retry-After: honoured", APNs, []outcome{ans(429, "TooManyRequests", 3*time.Second), ok}, `{"status":"OK"}`, 2, []time.Duration{3 * time.Second}, ""},
		{"500 three times: doubling backoff, then FAIL", APNs, []outcome{ans(500, "InternalServerError", 0)},
			`{"error":"fake: InternalServerError","status":"FAIL"}`, 3, []time.Duration{time.Second, 2 * time.Second}, ""},
		{"4xx: one try", APNs, []outcome{ans(400, "BadTopic", 0)}, `{"error":"fake: BadTopic","status":"FAIL"}`, 1, nil, ""},
		{"dead token: one try", APNs, []outcome{ans(410, "Unregistered", 0)}, `{"status":"REMOVE"}`, 1, nil, ""},
		{"retried by the SDK: one try", FCM, []outcome{ans(503, "UNAVAILABLE", 0)}, `{"error":"fake: UNAVAILABLE","status":"FAIL"}`, 1, nil, ""},
		{"unconfirmed, ResendPolicy never: not resent", APNs, []outcome{{Kind: kindUnconfirmed}}, `{"error":"fake: unconfirmed","status":"FAIL"}`, 1, nil, ResendNever},
		{"unconfirmed: resent", APNs, []outcome{{Kind: kindUnconfirmed}, ok}, `{"status":"OK"}`, 2, []time.Duration{time.Second}, ""},
		{"unconfirmed, ResendPolicy upstream: resent", FCM, []outcome{{Kind: kindUnconfirmed}, ok}, `{"status":"OK"}`, 2, []time.Duration{time.Second}, ResendUpstream},
		{"unconfirmed every time, ResendPolicy upstream: FAIL after MaxTries", APNs, []outcome{{Kind: kindUnconfirmed}}, `{"error":"fake: unconfirmed","status":"FAIL"}`, 3, []time.Duration{time.Second, 2 * time.Second}, ResendUpstream},
		{"unconfirmed every time: tried while the backoff fits in SendTimeoutSec", APNs, []outcome{{Kind: kindUnconfirmed}}, `{"error":"fake: unconfirmed","status":"FAIL"}`, 6,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}, ""},
		{"500 then unconfirmed: answered tries count against MaxTries, unanswered ones do not", APNs,
			[]outcome{ans(500, "InternalServerError", 0), ans(500, "InternalServerError", 0), {Kind: kindUnconfirmed}, ans(500, "InternalServerError", 0)},
			`{"error":"fake: InternalServerError","status":"FAIL"}`, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, ""},
		{"Retry-After beyond the total timeout: not waited for", FCM, []outcome{ans(429, "QUOTA_EXCEEDED", time.Hour), ok},
			`{"error":"fake: QUOTA_EXCEEDED","status":"FAIL"}`, 1, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bus := events.NewBus()
			f := &fakeSender{p: c.p, tries: c.tries}
			s, waits := newFakeServer(t, runConfig{Config: Config{FileConfig: FileConfig{EnableMetrics: true}, Settings: Settings{ResendPolicy: c.policy}}, Options: Options{Bus: bus}}, f)
			_, body := post(t, s.Handler(), "/api/v1/send_push", `{"ack_id":"A","platform":"fake","server_id":"s","device_id":"0123456789abcdef"}`)
			if body != c.wantBody+"\n" {
				t.Fatalf("body %q, want %q", body, c.wantBody)
			}
			if f.count() != c.wantTries {
				t.Fatalf("tries = %d, want %d", f.count(), c.wantTries)
			}
			if len(*waits) != len(c.wantWaits) || (len(c.wantWaits) > 0 && !slices.Equal(*waits, c.wantWaits)) {
				t.Fatalf("waits = %v, want %v", *waits, c.wantWaits)
			}
			// The trace: received, one forwarded per try, responded.
			tr := bus.Trace("A")
			if len(tr) != c.wantTries+2 || tr[0].Hop != events.ProxyReceived || tr[len(tr)-1].Hop != events.ProxyResponded {
				t.Fatalf("trace: %v", hops(tr))
			}
			for i, e := range tr[1 : len(tr)-1] {
				if e.Hop != events.ProxyForwarded || e.Attrs["try"] != strconv.Itoa(i+1) || e.Attrs["provider"] != string(c.p) {
					t.Fatalf("forwarded %d: %+v", i, e)
				}
				if strings.Contains(string(e.JSON()), "0123456789abcdef") {
					t.Fatalf("event carries the whole device token: %s", e.JSON())
				}
			}
			_, metrics := get(t, s.Handler(), "/metrics")
			if retries := c.wantTries - 1; retries > 0 && !strings.Contains(metrics, "pushlab_proxy_retries_total{provider=\""+string(c.p)+"\"") {
				t.Fatalf("no retries metric:\n%s", metrics)
			}
		})
	}
}

func TestSendAPI(t *testing.T) {
	f := &fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 410, Reason: "Unregistered"}}}
	s, _ := newFakeServer(t, runConfig{}, f)
	resp, err := s.Send(context.Background(), mmpush.PushNotification{Platform: "fake", ServerID: "s", DeviceID: "d"})
	if resp.Status != mmpush.StatusRemove || !IsRemove(err) || IsRetryable(err) {
		t.Fatalf("Send = %+v, %v", resp, err)
	}
	f.tries = []outcome{{Kind: kindAnswer, Status: 500, Reason: "InternalServerError"}}
	_, err = s.Send(context.Background(), mmpush.PushNotification{Platform: "fake", ServerID: "s", DeviceID: "d"})
	if IsRemove(err) || !IsRetryable(err) || !strings.Contains(err.Error(), "after 3 tries") {
		t.Fatalf("err = %v", err)
	}
	_, err = s.Send(context.Background(), mmpush.PushNotification{Platform: "fake", ServerID: "s"})
	if !errors.Is(err, ErrMissingDeviceID) || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	if resp, err := s.Send(context.Background(), mmpush.PushNotification{Platform: "nope", ServerID: "s", DeviceID: "d"}); !errors.Is(err, ErrUnknownPlatform) || resp.Status != mmpush.StatusFail {
		t.Fatalf("Send = %+v, %v", resp, err)
	}
}

func hops(tr []events.Event) []events.Hop {
	var out []events.Hop
	for _, e := range tr {
		out = append(out, e.Hop)
	}
	return out
}

// A transport error that quotes the request URL (apns2's do) reaches the
// logs, the events and the answer with the token redacted.
func TestTokenRedactedInErrors(t *testing.T) {
	const tok = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	f := &fakeSender{p: APNs, tries: []outcome{{Kind: kindTransport,
		Message: `Post "https://api.push.apple.com/3/device/` + tok + `": dial tcp: no such host`}}}
	bus := events.NewBus()
	var logs *logBuffer
	cfg := runConfig{Config: Config{Settings: Settings{MaxTries: 1}}, Options: Options{Bus: bus}}
	cfg.Logger, logs = testLogger(t)
	s, _ := newFakeServer(t, cfg, f)
	s.targets["fake"].sender = &echoSender{f}
	_, body := post(t, s.Handler(), "/api/v1/send_push", `{"ack_id":"A","platform":"fake","server_id":"s","device_id":"`+tok+`"}`)
	var evs strings.Builder
	for _, e := range bus.History() {
		evs.Write(e.JSON())
	}
	for where, text := range map[string]string{"answer": body, "logs": logs.String(), "events": evs.String()} {
		if strings.Contains(text, tok) {
			t.Errorf("%s carry the whole token:\n%s", where, text)
		}
	}
	if !strings.Contains(body, "a1b2…8f90") {
		t.Errorf("answer %q lacks the redacted token", body)
	}
}

// echoSender answers FAIL with the outcome's message, as the FCM sender does.
type echoSender struct{ *fakeSender }

func (e *echoSender) failText(o outcome) string { return o.Message }
