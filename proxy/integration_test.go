package proxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// lab is the proxy between pushlab's own mock APNs and mock FCM, over real
// TLS on both sides: the test is the Mattermost server (HTTPS to the proxy),
// the mocks' receivers are the devices.
type lab struct {
	t      testing.TB
	set    *testpki.Set
	dir    string
	bus    *events.Bus
	apns   *mockapns.Server
	fcm    *mockfcm.Server
	sa     *testpki.ServiceAccount
	proxy  *Server
	url    string
	client *http.Client
	logs   *logBuffer
	cancel context.CancelFunc
	served func() error // waits for Serve to return

	mu    sync.Mutex
	waits []time.Duration
	got   map[string][]pushtest.Delivery // by token
}

// App types the lab configures, one per auth kind and environment.
const (
	typeAppleToken = "apple"     // token auth (.p8), production
	typeAppleP12   = "apple_rn"  // certificate auth (.p12), development
	typeApplePEM   = "apple_pem" // certificate auth (.pem), production
	typeAndroid    = "android"
	typeAndroidRN  = "android_rn"
)

func newLab(t testing.TB, edit func(*runConfig)) *lab {
	t.Helper()
	set := testSet(t)
	l := &lab{t: t, set: set, dir: keysDir(t), bus: events.NewBus(), got: map[string][]pushtest.Delivery{}}
	quiet, _ := testLogger(t)

	var err error
	l.apns, err = mockapns.New(mockapns.Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Bus: l.bus, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.apns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.apns.Close)
	if err := l.apns.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		t.Fatal(err)
	}

	// No per-device rate: the benchmark sends to one device as fast as it can.
	l.fcm, err = mockfcm.New(mockfcm.Config{Cert: set.Mock.TLS(), Bus: l.bus, Logger: quiet, DeviceRatePerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.fcm.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.fcm.Close)
	sa := *set.Firebase // this lab's token_uri; the key is shared
	sa.TokenURI = l.fcm.TokenURL()
	l.sa = &sa
	if err := l.fcm.RegisterServiceAccount(l.sa); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, testpki.FileServiceAccount), sa.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}

	saFile := filepath.Join(l.dir, testpki.FileServiceAccount)
	cfg := runConfig{Config: Config{FileConfig: FileConfig{
		ApplePushSettings: []ApplePushSettings{
			{Type: typeAppleToken, ApplePushTopic: set.BundleID, AppleAuthKeyFile: filepath.Join(l.dir, set.APNsKey.FileName()),
				AppleAuthKeyID: set.APNsKey.KeyID, AppleTeamID: set.TeamID},
			{Type: typeAppleP12, ApplePushUseDevelopment: true, ApplePushTopic: set.CertBundleID,
				ApplePushCertPrivate: filepath.Join(l.dir, testpki.FileAPNsDevP12), ApplePushCertPassword: set.P12Password},
			{Type: typeApplePEM, ApplePushTopic: set.CertBundleID, ApplePushCertPrivate: filepath.Join(l.dir, testpki.FileAPNsProdPEM)},
		},
		AndroidPushSettings: []AndroidPushSettings{
			{Type: typeAndroid, ServiceFileLocation: saFile},
			{Type: typeAndroidRN, ServiceFileLocation: saFile},
		},
		SendTimeoutSec: 30, RetryTimeoutSec: 8, EnableMetrics: true,
	}, Settings: Settings{
		APNsHost: l.apns.URL, APNsDevelopmentHost: l.apns.DevelopmentURL, FCMEndpoint: l.fcm.Endpoint(),
	}}, Options: Options{
		RootCAs:   set.CA.Pool(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Proxy.TLS()}, MinVersion: tls.VersionTLS12},
		Bus:       l.bus,
	}}
	cfg.Logger, l.logs = testLogger(t)
	if edit != nil {
		edit(&cfg)
	}
	l.start(cfg)
	return l
}

// start runs a proxy with cfg, its waits recorded and shortened.
func (l *lab) start(cfg runConfig) {
	t := l.t
	t.Helper()
	p, err := New(cfg.Config, cfg.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if len(p.InitErrors()) > 0 {
		t.Fatalf("init errors: %v", p.InitErrors())
	}
	p.sleep = func(ctx context.Context, d time.Duration) error {
		l.mu.Lock()
		l.waits = append(l.waits, d)
		l.mu.Unlock()
		return sleepCtx(ctx, time.Millisecond) // the wait is recorded, not served
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	wait := func() error {
		once.Do(func() { serveErr = <-served })
		return serveErr
	}
	t.Cleanup(func() {
		cancel()
		wait()
	})
	l.proxy, l.url, l.cancel, l.served = p, "https://"+ln.Addr().String(), cancel, wait
	l.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: l.set.CA.Pool()}}}
	t.Cleanup(l.client.CloseIdleConnections)
}

// iphone registers an iOS device for the app type's bundle and environment.
func (l *lab) iphone(appType string) string {
	l.t.Helper()
	bundle, env := l.set.BundleID, testpki.Production
	switch appType {
	case typeAppleP12:
		bundle, env = l.set.CertBundleID, testpki.Development
	case typeApplePEM:
		bundle = l.set.CertBundleID
	}
	reg, err := l.apns.RegisterDevice(bundle, env, "iphone-"+appType)
	if err != nil {
		l.t.Fatal(err)
	}
	l.apns.Attach(reg.Token, l.receiver(reg.Token))
	return reg.Token
}

// pixel registers an Android device in the lab's Firebase project.
func (l *lab) pixel(appType string) string {
	l.t.Helper()
	pkg := l.set.Package
	if appType == typeAndroidRN {
		pkg = l.set.RNPackage
	}
	reg, err := l.fcm.RegisterDevice(pkg, l.sa.ProjectID, "pixel-"+appType)
	if err != nil {
		l.t.Fatal(err)
	}
	l.fcm.Attach(reg.Token, l.receiver(reg.Token))
	return reg.Token
}

func (l *lab) receiver(token string) pushtest.Receiver {
	return pushtest.ReceiverFunc(func(d pushtest.Delivery) {
		l.mu.Lock()
		l.got[token] = append(l.got[token], d)
		l.mu.Unlock()
	})
}

func (l *lab) deliveries(token string) []pushtest.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]pushtest.Delivery(nil), l.got[token]...)
}

func (l *lab) recordedWaits() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.waits...)
}

// push posts a send_push to the proxy over TLS and returns the answer body.
func (l *lab) push(n mmpush.PushNotification) string {
	l.t.Helper()
	b, _ := json.Marshal(n)
	return l.post("/api/v1/send_push", string(b))
}

func (l *lab) post(path, body string) string {
	l.t.Helper()
	resp, err := l.client.Post(l.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		l.t.Fatalf("%s: HTTP %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

func (l *lab) metrics() string {
	l.t.Helper()
	resp, err := l.client.Get(l.url + "/metrics")
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// requests counts the requests the mocks received for token.
func (l *lab) requests(token string) int {
	n := 0
	for _, r := range append(l.apns.Requests(0), l.fcm.Requests(0)...) {
		if r.Token == token {
			n++
		}
	}
	return n
}

func msg(appType, token, ack string) mmpush.PushNotification {
	n := base()
	n.Platform, n.DeviceID, n.AckID = appType, token, ack
	return n
}

const okBody = `{"status":"OK"}` + "\n"
const removeBody = `{"status":"REMOVE"}` + "\n"

// Every app type, both auth kinds and both environments deliver, and the
// device receives exactly the payload upstream's layout gives.
func TestIntegrationDelivery(t *testing.T) {
	l := newLab(t, nil)
	for _, appType := range []string{typeAppleToken, typeAppleP12, typeApplePEM} {
		t.Run(appType, func(t *testing.T) {
			tok := l.iphone(appType)
			n := msg(appType+"-v2", tok, "ack-"+appType)
			if body := l.push(n); body != okBody {
				t.Fatalf("answer %q", body)
			}
			got := l.deliveries(tok)
			if len(got) != 1 {
				t.Fatalf("%d deliveries", len(got))
			}
			want := n
			Normalize(&want)
			notif := buildAPNs(&want, 2, "")
			wantPayload, _ := json.Marshal(notif.Payload)
			if string(got[0].Payload) != string(wantPayload) {
				t.Fatalf("device got\n%s\nwant\n%s", got[0].Payload, wantPayload)
			}
			if got[0].Headers["apns-push-type"] != "alert" || got[0].Headers["apns-priority"] != "10" {
				t.Fatalf("headers %v", got[0].Headers)
			}
		})
	}
	for _, appType := range []string{typeAndroid, typeAndroidRN} {
		t.Run(appType, func(t *testing.T) {
			tok := l.pixel(appType)
			n := msg(appType, tok, "ack-"+appType)
			if body := l.push(n); body != okBody {
				t.Fatalf("answer %q", body)
			}
			got := l.deliveries(tok)
			if len(got) != 1 {
				t.Fatalf("%d deliveries", len(got))
			}
			var p struct {
				Data    map[string]string `json:"data"`
				Android struct {
					Priority string `json:"priority"`
				} `json:"android"`
			}
			if err := json.Unmarshal(got[0].Payload, &p); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Data, buildFCMData(&n)) || strings.ToLower(p.Android.Priority) != "high" {
				t.Fatalf("device got %s", got[0].Payload)
			}
		})
	}
	// The spine has the proxy's hops around the mocks' for one notification.
	var hs []events.Hop
	for _, e := range l.bus.Trace("ack-" + typeAppleToken) {
		hs = append(hs, e.Hop)
	}
	for _, want := range []events.Hop{events.ProxyReceived, events.ProxyForwarded, events.ProviderAccepted, events.ProxyResponded} {
		if !containsHop(hs, want) {
			t.Errorf("trace %v lacks %s", hs, want)
		}
	}
	m := l.metrics()
	for _, want := range []string{
		`pushlab_proxy_sends_total{provider="apns",reason="",result="OK"} 3`,
		`pushlab_proxy_sends_total{provider="fcm",reason="",result="OK"} 2`,
		`pushlab_proxy_provider_attempts_total{provider="apns",status="200"} 3`,
		`pushlab_proxy_send_seconds_count{provider="fcm"} 2`,
		`pushlab_proxy_requests_total{platform="apple",type="message"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// No token, no key material in the logs.
	logs := l.logs.String()
	for _, secret := range []string{string(l.set.APNsKey.PEM()[30:60]), l.set.P12Password} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain key material %q", secret)
		}
	}
	for tok := range l.got {
		if strings.Contains(logs, tok) {
			t.Errorf("logs contain a whole device token")
		}
	}
}

func containsHop(hs []events.Hop, h events.Hop) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func TestIntegrationVoIP(t *testing.T) {
	l := newLab(t, nil)
	tok := l.iphone(typeAppleToken)
	n := msg(typeAppleToken, tok, "ack-voip")
	n.Transport = mmpush.TransportVoIP
	if body := l.push(n); body != okBody {
		t.Fatalf("answer %q", body)
	}
	got := l.deliveries(tok)
	if len(got) != 1 || got[0].Headers["apns-push-type"] != "voip" || got[0].App != l.set.BundleID {
		t.Fatalf("deliveries %+v", got)
	}

	// The VoIP token's own platform, as Mattermost names it, reaches the
	// apple_rn credentials (apple_voip_rn → apple_rn).
	devTok := l.iphone(typeAppleP12)
	n = msg("apple_voip_rn-v2", devTok, "ack-voip-rn")
	n.Transport, n.SubType = mmpush.TransportVoIP, mmpush.SubTypeCalls
	if body := l.push(n); body != okBody {
		t.Fatalf("apple_voip_rn: answer %q", body)
	}
	got = l.deliveries(devTok)
	if len(got) != 1 || got[0].Headers["apns-push-type"] != "voip" || got[0].Headers["apns-priority"] != "10" {
		t.Fatalf("apple_voip_rn deliveries %+v", got)
	}
}

// Dead tokens are answered REMOVE, whatever the provider calls them.
func TestIntegrationRemove(t *testing.T) {
	l := newLab(t, nil)
	uninstalled := l.iphone(typeAppleToken)
	l.apns.Uninstall(uninstalled)
	devToken := l.iphone(typeAppleP12) // a sandbox token...
	otherApp := l.iphone(typeApplePEM) // ...and another bundle's
	fcmGone := l.pixel(typeAndroid)
	l.fcm.Uninstall(fcmGone)
	otherProject, err := l.fcm.RegisterDevice(l.set.Package, "another-project", "pixel-x")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, appType, token, reason string
	}{
		{"APNs Unregistered", typeAppleToken, uninstalled, "Unregistered"},
		{"APNs BadDeviceToken: not a token", typeAppleToken, "not-hex", "BadDeviceToken"},
		{"APNs BadDeviceToken: sandbox token to production", typeApplePEM, devToken, "BadDeviceToken"},
		{"APNs DeviceTokenNotForTopic", typeAppleToken, otherApp, "DeviceTokenNotForTopic"},
		{"FCM UNREGISTERED", typeAndroid, fcmGone, "UNREGISTERED"},
		{"FCM SENDER_ID_MISMATCH", typeAndroid, otherProject.Token, "SENDER_ID_MISMATCH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if body := l.push(msg(c.appType, c.token, "ack")); body != removeBody {
				t.Fatalf("answer %q", body)
			}
			provider := "apns"
			if strings.HasPrefix(c.appType, "android") {
				provider = "fcm"
			}
			if m := l.metrics(); !strings.Contains(m, `pushlab_proxy_sends_total{provider="`+provider+`",reason="`+c.reason+`",result="REMOVE"} `) {
				t.Fatalf("no REMOVE for %s in metrics", c.reason)
			}
		})
	}
	if strings.Contains(l.metrics(), "pushlab_proxy_retries_total{") {
		t.Fatal("a dead token was retried")
	}
}

// A malformed FCM token is INVALID_ARGUMENT: FAIL with the SDK's text, not
// REMOVE (upstream removes only on UNREGISTERED and SENDER_ID_MISMATCH, so a
// server behind pushlab keeps the session as it would behind upstream).
func TestIntegrationFCMMalformedTokenFails(t *testing.T) {
	l := newLab(t, nil)
	want := `{"error":"The registration token is not a valid FCM registration token","status":"FAIL"}` + "\n"
	if body := l.push(msg(typeAndroid, "x", "ack")); body != want {
		t.Fatalf("answer %q, want %q", body, want)
	}
	if m := l.metrics(); !strings.Contains(m, `pushlab_proxy_sends_total{provider="fcm",reason="INVALID_ARGUMENT",result="FAIL"} 1`) {
		t.Fatalf("metrics:\n%s", m)
	}
}

// faultScript is the fault script of either mock.
type faultScript interface {
	AddFault(pushtest.Fault) (pushtest.Fault, error)
	SeedFaults(seed uint64)
}

// Failures are answered FAIL with the reason; a 4xx is tried once.
func TestIntegrationFail(t *testing.T) {
	l := newLab(t, nil)
	ios := l.iphone(typeAppleToken)
	android := l.pixel(typeAndroid)
	cases := []struct {
		name   string
		faults faultScript
		fault  pushtest.Fault
		n      mmpush.PushNotification
		want   string
	}{
		{"APNs ExpiredProviderToken", l.apns, pushtest.Fault{Action: pushtest.Respond, Status: 403, Reason: "ExpiredProviderToken", Count: 1},
			msg(typeAppleToken, ios, "a1"), `{"error":"unknown send response error: ExpiredProviderToken","status":"FAIL"}`},
		{"APNs PayloadTooLarge", nil, pushtest.Fault{},
			func() mmpush.PushNotification {
				n := msg(typeAppleToken, ios, "a2")
				n.Message = strings.Repeat("x", 2047)
				n.ChannelName = ""
				n.Version = ""
				n.OverrideIconURL = strings.Repeat("y", 3000)
				return n
			}(),
			`{"error":"unknown send response error: PayloadTooLarge","status":"FAIL"}`},
		{"FCM THIRD_PARTY_AUTH_ERROR", l.fcm, pushtest.Fault{Action: pushtest.Respond, Reason: "THIRD_PARTY_AUTH_ERROR", Count: 1},
			msg(typeAndroid, android, "a3"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.faults != nil {
				if _, err := c.faults.AddFault(c.fault); err != nil {
					t.Fatal(err)
				}
			}
			before := l.requests(c.n.DeviceID)
			body := l.push(c.n)
			if c.want != "" && body != c.want+"\n" {
				t.Fatalf("answer %q, want %q", body, c.want)
			}
			if !strings.Contains(body, `"status":"FAIL"`) {
				t.Fatalf("answer %q", body)
			}
			if n := l.requests(c.n.DeviceID) - before; n != 1 {
				t.Fatalf("%d requests reached the provider, want 1 (a 4xx is final)", n)
			}
		})
	}
}

// A certificate for the other environment is refused by APNs: FAIL, once.
func TestIntegrationWrongCertificateEnvironment(t *testing.T) {
	l := newLab(t, func(c *runConfig) {
		for i := range c.ApplePushSettings {
			if c.ApplePushSettings[i].Type == typeApplePEM {
				// the development certificate, sent to production
				c.ApplePushSettings[i].ApplePushCertPrivate = filepath.Join(filepath.Dir(c.AndroidPushSettings[0].ServiceFileLocation), testpki.FileAPNsDevPEM)
			}
		}
	})
	tok := l.iphone(typeApplePEM)
	if body := l.push(msg(typeApplePEM, tok, "a")); body != `{"error":"unknown send response error: BadCertificateEnvironment","status":"FAIL"}`+"\n" {
		t.Fatalf("answer %q", body)
	}
}

// Transient answers are retried with backoff, honouring Retry-After, and the
// device gets the notification once.
func TestIntegrationRetries(t *testing.T) {
	cases := []struct {
		name      string
		android   bool
		fault     pushtest.Fault
		wantBody  string
		wantReqs  int
		wantWaits []time.Duration
	}{
		{"APNs 503 with Retry-After", false, pushtest.Fault{Action: pushtest.Respond, Status: 503, Reason: "ServiceUnavailable", RetryAfter: "3", Count: 1},
			okBody, 2, []time.Duration{3 * time.Second}},
		{"APNs 429 TooManyRequests, backoff", false, pushtest.Fault{Action: pushtest.Respond, Status: 429, Reason: "TooManyRequests", Count: 2},
			okBody, 3, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}},
		{"APNs 500 every time", false, pushtest.Fault{Action: pushtest.Respond, Status: 500, Reason: "InternalServerError"},
			`{"error":"unknown send response error: InternalServerError","status":"FAIL"}` + "\n", 3, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}},
		{"FCM INTERNAL", true, pushtest.Fault{Action: pushtest.Respond, Reason: "INTERNAL", Count: 1},
			okBody, 2, []time.Duration{10 * time.Millisecond}},
		{"FCM QUOTA_EXCEEDED with Retry-After", true, pushtest.Fault{Action: pushtest.Respond, Reason: "QUOTA_EXCEEDED", RetryAfter: "2", Count: 1},
			okBody, 2, []time.Duration{2 * time.Second}},
		// firebase-admin-go retries the 503 at once, inside the try: the proxy adds no round.
		{"FCM UNAVAILABLE is the SDK's to retry", true, pushtest.Fault{Action: pushtest.Respond, Reason: "UNAVAILABLE", Count: 1},
			okBody, 2, nil},
		{"a Retry-After past the send timeout is not waited for", false, pushtest.Fault{Action: pushtest.Respond, Status: 429, Reason: "TooManyRequests", RetryAfter: "3600", Count: 1},
			`{"error":"unknown send response error: TooManyRequests","status":"FAIL"}` + "\n", 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLab(t, func(c *runConfig) { c.RetryBackoffMs = 10 })
			var tok string
			var faults faultScript = l.apns
			appType := typeAppleToken
			if c.android {
				tok, faults, appType = l.pixel(typeAndroid), l.fcm, typeAndroid
			} else {
				tok = l.iphone(typeAppleToken)
			}
			c.fault.Token = tok
			if _, err := faults.AddFault(c.fault); err != nil {
				t.Fatal(err)
			}
			if body := l.push(msg(appType, tok, "ack-retry")); body != c.wantBody {
				t.Fatalf("answer %q, want %q", body, c.wantBody)
			}
			reqs := l.requests(tok)
			if reqs != c.wantReqs {
				t.Fatalf("%d requests at the provider, want %d", reqs, c.wantReqs)
			}
			if got := l.recordedWaits(); !slices.Equal(got, c.wantWaits) {
				t.Fatalf("waits %v, want %v", got, c.wantWaits)
			}
			want := 0
			if c.wantBody == okBody {
				want = 1
			}
			if got := len(l.deliveries(tok)); got != want {
				t.Fatalf("%d deliveries, want %d", got, want)
			}
		})
	}
}

func faults0(android bool) string {
	if android {
		return string(FCM)
	}
	return string(APNs)
}

func grep(s, sub string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// SIGTERM (Serve's context ending) lets an in-flight send finish and be
// answered, and takes no new connection.
func TestIntegrationShutdownDrains(t *testing.T) {
	l := newLab(t, nil)
	tok := l.iphone(typeAppleToken)
	if _, err := l.apns.AddFault(pushtest.Fault{Token: tok, Action: pushtest.Delay, Latency: 300 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}
	sub, _ := l.bus.Subscribe(0, false)
	defer sub.Close()
	answer := make(chan string, 1)
	go func() {
		b, _ := json.Marshal(msg(typeAppleToken, tok, "ack-drain"))
		resp, err := l.client.Post(l.url+"/api/v1/send_push", "application/json", strings.NewReader(string(b)))
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		answer <- string(rb)
	}()
	// Wait until mock APNs holds the request (its fault fired), then stop.
	for e := range sub.C() {
		if e.Hop == events.FaultInjected && e.Actor == mockapns.Actor {
			break
		}
	}
	l.cancel()
	if err := l.served(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// Had Serve cut the connection instead of draining, the client would
	// have an error here, not the answer.
	if got := <-answer; got != okBody {
		t.Fatalf("in-flight request answered %q", got)
	}
	if len(l.deliveries(tok)) != 1 {
		t.Fatal("the in-flight push was not delivered")
	}
	fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: l.set.CA.Pool()}}}
	if _, err := fresh.Get(l.url + "/healthz"); err == nil {
		t.Fatal("a new connection was served after shutdown")
	}
}

// A refused OAuth token is one failed try, not four hits on the token
// endpoint from the SDK's retrying.
func TestIntegrationFCMAuthRefused(t *testing.T) {
	l := newLab(t, func(c *runConfig) { c.RetryBackoffMs = 10 })
	tok := l.pixel(typeAndroid)
	// A service account the mock does not know: same project, another key id.
	other := *l.sa
	other.PrivateKeyID = "0000000000000000000000000000000000000000"
	file := filepath.Join(l.dir, "unknown-sa.json")
	if err := os.WriteFile(file, other.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := l.proxy.cfg
	cfg.AndroidPushSettings = []AndroidPushSettings{{Type: typeAndroid, ServiceFileLocation: file}}
	cfg.ApplePushSettings = nil
	cfg.Registerer, cfg.Gatherer = nil, nil
	l.start(cfg)
	body := l.push(msg(typeAndroid, tok, "ack-auth"))
	if !strings.Contains(body, `"status":"FAIL"`) || !strings.Contains(body, "oauth2") {
		t.Fatalf("answer %q", body)
	}
	if n := l.requests(tok); n != 0 {
		t.Fatalf("%d sends reached FCM without a token", n)
	}
	if len(l.recordedWaits()) != 0 {
		t.Fatalf("retried: waits %v", l.recordedWaits())
	}
}

// The transparent way: no host or endpoint override at all. The proxy dials
// Apple's and Google's real hostnames (token_uri included), the lab's "DNS"
// sends them to the mocks, whose certificate is valid for those names and
// whose CA the proxy trusts (as SSL_CERT_FILE does for a process).
func TestIntegrationTransparent(t *testing.T) {
	l := newLab(t, nil)
	sa := *l.sa
	sa.TokenURI = testpki.GoogleTokenURI
	if err := l.fcm.RegisterServiceAccount(&sa); err != nil {
		t.Fatal(err)
	}
	saFile := filepath.Join(l.dir, "google-token-uri.json")
	if err := os.WriteFile(saFile, sa.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	hostOf := func(u string) string { return strings.TrimPrefix(u, "https://") }
	routes := map[string]string{
		"api.push.apple.com:443":         hostOf(l.apns.URL),
		"api.sandbox.push.apple.com:443": hostOf(l.apns.DevelopmentURL),
		"fcm.googleapis.com:443":         hostOf(l.fcm.URL),
		"oauth2.googleapis.com:443":      hostOf(l.fcm.URL),
	}
	var mu sync.Mutex
	dialled := map[string]bool{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := routes[addr]
		if !ok {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("no route to " + addr)}
		}
		mu.Lock()
		dialled[addr] = true
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	cfg := l.proxy.cfg
	cfg.APNsHost, cfg.APNsDevelopmentHost, cfg.FCMEndpoint = "", "", ""
	cfg.DialContext = dial
	cfg.AndroidPushSettings = []AndroidPushSettings{{Type: typeAndroid, ServiceFileLocation: saFile}}
	cfg.Registerer, cfg.Gatherer = nil, nil
	l.start(cfg)
	for appType, tok := range map[string]string{
		typeAppleToken: l.iphone(typeAppleToken), typeAppleP12: l.iphone(typeAppleP12), typeAndroid: l.pixel(typeAndroid),
	} {
		if body := l.push(msg(appType, tok, "ack-"+appType)); body != okBody {
			t.Errorf("%s: %q", appType, body)
		}
		if len(l.deliveries(tok)) != 1 {
			t.Errorf("%s: not delivered", appType)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialled) != len(routes) {
		t.Fatalf("dialled %v, want every real hostname", dialled)
	}
}

// Like every pushlab actor, the proxy streams its hops at GET /events, so a
// collector in another process sees them.
func TestIntegrationEventsEndpoint(t *testing.T) {
	l := newLab(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := events.Dial(ctx, "wss"+strings.TrimPrefix(l.url, "https")+"/events?history=0", &tls.Config{RootCAs: l.set.CA.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	tok := l.iphone(typeAppleToken)
	if body := l.push(msg(typeAppleToken, tok, "ack-events")); body != okBody {
		t.Fatalf("answer %q", body)
	}
	var hops []events.Hop
	for !containsHop(hops, events.ProxyResponded) {
		e, _, err := stream.Next()
		if err != nil {
			t.Fatalf("after %v: %v", hops, err)
		}
		if e.TraceID == "ack-events" && e.Actor == "proxy" {
			hops = append(hops, e.Hop)
		}
	}
	if !containsHop(hops, events.ProxyReceived) || !containsHop(hops, events.ProxyForwarded) {
		t.Fatalf("proxy hops over /events: %v", hops)
	}
}
