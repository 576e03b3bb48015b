package mockapns

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/testpki"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"
)

var (
	setOnce sync.Once
	theSet  *testpki.Set
)

// testSet is one credential set for the package (RSA keys are slow to make).
func testSet(t testing.TB) *testpki.Set {
	setOnce.Do(func() {
		s, err := testpki.NewSet(testpki.Options{})
		if err != nil {
			panic(err)
		}
		theSet = s
	})
	return theSet
}

// clock is a test clock that starts at the real time (apns2 stamps its
// tokens with time.Now) and only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     testing.TB
	s     *Server
	set   *testpki.Set
	clock *clock
	bus   *events.Bus
	prod  string // a production token of set.BundleID
	dev   string // a development token of set.BundleID
	cprod string // a production token of set.CertBundleID
}

func newFixture(t testing.TB, mod ...func(*Config)) *fixture {
	t.Helper()
	set := testSet(t)
	f := &fixture{t: t, set: set, clock: &clock{t: time.Now()}, bus: events.NewBus()}
	cfg := Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Bus: f.bus, Now: f.clock.Now, Seed: 1}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	f.s = s
	if err := s.RegisterKey(Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		t.Fatal(err)
	}
	f.prod = f.register(set.BundleID, testpki.Production)
	f.dev = f.register(set.BundleID, testpki.Development)
	f.cprod = f.register(set.CertBundleID, testpki.Production)
	return f
}

func (f *fixture) register(app string, env testpki.Environment) string {
	f.t.Helper()
	reg, err := f.s.RegisterDevice(app, env, "iphone-"+string(env))
	if err != nil {
		f.t.Fatal(err)
	}
	return reg.Token
}

func (f *fixture) trust(c *apns2.Client) *apns2.Client {
	tr := c.HTTPClient.Transport.(*http2.Transport)
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = f.s.CertPool()
	return c
}

// tokenClient is an unmodified apns2 token client pointed at the mock.
func (f *fixture) tokenClient(k *testpki.APNsKey, env testpki.Environment) *apns2.Client {
	c := apns2.NewTokenClient(&token.Token{AuthKey: k.Key, KeyID: k.KeyID, TeamID: k.TeamID})
	return f.point(f.trust(c), env)
}

func (f *fixture) certClient(leaf *testpki.Leaf, env testpki.Environment) *apns2.Client {
	p12, err := leaf.P12("pw")
	if err != nil {
		f.t.Fatal(err)
	}
	cert, err := certificate.FromP12Bytes(p12, "pw")
	if err != nil {
		f.t.Fatal(err)
	}
	return f.point(f.trust(apns2.NewClient(cert)), env)
}

func (f *fixture) point(c *apns2.Client, env testpki.Environment) *apns2.Client {
	if env == testpki.Development {
		c.Host = f.s.DevelopmentURL
	} else {
		c.Host = f.s.URL
	}
	return c
}

// mutate makes c send what apns2 cannot express (bad headers, paths, methods).
func mutate(c *apns2.Client, m func(*http.Request)) *apns2.Client {
	inner := c.HTTPClient.Transport
	c.HTTPClient = &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		m(r)
		return inner.RoundTrip(r)
	})}
	return c
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

const payload = `{"aps":{"alert":{"title":"town-square","body":"hello"},"mutable-content":1},"ack_id":"ack-1","type":"message"}`

func (f *fixture) note(token string) *apns2.Notification {
	return &apns2.Notification{DeviceToken: token, Topic: f.set.BundleID, Payload: payload, Priority: 10}
}

func push(t testing.TB, c *apns2.Client, n *apns2.Notification) *apns2.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.PushWithContext(ctx, n)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return res
}

func newAPNsKey(t testing.TB, team string) *testpki.APNsKey {
	k, err := testpki.NewAPNsKey(team)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestReasons drives the real apns2 client into every reason APNs documents:
// by real input where one exists, else by fault injection.
func TestReasons(t *testing.T) {
	type tc struct {
		name   string
		reason string
		status int
		run    func(t *testing.T, f *fixture) *apns2.Response
	}
	byFault := func(reason string) func(t *testing.T, f *fixture) *apns2.Response {
		return func(t *testing.T, f *fixture) *apns2.Response {
			if _, err := f.s.AddFault(Fault{Action: Respond, Status: Reasons[reason], Reason: reason, Token: f.prod, Count: 1}); err != nil {
				t.Fatal(err)
			}
			return push(t, f.tokenClient(f.set.APNsKey, testpki.Production), f.note(f.prod))
		}
	}
	simple := func(mod func(f *fixture, n *apns2.Notification)) func(t *testing.T, f *fixture) *apns2.Response {
		return func(t *testing.T, f *fixture) *apns2.Response {
			n := f.note(f.prod)
			mod(f, n)
			return push(t, f.tokenClient(f.set.APNsKey, testpki.Production), n)
		}
	}
	withHeader := func(m func(*http.Request)) func(t *testing.T, f *fixture) *apns2.Response {
		return func(t *testing.T, f *fixture) *apns2.Response {
			return push(t, mutate(f.tokenClient(f.set.APNsKey, testpki.Production), m), f.note(f.prod))
		}
	}
	withBody := func(body string) func(t *testing.T, f *fixture) *apns2.Response {
		return withHeader(func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			r.GetBody = nil
		})
	}
	cases := []tc{
		{"collapse id of 65 bytes", ReasonBadCollapseID, 400, simple(func(_ *fixture, n *apns2.Notification) { n.CollapseID = strings.Repeat("c", 65) })},
		{"unknown token", ReasonBadDeviceToken, 400, simple(func(_ *fixture, n *apns2.Notification) { n.DeviceToken = strings.Repeat("ab", 32) })},
		{"token not hex", ReasonBadDeviceToken, 400, simple(func(_ *fixture, n *apns2.Notification) { n.DeviceToken = "not-a-token" })},
		{"sandbox token to production", ReasonBadDeviceToken, 400, simple(func(f *fixture, n *apns2.Notification) { n.DeviceToken = f.dev })},
		{"production token to sandbox", ReasonBadDeviceToken, 400, func(t *testing.T, f *fixture) *apns2.Response {
			return push(t, f.tokenClient(f.set.APNsKey, testpki.Development), f.note(f.prod))
		}},
		{"expiration not a number", ReasonBadExpirationDate, 400, withHeader(func(r *http.Request) { r.Header.Set("apns-expiration", "tomorrow") })},
		{"apns-id not a UUID", ReasonBadMessageID, 400, simple(func(_ *fixture, n *apns2.Notification) { n.ApnsID = "not-a-uuid" })},
		{"priority 7", ReasonBadPriority, 400, simple(func(_ *fixture, n *apns2.Notification) { n.Priority = 7 })},
		{"background at priority 10", ReasonBadPriority, 400, simple(func(_ *fixture, n *apns2.Notification) { n.PushType = apns2.PushTypeBackground })},
		{"topic with a space", ReasonBadTopic, 400, simple(func(_ *fixture, n *apns2.Notification) { n.Topic = "com.example app" })},
		{"token of another app", ReasonDeviceTokenNotForTopic, 400, simple(func(f *fixture, n *apns2.Notification) { n.DeviceToken = f.cprod })},
		{"repeated apns-topic", ReasonDuplicateHeaders, 400, withHeader(func(r *http.Request) { r.Header.Add("apns-topic", "com.example.other") })},
		{"idle timeout (fault)", ReasonIdleTimeout, 400, byFault(ReasonIdleTimeout)},
		{"unknown push type", ReasonInvalidPushType, 400, simple(func(_ *fixture, n *apns2.Notification) { n.PushType = "telepathy" })},
		{"voip without .voip topic", ReasonInvalidPushType, 400, simple(func(_ *fixture, n *apns2.Notification) { n.PushType = apns2.PushTypeVOIP })},
		{"no token in path", ReasonMissingDeviceToken, 400, simple(func(_ *fixture, n *apns2.Notification) { n.DeviceToken = "" })},
		{"token auth without topic", ReasonMissingTopic, 400, simple(func(_ *fixture, n *apns2.Notification) { n.Topic = "" })},
		{"empty payload", ReasonPayloadEmpty, 400, withBody("")},
		{"payload without aps", ReasonPayloadEmpty, 400, simple(func(_ *fixture, n *apns2.Notification) { n.Payload = `{"x":1}` })},
		{"payload not JSON", ReasonPayloadEmpty, 400, withBody(`{"aps":`)},
		{"uninstalled app", ReasonUnregistered, 410, func(t *testing.T, f *fixture) *apns2.Response {
			reg, ok := f.s.Uninstall(f.prod)
			if !ok {
				t.Fatal("uninstall: no such token")
			}
			f.clock.Advance(time.Minute)
			res := push(t, f.tokenClient(f.set.APNsKey, testpki.Production), f.note(f.prod))
			if want := time.Unix(reg.UninstalledAt.UnixMilli()/1000, 0); !res.Timestamp.Equal(want) {
				t.Errorf("timestamp %v, want the uninstall time %v", res.Timestamp.Time, want)
			}
			return res
		}},
		{"topic outside a topic-specific key", ReasonTopicDisallowed, 400, func(t *testing.T, f *fixture) *apns2.Response {
			k := newAPNsKey(t, f.set.TeamID)
			f.s.RegisterKey(Key{ID: k.KeyID, TeamID: k.TeamID, Public: &k.Key.PublicKey, Topics: []string{"com.example.other"}, Environment: testpki.Production})
			return push(t, f.tokenClient(k, testpki.Production), f.note(f.prod))
		}},
		{"certificate for another topic", ReasonTopicDisallowed, 400, func(t *testing.T, f *fixture) *apns2.Response {
			return push(t, f.certClient(f.set.APNsProd, testpki.Production), f.note(f.prod))
		}},
		{"certificate from another CA", ReasonBadCertificate, 403, func(t *testing.T, f *fixture) *apns2.Response {
			ca, err := testpki.NewCA()
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := ca.IssueAPNsClient(f.set.TeamID, f.set.CertBundleID, testpki.Production)
			if err != nil {
				t.Fatal(err)
			}
			n := f.note(f.cprod)
			n.Topic = f.set.CertBundleID
			return push(t, f.certClient(leaf, testpki.Production), n)
		}},
		{"development certificate on production", ReasonBadCertificateEnvironment, 403, func(t *testing.T, f *fixture) *apns2.Response {
			n := f.note(f.cprod)
			n.Topic = f.set.CertBundleID
			return push(t, f.certClient(f.set.APNsDev, testpki.Production), n)
		}},
		{"token older than an hour", ReasonExpiredProviderToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			f.clock.Advance(61 * time.Minute)
			return push(t, f.tokenClient(f.set.APNsKey, testpki.Production), f.note(f.prod))
		}},
		{"forbidden (fault)", ReasonForbidden, 403, byFault(ReasonForbidden)},
		{"unknown key id", ReasonInvalidProviderToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			return push(t, f.tokenClient(newAPNsKey(t, f.set.TeamID), testpki.Production), f.note(f.prod))
		}},
		{"signature by another key", ReasonInvalidProviderToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			k := newAPNsKey(t, f.set.TeamID)
			k.KeyID = f.set.APNsKey.KeyID
			return push(t, f.tokenClient(k, testpki.Production), f.note(f.prod))
		}},
		{"alg none", ReasonInvalidProviderToken, 403, withHeader(func(r *http.Request) {
			parts := strings.Split(strings.TrimPrefix(r.Header.Get("authorization"), "bearer "), ".")
			r.Header.Set("authorization", "bearer eyJhbGciOiJub25lIiwia2lkIjoiWCJ9."+parts[1]+".")
		})},
		{"iss of another team", ReasonInvalidProviderToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			k := *f.set.APNsKey
			k.TeamID = "OTHERTEAM1"
			return push(t, f.tokenClient(&k, testpki.Production), f.note(f.prod))
		}},
		{"no credential at all", ReasonMissingProviderToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			c := f.tokenClient(f.set.APNsKey, testpki.Production)
			c.Token = nil
			return push(t, c, f.note(f.prod))
		}},
		{"topic-specific key after a team key on one connection", ReasonUnrelatedKeyIDInToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			k := newAPNsKey(t, f.set.TeamID)
			f.s.RegisterKey(Key{ID: k.KeyID, TeamID: k.TeamID, Public: &k.Key.PublicKey, Topics: []string{f.set.BundleID}, Environment: testpki.Production})
			first := f.tokenClient(f.set.APNsKey, testpki.Production)
			sameConnection := oneConnection(t, first)
			if res := push(t, first, f.note(f.prod)); res.StatusCode != 200 {
				t.Fatalf("first push: %d %s", res.StatusCode, res.Reason)
			}
			second := f.tokenClient(k, testpki.Production)
			second.HTTPClient = first.HTTPClient // the same connection
			res := push(t, second, f.note(f.prod))
			sameConnection()
			return res
		}},
		{"development key on production", ReasonBadEnvironmentKeyIDInToken, 403, func(t *testing.T, f *fixture) *apns2.Response {
			k := newAPNsKey(t, f.set.TeamID)
			f.s.RegisterKey(Key{ID: k.KeyID, TeamID: k.TeamID, Public: &k.Key.PublicKey, Environment: testpki.Development})
			return push(t, f.tokenClient(k, testpki.Production), f.note(f.prod))
		}},
		{"path outside /3/device", ReasonBadPath, 404, withHeader(func(r *http.Request) { r.URL.Path = "/3/devices/x" })},
		{"GET", ReasonMethodNotAllowed, 405, withHeader(func(r *http.Request) { r.Method = http.MethodGet })},
		{"expired token (fault)", ReasonExpiredToken, 410, byFault(ReasonExpiredToken)},
		{"payload of 4097 bytes", ReasonPayloadTooLarge, 413, simple(func(_ *fixture, n *apns2.Notification) { n.Payload = sized(MaxPayload + 1) })},
		{"voip payload of 5121 bytes", ReasonPayloadTooLarge, 413, simple(func(f *fixture, n *apns2.Notification) {
			n.Payload, n.PushType, n.Topic = sized(MaxVoIPPayload+1), apns2.PushTypeVOIP, f.set.BundleID+".voip"
		})},
		{"new token within 20 minutes", ReasonTooManyProviderTokenUpdates, 429, func(t *testing.T, f *fixture) *apns2.Response {
			c := f.tokenClient(f.set.APNsKey, testpki.Production)
			sameConnection := oneConnection(t, c)
			if res := push(t, c, f.note(f.prod)); res.StatusCode != 200 {
				t.Fatalf("first push: %d %s", res.StatusCode, res.Reason)
			}
			c.Token.Generate() // a fresh token (ES256 signatures differ even within one second)
			res := push(t, c, f.note(f.prod))
			sameConnection()
			return res
		}},
		{"third push within the rate", ReasonTooManyRequests, 429, func(t *testing.T, f *fixture) *apns2.Response {
			f.s.rate = mockkit.NewRateLimit(2, time.Minute)
			c := f.tokenClient(f.set.APNsKey, testpki.Production)
			push(t, c, f.note(f.prod))
			push(t, c, f.note(f.prod))
			return push(t, c, f.note(f.prod))
		}},
		{"internal error (fault)", ReasonInternalServerError, 500, byFault(ReasonInternalServerError)},
		{"unavailable (fault)", ReasonServiceUnavailable, 503, byFault(ReasonServiceUnavailable)},
		{"shutdown (fault)", ReasonShutdown, 503, byFault(ReasonShutdown)},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			res := c.run(t, f)
			if res.StatusCode != c.status || res.Reason != c.reason {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, res.Reason, c.status, c.reason)
			}
			if !validUUID(res.ApnsID) {
				t.Errorf("apns-id %q is not a UUID", res.ApnsID)
			}
			if Reasons[c.reason] != c.status {
				t.Errorf("table says %d for %s", Reasons[c.reason], c.reason)
			}
		})
		seen[c.reason] = true
	}
	for r := range Reasons {
		if !seen[r] {
			t.Errorf("no case for reason %s", r)
		}
	}
	if len(Reasons) != 32 {
		t.Errorf("%d reasons, Apple documents 32", len(Reasons))
	}
}

// sized is a valid payload of exactly n bytes.
func sized(n int) string {
	const head, tail = `{"aps":{"alert":"`, `"}}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func apnsTokenFor(k *testpki.APNsKey) *token.Token {
	return &token.Token{AuthKey: k.Key, KeyID: k.KeyID, TeamID: k.TeamID}
}
