package mockfcm_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/testpki"
)

// Service accounts are RSA 2048: make two once for the whole package.
var (
	saOnce       sync.Once
	saA, saB     *testpki.ServiceAccount
	saErr        error
	testProjectA = "pushlab-a"
	testProjectB = "pushlab-b"
)

func accounts(t testing.TB) (*testpki.ServiceAccount, *testpki.ServiceAccount) {
	t.Helper()
	saOnce.Do(func() {
		if saA, saErr = testpki.NewServiceAccount(testProjectA, ""); saErr != nil {
			return
		}
		saB, saErr = testpki.NewServiceAccount(testProjectB, "")
	})
	if saErr != nil {
		t.Fatal(saErr)
	}
	return saA, saB
}

// clock is a settable clock for the mock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	s      *mockfcm.Server
	bus    *events.Bus
	clock  *clock
	ctx    context.Context
	client *messaging.Client
}

// newFixture starts a mock with both projects registered and a firebase
// messaging client for project A whose token_uri is tokenURI ("" = the mock's
// own TokenURL; testpki.GoogleTokenURI exercises transparent mode).
func newFixture(t testing.TB, transparent bool, opts ...func(*mockfcm.Config)) *fixture {
	t.Helper()
	a, b := accounts(t)
	f := &fixture{bus: events.NewBus(), clock: newClock()}
	cfg := mockfcm.Config{Bus: f.bus, Seed: 7, Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := mockfcm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	f.s = s
	for _, sa := range []*testpki.ServiceAccount{a, b} {
		if err := s.RegisterServiceAccount(sa); err != nil {
			t.Fatal(err)
		}
	}
	f.client = f.sdk(t, a, transparent)
	return f
}

// sdk builds a real firebase messaging client for sa against the mock.
func (f *fixture) sdk(t testing.TB, sa *testpki.ServiceAccount, transparent bool) *messaging.Client {
	t.Helper()
	c := *sa
	c.TokenURI = f.s.TokenURL()
	if transparent {
		c.TokenURI = testpki.GoogleTokenURI
	}
	ctx, opts, err := f.s.SDKOptions(context.Background(), c.JSON())
	if err != nil {
		t.Fatal(err)
	}
	app, err := firebase.NewApp(ctx, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.ctx = ctx
	return client
}

// device registers an Android app and attaches a receiver collecting deliveries.
type device struct {
	reg mockfcm.Registration
	got chan mockfcm.Delivery
}

func (f *fixture) device(t testing.TB, project, pkg string, online bool) *device {
	t.Helper()
	reg, err := f.s.RegisterDevice(pkg, project, "phone")
	if err != nil {
		t.Fatal(err)
	}
	d := &device{reg: reg, got: make(chan mockfcm.Delivery, 200)}
	if online {
		f.s.Attach(reg.Token, mockfcm.ReceiverFunc(func(x mockfcm.Delivery) { d.got <- x }))
	}
	return d
}

func (d *device) next(t *testing.T) mockfcm.Delivery {
	t.Helper()
	select {
	case x := <-d.got:
		return x
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery")
	}
	return mockfcm.Delivery{}
}

func (d *device) none(t *testing.T) {
	t.Helper()
	select {
	case x := <-d.got:
		t.Fatalf("unexpected delivery %s", x.Payload)
	default:
	}
}

// Google's message names: "0:", microseconds, "%", 16 hex digits zero-padded.
var nameRE = regexp.MustCompile(`^projects/pushlab-a/messages/0:\d{16}%[0-9a-f]{16}$`)

func TestSDKSendDelivers(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.mattermost.rn", true)
	if got := len(dev.reg.Token); got < 152 || got > 163 || !strings.Contains(dev.reg.Token, ":APA91b") {
		t.Fatalf("token %q does not look like an FCM token", dev.reg.Token)
	}
	ttl := 90 * time.Second
	name, err := f.client.Send(f.ctx, &messaging.Message{
		Token:   dev.reg.Token,
		Data:    map[string]string{"ack_id": "ack-1", "message": "hello", "type": "message"},
		Android: &messaging.AndroidConfig{Priority: "high", TTL: &ttl, CollapseKey: "chan"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !nameRE.MatchString(name) {
		t.Fatalf("name %q", name)
	}
	d := dev.next(t)
	if d.Provider != "fcm" || d.App != "com.mattermost.rn" || d.Token != dev.reg.Token || !strings.HasSuffix(name, "/"+d.ID) {
		t.Fatalf("delivery %+v", d)
	}
	if want := f.clock.Now().Add(ttl); !d.Expiry.Equal(want) {
		t.Fatalf("expiry %v, want %v", d.Expiry, want)
	}
	if d.Headers["priority"] != "high" || d.CollapseKey != "chan" {
		t.Fatalf("headers %v collapse %q", d.Headers, d.CollapseKey)
	}
	var p struct {
		Data    map[string]string `json:"data"`
		Token   string            `json:"token"`
		Android map[string]any    `json:"android"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Data["message"] != "hello" || p.Token != "" || p.Android["ttl"] != "90s" {
		t.Fatalf("payload %s", d.Payload)
	}
	tr := f.bus.Trace("ack-1")
	if len(tr) != 1 || tr[0].Hop != events.ProviderAccepted || tr[0].Actor != "mockfcm" || tr[0].Attrs["message_id"] != d.ID {
		t.Fatalf("trace %+v", tr)
	}
	if strings.Contains(string(tr[0].JSON()), dev.reg.Token) {
		t.Fatal("event carries the whole token")
	}
	// The request was recorded with the decoded credential, never the access token.
	reqs := f.s.Requests(0)
	last := reqs[len(reqs)-1]
	if last.Status != 200 || last.Auth["client_email"] != saA.ClientEmail || last.Headers["proto"] != "HTTP/2.0" {
		t.Fatalf("recorded %+v", last)
	}
	if reqs[0].Path != "/token" || reqs[0].Status != 200 {
		t.Fatalf("first request %+v, want the token exchange", reqs[0])
	}
}

func TestSDKValidateOnly(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.example", true)
	name, err := f.client.SendDryRun(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"a": "b"}})
	if err != nil || name != "projects/pushlab-a/messages/fake_message_id" {
		t.Fatalf("dry run: %q, %v", name, err)
	}
	dev.none(t)
	f.s.Uninstall(dev.reg.Token)
	if _, err := f.client.SendDryRun(f.ctx, &messaging.Message{Token: dev.reg.Token}); !messaging.IsUnregistered(err) {
		t.Fatalf("dry run to a dead token: %v", err)
	}
}

// predicates are every FCM predicate of the SDK; each case wants exactly one true.
var predicates = map[string]func(error) bool{
	"INVALID_ARGUMENT":       messaging.IsInvalidArgument,
	"UNREGISTERED":           messaging.IsUnregistered,
	"SENDER_ID_MISMATCH":     messaging.IsSenderIDMismatch,
	"QUOTA_EXCEEDED":         messaging.IsQuotaExceeded,
	"UNAVAILABLE":            messaging.IsUnavailable,
	"INTERNAL":               messaging.IsInternal,
	"THIRD_PARTY_AUTH_ERROR": messaging.IsThirdPartyAuthError,
}

func TestSDKErrorPredicates(t *testing.T) {
	f := newFixture(t, false)
	live := f.device(t, testProjectA, "com.example", true)
	other := f.device(t, testProjectB, "com.example", true)
	gone := f.device(t, testProjectA, "com.example", true)
	f.s.Uninstall(gone.reg.Token)
	fake := strings.Repeat("x", 22) + ":APA91b" + strings.Repeat("y", 134)
	big := strings.Repeat("z", 4000)

	cases := []struct {
		name    string
		fault   *mockfcm.Fault
		msg     *messaging.Message
		want    string
		general func(error) bool // errorutils: the top-level google.rpc status
		status  int
		calls   int // send requests the SDK made
		retry   string
	}{
		{"unknown token", nil, &messaging.Message{Token: fake}, "UNREGISTERED", errorutils.IsNotFound, 404, 1, ""},
		{"malformed token", nil, &messaging.Message{Token: "not-a-token"}, "INVALID_ARGUMENT", errorutils.IsInvalidArgument, 400, 1, ""},
		{"uninstalled app", nil, &messaging.Message{Token: gone.reg.Token}, "UNREGISTERED", errorutils.IsNotFound, 404, 1, ""},
		{"token of another project", nil, &messaging.Message{Token: other.reg.Token}, "SENDER_ID_MISMATCH", errorutils.IsPermissionDenied, 403, 1, ""},
		{"oversize data", nil, &messaging.Message{Token: live.reg.Token, Data: map[string]string{"k": big + big}}, "INVALID_ARGUMENT", errorutils.IsInvalidArgument, 400, 1, ""},
		{"oversize topic message", nil, &messaging.Message{Topic: "news", Data: map[string]string{"k": big}}, "INVALID_ARGUMENT", errorutils.IsInvalidArgument, 400, 1, ""},
		{"reserved data key", nil, &messaging.Message{Token: live.reg.Token, Data: map[string]string{"from": "x"}}, "INVALID_ARGUMENT", errorutils.IsInvalidArgument, 400, 1, ""},
		{"google. data key", nil, &messaging.Message{Token: live.reg.Token, Data: map[string]string{"google.c": "x"}}, "INVALID_ARGUMENT", errorutils.IsInvalidArgument, 400, 1, ""},
		{"quota fault", &mockfcm.Fault{Reason: "QUOTA_EXCEEDED", RetryAfter: "30"}, &messaging.Message{Token: live.reg.Token}, "QUOTA_EXCEEDED", errorutils.IsResourceExhausted, 429, 1, "30"},
		{"unavailable, retry-after too long to retry", &mockfcm.Fault{Status: 503, RetryAfter: "121"}, &messaging.Message{Token: live.reg.Token}, "UNAVAILABLE", errorutils.IsUnavailable, 503, 1, "121"},
		{"internal is not retried", &mockfcm.Fault{Reason: "INTERNAL"}, &messaging.Message{Token: live.reg.Token}, "INTERNAL", errorutils.IsInternal, 500, 1, ""},
		{"third party auth", &mockfcm.Fault{Reason: "THIRD_PARTY_AUTH_ERROR"}, &messaging.Message{Token: live.reg.Token}, "THIRD_PARTY_AUTH_ERROR", errorutils.IsUnauthenticated, 401, 1, ""},
		{"status alone", &mockfcm.Fault{Status: 404, Token: live.reg.Token}, &messaging.Message{Token: live.reg.Token}, "UNREGISTERED", errorutils.IsNotFound, 404, 1, ""},
		{"sender id fault", &mockfcm.Fault{Reason: "SENDER_ID_MISMATCH", Count: 1}, &messaging.Message{Token: live.reg.Token}, "SENDER_ID_MISMATCH", errorutils.IsPermissionDenied, 403, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.s.ClearFaults()
			if tc.fault != nil {
				if _, err := f.s.AddFault(*tc.fault); err != nil {
					t.Fatal(err)
				}
			}
			var since uint64
			if before := f.s.Requests(0); len(before) > 0 {
				since = before[len(before)-1].Seq
			}
			_, err := f.client.Send(f.ctx, tc.msg)
			if err == nil {
				t.Fatal("no error")
			}
			for code, is := range predicates {
				if is(err) != (code == tc.want) {
					t.Errorf("%s(err) = %v for %v", code, is(err), err)
				}
			}
			if !tc.general(err) {
				t.Errorf("errorutils predicate false for %v", err)
			}
			resp := errorutils.HTTPResponse(err)
			if resp == nil || resp.StatusCode != tc.status || resp.Header.Get("Retry-After") != tc.retry {
				t.Errorf("response %+v, want status %d retry-after %q", resp, tc.status, tc.retry)
			}
			calls := 0
			for _, r := range f.s.Requests(since) {
				if strings.HasSuffix(r.Path, "messages:send") {
					calls++
				}
			}
			if calls != tc.calls {
				t.Errorf("%d send requests, want %d", calls, tc.calls)
			}
		})
	}
	f.s.ClearFaults()
	if _, err := f.client.Send(f.ctx, &messaging.Message{Token: live.reg.Token}); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
	var rejected int
	for _, e := range f.bus.History() {
		if e.Hop == events.ProviderRejected {
			rejected++
		}
	}
	if rejected != len(cases) {
		t.Fatalf("%d provider.rejected events, want %d", rejected, len(cases))
	}
}

func TestSDKRetriesUnavailable(t *testing.T) {
	cases := []struct {
		name   string
		fault  mockfcm.Fault
		calls  int
		faulty int
	}{
		{"503 with Retry-After 0 is retried", mockfcm.Fault{Status: 503, RetryAfter: "0", Count: 1}, 2, 1},
		{"reset is retried as a network error", mockfcm.Fault{Action: mockfcm.Reset, Count: 1}, 2, 1},
		{"goaway answers, then closes", mockfcm.Fault{Action: mockfcm.GoAway, Count: 1}, 1, 1},
		{"delay only delays", mockfcm.Fault{Latency: time.Millisecond, Count: 1}, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, false)
			dev := f.device(t, testProjectA, "com.example", true)
			if _, err := f.s.AddFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			if _, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"ack_id": "r1"}}); err != nil {
				t.Fatal(err)
			}
			dev.next(t)
			var calls, faulty int
			for _, r := range f.s.Requests(0) {
				if strings.HasSuffix(r.Path, "messages:send") {
					calls++
					if r.Fault != "" {
						faulty++
					}
				}
			}
			if calls != tc.calls || faulty != tc.faulty {
				t.Fatalf("%d send requests (%d faulted), want %d (%d)", calls, faulty, tc.calls, tc.faulty)
			}
			var injected bool
			for _, e := range f.bus.Trace("r1") {
				injected = injected || e.Hop == events.FaultInjected
			}
			if !injected {
				t.Fatal("no fault.injected event")
			}
		})
	}
}

func TestSDKSendEach(t *testing.T) {
	f := newFixture(t, false)
	var devs []*device
	for range 3 {
		devs = append(devs, f.device(t, testProjectA, "com.example", true))
	}
	f.s.Uninstall(devs[1].reg.Token)
	br, err := f.client.SendEachForMulticast(f.ctx, &messaging.MulticastMessage{
		Tokens: []string{devs[0].reg.Token, devs[1].reg.Token, devs[2].reg.Token},
		Data:   map[string]string{"m": "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if br.SuccessCount != 2 || br.FailureCount != 1 || !messaging.IsUnregistered(br.Responses[1].Error) {
		t.Fatalf("multicast: %+v", br)
	}
	devs[0].next(t)
	devs[2].next(t)
	msgs := []*messaging.Message{
		{Token: devs[0].reg.Token},
		{Token: "bad"},
		{Topic: "nobody-listens"},
	}
	br, err = f.client.SendEach(f.ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if br.SuccessCount != 2 || !messaging.IsInvalidArgument(br.Responses[1].Error) {
		t.Fatalf("send each: %+v", br)
	}
}

func TestSDKTopicsAndConditions(t *testing.T) {
	// Transparent: token_uri is Google's and topic management goes to the
	// hard-coded iid.googleapis.com; the transport dials the mock for both.
	f := newFixture(t, true)
	a := f.device(t, testProjectA, "com.example", true)
	b := f.device(t, testProjectA, "com.example", true)
	c := f.device(t, testProjectA, "com.example", true)
	otherProject := f.device(t, testProjectB, "com.example", true)
	resp, err := f.client.SubscribeToTopic(f.ctx, []string{a.reg.Token, b.reg.Token, otherProject.reg.Token, "junk"}, "news")
	if err != nil {
		t.Fatal(err)
	}
	if resp.SuccessCount != 2 || resp.FailureCount != 2 || resp.Errors[0].Index != 2 || resp.Errors[0].Reason != "INVALID_ARGUMENT" || resp.Errors[1].Reason != "INVALID_ARGUMENT" {
		t.Fatalf("subscribe: %+v %+v", resp, resp.Errors)
	}
	if _, err := f.client.SubscribeToTopic(f.ctx, []string{b.reg.Token, c.reg.Token}, "/topics/sports"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Send(f.ctx, &messaging.Message{Topic: "news", Data: map[string]string{"n": "1"}}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{a, b} {
		if got := d.next(t); got.Headers["from"] != "/topics/news" {
			t.Fatalf("from %q", got.Headers["from"])
		}
	}
	c.none(t)
	otherProject.none(t)
	if _, err := f.client.Send(f.ctx, &messaging.Message{Condition: "'news' in topics && ('sports' in topics || 'cats' in topics)"}); err != nil {
		t.Fatal(err)
	}
	b.next(t)
	a.none(t)
	c.none(t)
	if _, err := f.client.UnsubscribeFromTopic(f.ctx, []string{b.reg.Token}, "news"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Send(f.ctx, &messaging.Message{Topic: "news"}); err != nil {
		t.Fatal(err)
	}
	a.next(t)
	b.none(t)
	if got := f.s.Topics(b.reg.Token); len(got) != 1 || got[0] != "sports" {
		t.Fatalf("b's topics %v", got)
	}
	if _, err := f.client.Send(f.ctx, &messaging.Message{Condition: "'a' in topics &&"}); !messaging.IsInvalidArgument(err) {
		t.Fatalf("bad condition: %v", err)
	}
}

func TestOfflineStorageAndTTL(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.example", false)
	send := func(ack string, ttl time.Duration) {
		t.Helper()
		if _, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"ack_id": ack},
			Android: &messaging.AndroidConfig{TTL: &ttl}}); err != nil {
			t.Fatal(err)
		}
	}
	send("short", 10*time.Second)
	send("long", time.Hour)
	send("never", 0)
	if n := len(f.s.Pending(dev.reg.Token)); n != 2 {
		t.Fatalf("%d pending, want 2", n)
	}
	f.clock.Advance(time.Minute)
	if n := f.s.Attach(dev.reg.Token, mockfcm.ReceiverFunc(func(x mockfcm.Delivery) { dev.got <- x })); n != 1 {
		t.Fatalf("%d handed over, want 1", n)
	}
	got := dev.next(t)
	if !got.Stored || !strings.Contains(string(got.Payload), `"long"`) {
		t.Fatalf("got %+v", got)
	}
	hops := func(trace string) []events.Hop {
		var out []events.Hop
		for _, e := range f.bus.Trace(trace) {
			out = append(out, e.Hop)
		}
		return out
	}
	for trace, want := range map[string][]events.Hop{
		"short": {events.ProviderAccepted, events.ProviderStored, events.ProviderDropped},
		"long":  {events.ProviderAccepted, events.ProviderStored},
		"never": {events.ProviderAccepted, events.ProviderDropped},
	} {
		if got := hops(trace); !equalHops(got, want) {
			t.Errorf("%s: hops %v, want %v", trace, got, want)
		}
	}
}

func TestOfflineOverflowDiscardsAll(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.example", false)
	msgs := make([]*messaging.Message, 101)
	for i := range msgs {
		msgs[i] = &messaging.Message{Token: dev.reg.Token}
	}
	br, err := f.client.SendEach(f.ctx, msgs[:100])
	if err != nil || br.SuccessCount != 100 {
		t.Fatalf("%v %+v", err, br)
	}
	if n := len(f.s.Pending(dev.reg.Token)); n != 100 {
		t.Fatalf("%d pending", n)
	}
	if _, err := f.client.Send(f.ctx, msgs[100]); err != nil {
		t.Fatal(err)
	}
	if n := len(f.s.Pending(dev.reg.Token)); n != 0 {
		t.Fatalf("%d pending after the 101st, want 0 (FCM discards all)", n)
	}
}

func equalHops(a, b []events.Hop) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSDKAccessTokenExpires(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.example", true)
	if _, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token}); err != nil {
		t.Fatal(err)
	}
	// The SDK caches its token by its own clock; on the mock's an hour passes.
	f.clock.Advance(61 * time.Minute)
	_, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token})
	if !errorutils.IsUnauthenticated(err) {
		t.Fatalf("after expiry: %v", err)
	}
	for code, is := range predicates {
		if is(err) {
			t.Errorf("%s true for an auth error (Google sends no FcmError detail)", code)
		}
	}
	if r := errorutils.HTTPResponse(err); r == nil || r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("response %+v", r)
	}
	var fe error = err
	if errors.Unwrap(fe) != nil && !strings.Contains(err.Error(), "invalid authentication credentials") {
		t.Fatalf("message %q", err)
	}
}

func msgTo(token string) *messaging.Message { return &messaging.Message{Token: token} }

func isUnregistered(err error) bool { return messaging.IsUnregistered(err) }

// TestGatewayDevice: a device in another process reaches the mock through the
// control API's /push websocket; a message stored while it was away follows
// when it attaches.
func TestGatewayDevice(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.example", false)
	if _, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"n": "stored"}}); err != nil {
		t.Fatal(err)
	}
	gw, err := mockkit.DialGateway(context.Background(), "ws"+strings.TrimPrefix(f.s.ControlURL, "http")+"/push", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	if err := gw.Attach(dev.reg.Token, mockfcm.ReceiverFunc(func(d mockfcm.Delivery) { dev.got <- d })); err != nil {
		t.Fatal(err)
	}
	if got := dev.next(t); !got.Stored || !strings.Contains(string(got.Payload), "stored") {
		t.Fatalf("first %+v", got)
	}
	// Attach is asynchronous on the wire: wait until the mock sees the device online.
	for i := 0; !f.s.Online(dev.reg.Token); i++ {
		if i > 500 {
			t.Fatal("never online")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"n": "live"}}); err != nil {
		t.Fatal(err)
	}
	if got := dev.next(t); got.Stored || !strings.Contains(string(got.Payload), "live") || got.App != "com.example" {
		t.Fatalf("second %+v", got)
	}
}

func TestDeviceRateLimit(t *testing.T) {
	f := newFixture(t, false, func(c *mockfcm.Config) { c.DeviceRatePerMinute = 3 })
	dev := f.device(t, testProjectA, "com.example", true)
	other := f.device(t, testProjectA, "com.example", true)
	for i := range 3 {
		if _, err := f.client.Send(f.ctx, msgTo(dev.reg.Token)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	f.clock.Advance(20 * time.Second)
	_, err := f.client.Send(f.ctx, msgTo(dev.reg.Token))
	if !messaging.IsQuotaExceeded(err) {
		t.Fatalf("4th send in a minute: %v", err)
	}
	if r := errorutils.HTTPResponse(err); r == nil || r.StatusCode != 429 || r.Header.Get("Retry-After") != "40" {
		t.Fatalf("response %+v", r)
	}
	if _, err := f.client.Send(f.ctx, msgTo(other.reg.Token)); err != nil {
		t.Fatalf("another device is not limited: %v", err)
	}
	f.clock.Advance(40 * time.Second)
	if _, err := f.client.Send(f.ctx, msgTo(dev.reg.Token)); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

func TestRegisterByProjectNumber(t *testing.T) {
	f := newFixture(t, false)
	a, _ := accounts(t)
	sa := *a
	sa.ProjectNumber = "998877665544"
	if err := f.s.RegisterServiceAccount(&sa); err != nil {
		t.Fatal(err)
	}
	dev := f.device(t, "998877665544", "com.example", true)
	if dev.reg.Project != testProjectA {
		t.Fatalf("env %q, want the project id", dev.reg.Project)
	}
	if err := f.s.Subscribe(dev.reg.Token, "news"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Send(f.ctx, &messaging.Message{Topic: "news"}); err != nil {
		t.Fatal(err)
	}
	if got := dev.next(t); got.Headers["from"] != "/topics/news" {
		t.Fatalf("delivery %+v", got)
	}
}

// A message a fault held at acceptance goes to its device only if the app
// is still installed when the hold ends.
func TestHeldMessageSkipsAnAppUninstalledMeanwhile(t *testing.T) {
	f := newFixture(t, false)
	dev := f.device(t, testProjectA, "com.example", true)
	if _, err := f.s.AddFault(mockfcm.Fault{Action: mockfcm.DelayAccept, Latency: 300 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := f.client.Send(f.ctx, &messaging.Message{Token: dev.reg.Token, Data: map[string]string{"ack_id": "held"}})
		sent <- err
	}()
	held := func() bool {
		for _, e := range f.bus.Trace("held") {
			if e.Hop == events.FaultInjected {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !held(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fault never held the message")
		}
	}
	if _, ok := f.s.Uninstall(dev.reg.Token); !ok {
		t.Fatal("uninstall: no such token")
	}
	if err := <-sent; err != nil {
		t.Fatalf("send: %v (accepted before the uninstall, answered after the hold)", err)
	}
	dev.none(t)
	if p := f.s.Pending(dev.reg.Token); len(p) != 0 {
		t.Fatalf("kept for the uninstalled app: %+v", p)
	}
	for _, e := range f.bus.Trace("held") {
		if e.Hop == events.ProviderStored {
			t.Fatalf("stored for the uninstalled app: %+v", e)
		}
	}
}
