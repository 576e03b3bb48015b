package mockapns

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/testpki"
	"golang.org/x/net/http2"
)

// inbox is a device's end of the push channel, for tests.
type inbox struct {
	mu sync.Mutex
	ds []Delivery
}

func (b *inbox) Deliver(d Delivery) { b.mu.Lock(); b.ds = append(b.ds, d); b.mu.Unlock() }
func (b *inbox) all() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Delivery(nil), b.ds...)
}

func TestAcceptTokenAuth(t *testing.T) {
	tests := []struct {
		name       string
		env        testpki.Environment
		id         string
		wantUnique bool
	}{
		{"production, apns-id echoed", testpki.Production, "9f0c2e2a-7d8e-4f7b-a1a3-1d2c3b4a5e6f", false},
		{"production, apns-id generated", testpki.Production, "", false},
		{"development has apns-unique-id", testpki.Development, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.prod
			if tt.env == testpki.Development {
				tok = f.dev
			}
			var box inbox
			f.s.Attach(tok, &box)
			n := f.note(tok)
			n.ApnsID = tt.id
			res := push(t, f.tokenClient(f.set.APNsKey, tt.env), n)
			if res.StatusCode != 200 || res.Reason != "" || !res.Sent() {
				t.Fatalf("got %d %q", res.StatusCode, res.Reason)
			}
			if tt.id != "" && res.ApnsID != tt.id {
				t.Errorf("apns-id %q, want the echo %q", res.ApnsID, tt.id)
			}
			if !validUUID(res.ApnsID) {
				t.Errorf("apns-id %q is not a UUID", res.ApnsID)
			}
			if got := validUUID(res.ApnsUniqueID); got != tt.wantUnique {
				t.Errorf("apns-unique-id %q: present %v, want %v", res.ApnsUniqueID, got, tt.wantUnique)
			}
			ds := box.all()
			if len(ds) != 1 {
				t.Fatalf("%d deliveries, want 1", len(ds))
			}
			d := ds[0]
			if d.ID != res.ApnsID || d.App != f.set.BundleID || d.Token != tok || string(d.Payload) != payload || d.Provider != "apns" {
				t.Errorf("delivery %+v", d)
			}
			if d.Headers["apns-push-type"] != "alert" || d.Headers["apns-priority"] != "10" {
				t.Errorf("delivery headers %v", d.Headers)
			}
		})
	}
}

func TestAcceptCertAuth(t *testing.T) {
	tests := []struct {
		name  string
		env   testpki.Environment
		topic string // "" = implied by the certificate
	}{
		{"production, topic given", testpki.Production, testpki.DefaultCertBundleID},
		{"production, topic implied by the certificate", testpki.Production, ""},
		{"development", testpki.Development, testpki.DefaultCertBundleID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			leaf, tok := f.set.APNsProd, f.cprod
			if tt.env == testpki.Development {
				leaf, tok = f.set.APNsDev, f.register(f.set.CertBundleID, testpki.Development)
			}
			var box inbox
			f.s.Attach(tok, &box)
			c := f.certClient(leaf, tt.env)
			for i := range 3 { // the certificate is verified once per connection
				n := f.note(tok)
				n.Topic = tt.topic
				if res := push(t, c, n); res.StatusCode != 200 {
					t.Fatalf("push %d: %d %s", i, res.StatusCode, res.Reason)
				}
			}
			if got := len(box.all()); got != 3 {
				t.Errorf("%d deliveries, want 3", got)
			}
			recs := f.s.Requests(0)
			if recs[0].Auth["scheme"] != "certificate" || recs[0].Auth["topic"] != f.set.CertBundleID {
				t.Errorf("recorded auth %v", recs[0].Auth)
			}
		})
	}
}

func TestOfflineStorage(t *testing.T) {
	tests := []struct {
		name       string
		expiration []time.Duration // per push, relative to the mock's clock; 0 = header 0; -1 = absent
		advance    time.Duration   // before the device comes online
		wantBody   string          // the body that arrives ("" = none)
		wantDrops  []string
	}{
		{"only the last one is kept", []time.Duration{-1, -1, -1}, 0, "n2", []string{mockkit.DropCoalesced, mockkit.DropCoalesced}},
		{"expiration 0 is now or never", []time.Duration{0}, 0, "", []string{mockkit.DropNowOrNever}},
		{"expired while offline", []time.Duration{time.Hour}, 2 * time.Hour, "", []string{mockkit.DropExpired}},
		{"not yet expired", []time.Duration{time.Hour}, 30 * time.Minute, "n0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.tokenClient(f.set.APNsKey, testpki.Production)
			for i, exp := range tt.expiration {
				n := f.note(f.prod)
				n.Payload = `{"aps":{"alert":"x"},"ack_id":"n` + string(rune('0'+i)) + `"}`
				switch {
				case exp == 0:
					n.Expiration = time.Unix(0, 0) // apns2 omits the header for times ≤ epoch...
				case exp > 0:
					n.Expiration = f.clock.Now().Add(exp)
				}
				cl := c
				if exp == 0 { // ...so send "0" ourselves
					cl = mutate(f.tokenClient(f.set.APNsKey, testpki.Production), func(r *http.Request) { r.Header.Set("apns-expiration", "0") })
				}
				if res := push(t, cl, n); res.StatusCode != 200 {
					t.Fatalf("push %d: %d %s", i, res.StatusCode, res.Reason)
				}
			}
			f.clock.Advance(tt.advance)
			var box inbox
			f.s.Attach(f.prod, &box)
			got := box.all()
			switch {
			case tt.wantBody == "" && len(got) != 0:
				t.Fatalf("delivered %s, want nothing", got[0].Payload)
			case tt.wantBody != "":
				if len(got) != 1 || ackIDOf(got[0].Payload) != tt.wantBody || !got[0].Stored {
					t.Fatalf("delivered %+v, want only %s, stored", got, tt.wantBody)
				}
			}
			var drops []string
			for _, e := range f.bus.History() {
				if e.Hop == events.ProviderDropped {
					drops = append(drops, e.Status)
				}
			}
			if strings.Join(drops, ",") != strings.Join(tt.wantDrops, ",") {
				t.Errorf("drops %v, want %v", drops, tt.wantDrops)
			}
		})
	}
}

func TestEventsAndInspection(t *testing.T) {
	f := newFixture(t)
	var box inbox
	f.s.Attach(f.prod, &box)
	c := f.tokenClient(f.set.APNsKey, testpki.Production)
	push(t, c, f.note(f.prod))
	bad := f.note(strings.Repeat("ab", 32))
	bad.Payload = `{"aps":{}}`
	res := push(t, c, bad)

	tr := f.bus.Trace("ack-1")
	// The device, not the mock, reports device.delivered.
	if len(tr) != 1 || tr[0].Hop != events.ProviderAccepted || len(box.all()) != 1 {
		t.Fatalf("trace ack-1: %+v", tr)
	}
	a := tr[0].Attrs
	if tr[0].Actor != Actor || a["topic"] != f.set.BundleID || a["env"] != "production" || a["push_type"] != "alert" ||
		a["token"] != events.RedactToken(f.prod) || !validUUID(a["apns-id"]) {
		t.Errorf("accepted event %+v", tr[0])
	}
	rej := f.bus.Trace(res.ApnsID) // no ack_id: traced by apns-id
	if len(rej) != 1 || rej[0].Hop != events.ProviderRejected || rej[0].Status != ReasonBadDeviceToken {
		t.Errorf("rejection trace: %+v", rej)
	}

	recs := f.s.Requests(0)
	if len(recs) != 2 {
		t.Fatalf("%d recorded requests", len(recs))
	}
	raw, _ := json.Marshal(recs)
	bearer := c.Token.Bearer
	if bytes.Contains(raw, []byte(bearer)) || bytes.Contains(raw, []byte(strings.Split(bearer, ".")[2])) {
		t.Error("the recorded requests contain the raw provider token")
	}
	if recs[0].Auth["key_fingerprint"] != testpki.Fingerprint(&f.set.APNsKey.Key.PublicKey) {
		t.Errorf("auth %v: want the key fingerprint", recs[0].Auth)
	}
	if cl, ok := recs[0].Auth["claims"].(map[string]any); !ok || cl["iss"] != f.set.TeamID {
		t.Errorf("auth %v: want decoded claims", recs[0].Auth)
	}
	if recs[1].Status != 400 || recs[1].Reason != ReasonBadDeviceToken || recs[1].Body != `{"aps":{}}` {
		t.Errorf("second record %+v", recs[1])
	}
	if got := f.s.Requests(recs[0].Seq); len(got) != 1 {
		t.Errorf("Requests(since first) = %d records", len(got))
	}
}

func TestTokenRefreshAfter20Minutes(t *testing.T) {
	f := newFixture(t)
	c := f.tokenClient(f.set.APNsKey, testpki.Production)
	sameConnection := oneConnection(t, c)
	push(t, c, f.note(f.prod))
	f.clock.Advance(21 * time.Minute)
	c.Token.Generate()
	if res := push(t, c, f.note(f.prod)); res.StatusCode != 200 {
		t.Fatalf("refresh after 21 min: %d %s", res.StatusCode, res.Reason)
	}
	// Another team on the pinned connection is refused.
	other := newAPNsKey(t, "")
	f.s.RegisterKey(Key{ID: other.KeyID, TeamID: other.TeamID, Public: &other.Key.PublicKey})
	c2 := f.tokenClient(other, testpki.Production)
	c2.HTTPClient = c.HTTPClient
	res := push(t, c2, f.note(f.prod))
	sameConnection()
	if res.Reason != ReasonInvalidProviderToken {
		t.Fatalf("second team on one connection: %d %s", res.StatusCode, res.Reason)
	}
}

func TestEnvironmentByHostName(t *testing.T) {
	f := newFixture(t)
	// One listener (production by default) reached as Apple's sandbox host:
	// the name decides.
	c := f.tokenClient(f.set.APNsKey, testpki.Production)
	addr := strings.TrimPrefix(f.s.URL, "https://")
	c.Host = "https://" + HostDevelopment + ":" + strings.Split(addr, ":")[1]
	tr := c.HTTPClient.Transport.(interface{ CloseIdleConnections() })
	defer tr.CloseIdleConnections()
	h2 := c.HTTPClient.Transport.(*http2.Transport)
	h2.DialTLS = func(network, _ string, cfg *tls.Config) (net.Conn, error) { return tls.Dial(network, addr, cfg) }
	res := push(t, c, f.note(f.dev))
	if res.StatusCode != 200 || !validUUID(res.ApnsUniqueID) {
		t.Fatalf("sandbox by name: %d %s unique-id %q", res.StatusCode, res.Reason, res.ApnsUniqueID)
	}
	if res := push(t, c, f.note(f.prod)); res.Reason != ReasonBadDeviceToken {
		t.Fatalf("production token on the sandbox name: %d %s", res.StatusCode, res.Reason)
	}
}

func TestHTTP1Refused(t *testing.T) {
	f := newFixture(t)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.s.CertPool()}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", f.s.URL+"/3/device/"+f.prod, strings.NewReader(payload))
	if res, err := tr.RoundTrip(req); err == nil {
		res.Body.Close()
		t.Fatalf("HTTP/1.1 got %s, want no service", res.Status)
	}
	if res := push(t, f.tokenClient(f.set.APNsKey, testpki.Production), f.note(f.prod)); res.StatusCode != 200 {
		t.Fatalf("HTTP/2 after an HTTP/1.1 attempt: %d %s", res.StatusCode, res.Reason)
	}
}

func TestFaultActions(t *testing.T) {
	tests := []struct {
		name    string
		fault   Fault
		wantErr bool // the push fails on the wire
		status  int
		reason  string
		retry   string
	}{
		{"429 with Retry-After", Fault{Status: 429, RetryAfter: "7"}, false, 429, ReasonTooManyRequests, "7"},
		{"503 without Retry-After", Fault{Status: 503}, false, 503, ReasonServiceUnavailable, ""},
		{"latency then the real answer", Fault{Action: Delay, Latency: 20 * time.Millisecond}, false, 200, "", ""},
		{"goaway after the real answer", Fault{Action: GoAway}, false, 200, "", ""},
		{"connection reset", Fault{Action: Reset}, true, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.fault.Count = 1
			if _, err := f.s.AddFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			var retry string
			c := f.tokenClient(f.set.APNsKey, testpki.Production)
			inner := c.HTTPClient.Transport
			c.HTTPClient = &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
				res, err := inner.RoundTrip(r)
				if err == nil {
					retry = res.Header.Get("Retry-After")
				}
				return res, err
			})}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.PushWithContext(ctx, f.note(f.prod))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (res.StatusCode != tt.status || res.Reason != tt.reason || retry != tt.retry) {
				t.Fatalf("got %d %q Retry-After %q, want %d %q %q", res.StatusCode, res.Reason, retry, tt.status, tt.reason, tt.retry)
			}
			// The fault was one-shot: the client recovers (on a new connection if need be).
			if res := push(t, c, f.note(f.prod)); res.StatusCode != 200 {
				t.Fatalf("after the fault: %d %s", res.StatusCode, res.Reason)
			}
			var injected int
			for _, e := range f.bus.History() {
				if e.Hop == events.FaultInjected {
					injected++
				}
			}
			if injected != 1 {
				t.Errorf("%d fault events, want 1", injected)
			}
		})
	}
}

func TestFaultPercentIsSeeded(t *testing.T) {
	run := func() string {
		f := newFixture(t, func(c *Config) { c.Seed = 42 })
		f.s.AddFault(Fault{Status: 500, Percent: 50})
		c := f.tokenClient(f.set.APNsKey, testpki.Production)
		var out []byte
		for range 20 {
			out = append(out, "ab"[min(push(t, c, f.note(f.prod)).StatusCode/500, 1)])
		}
		return string(out)
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("same seed, different runs: %s vs %s", a, b)
	}
	if !strings.Contains(a, "a") || !strings.Contains(a, "b") {
		t.Fatalf("50%% fault fired all or nothing: %s", a)
	}
}

func TestControlAPI(t *testing.T) {
	f := newFixture(t)
	post := func(path, body string) *http.Response {
		res, err := http.Post(f.s.ControlURL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := post("/control/devices", `{"app":"com.example.ctl","env":"production","device":"ipad"}`)
	var reg Registration
	json.NewDecoder(res.Body).Decode(&reg)
	res.Body.Close()
	if res.StatusCode != 201 || len(reg.Token) != 64 || reg.App != "com.example.ctl" {
		t.Fatalf("register: %d %+v", res.StatusCode, reg)
	}
	if res := post("/control/devices", `{"app":"com.example.ctl","env":"staging"}`); res.StatusCode != 400 {
		t.Errorf("unknown env: %d, want 400", res.StatusCode)
	}
	res = post("/control/faults", `{"token":"`+reg.Token+`","status":410,"reason":"ExpiredToken","count":1}`)
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("add fault: %d", res.StatusCode)
	}
	n := f.note(reg.Token)
	n.Topic = "com.example.ctl"
	c := f.tokenClient(f.set.APNsKey, testpki.Production)
	if r := push(t, c, n); r.StatusCode != 410 || r.Reason != ReasonExpiredToken || r.Timestamp.IsZero() {
		t.Fatalf("faulted push: %d %s %v", r.StatusCode, r.Reason, r.Timestamp)
	}
	if r := push(t, c, n); r.StatusCode != 200 {
		t.Fatalf("after the one-shot fault: %d %s", r.StatusCode, r.Reason)
	}
	get, err := http.Get(f.s.ControlURL + "/control/requests?since=0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(get.Body)
	get.Body.Close()
	var recs []Request
	if err := json.Unmarshal(body, &recs); err != nil || len(recs) != 2 || recs[0].Fault == "" {
		t.Fatalf("requests: %v %s", err, body)
	}
}
