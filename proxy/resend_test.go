package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/pushlab/pushlab/pushtest"
)

// What each ResendPolicy answers, and what reaches the device, for each of
// the mocks' fault actions, through the real apns2 and firebase clients.
func TestIntegrationResendPolicy(t *testing.T) {
	const late = 1500 * time.Millisecond // past the 1 s try
	type want struct {
		ok         bool
		deliveries int
	}
	faults := []struct {
		name                    string
		f                       pushtest.Fault
		never, upstream, resend want
	}{
		// Reset before accepting: never delivered; only "never" loses it.
		{"reset", pushtest.Fault{Action: pushtest.Reset}, want{false, 0}, want{true, 1}, want{true, 1}},
		// Delivered, answer lost: "never" says FAIL for a delivered push;
		// a resend delivers a second copy, which the collapse id makes one.
		{"accept_reset", pushtest.Fault{Action: pushtest.AcceptReset}, want{false, 1}, want{true, 2}, want{true, 2}},
		{"accept_late", pushtest.Fault{Action: pushtest.AcceptLate, Latency: late}, want{false, 1}, want{true, 2}, want{true, 2}},
		{"delay_accept", pushtest.Fault{Action: pushtest.DelayAccept, Latency: late}, want{false, 1}, want{true, 2}, want{true, 2}},
	}
	for _, android := range []bool{false, true} {
		for _, policy := range []ResendPolicy{ResendNever, ResendUpstream, ResendCollapse} {
			t.Run(faults0(android)+"/"+string(policy), func(t *testing.T) {
				l := newLab(t, func(cfg *runConfig) {
					cfg.RetryTimeoutSec, cfg.RetryBackoffMs, cfg.ResendPolicy = 1, 10, policy
				})
				tok, script, appType := l.iphone(typeAppleToken), faultScript(l.apns), typeAppleToken
				if android {
					tok, script, appType = l.pixel(typeAndroid), l.fcm, typeAndroid
				}
				// Connections up and the OAuth token fetched, so the 1 s try is all send.
				if body := l.push(msg(appType, tok, "ack-warm")); body != okBody {
					t.Fatalf("warm-up: %q", body)
				}
				for _, c := range faults {
					w := map[ResendPolicy]want{ResendNever: c.never, ResendUpstream: c.upstream, ResendCollapse: c.resend}[policy]
					ack := "ack-" + c.name
					f := c.f
					f.Token, f.Count = tok, 1
					if _, err := script.AddFault(f); err != nil {
						t.Fatal(err)
					}
					body := l.push(msg(appType, tok, ack))
					if got := body == okBody; got != w.ok {
						t.Errorf("%s: answer %q, want OK=%v", c.name, body, w.ok)
					}
					got := l.settledDeliveries(tok, ack, w.deliveries)
					if len(got) != w.deliveries {
						t.Errorf("%s: %d deliveries, want %d", c.name, len(got), w.deliveries)
					}
					for _, d := range got {
						wantKey := ""
						if policy == ResendCollapse && !android {
							wantKey = ack // APNs: the ack_id as apns-collapse-id
						}
						if d.CollapseKey != wantKey {
							t.Errorf("%s: delivered with collapse id %q, want %q", c.name, d.CollapseKey, wantKey)
						}
					}
				}
				m := l.metrics()
				if policy != ResendNever && !strings.Contains(m, `pushlab_proxy_resends_total{provider="`+faults0(android)+`"`) {
					t.Errorf("no resend counted:\n%s", grep(m, "pushlab_proxy_"))
				}
				if !strings.Contains(m, `pushlab_proxy_tries_total{class="unconfirmed",provider="`+faults0(android)+`"}`) {
					t.Errorf("no unconfirmed try counted:\n%s", grep(m, "tries_total"))
				}
				if policy == ResendCollapse && !android && !strings.Contains(m, `pushlab_proxy_collapses_total{provider="apns"`) {
					t.Errorf("no collapse counted:\n%s", grep(m, "collapses_total"))
				}
			})
		}
	}
}

// A try that outlives its timeout and is answered while its resend still
// waits for its own answer: the late OK is the answer.
func TestIntegrationLateAnswerCounts(t *testing.T) {
	l := newLab(t, func(cfg *runConfig) { cfg.RetryTimeoutSec, cfg.RetryBackoffMs, cfg.SendTimeoutSec = 1, 10, 5 })
	tok := l.iphone(typeAppleToken)
	if body := l.push(msg(typeAppleToken, tok, "ack-warm")); body != okBody {
		t.Fatalf("warm-up: %q", body)
	}
	// Both the try and its resend are accepted and answered 1.5 s later.
	if _, err := l.apns.AddFault(pushtest.Fault{Token: tok, Count: 2, Action: pushtest.AcceptLate, Latency: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if body := l.push(msg(typeAppleToken, tok, "ack-late")); body != okBody {
		t.Fatalf("answer %q, want the late OK", body)
	}
	if m := l.metrics(); !strings.Contains(m, `pushlab_proxy_late_answers_total{provider="apns",result="OK"} 1`) {
		t.Fatalf("late answer not counted:\n%s", grep(m, "late_answers"))
	}
	if n := len(l.settledDeliveries(tok, "ack-late", 2)); n != 2 {
		t.Fatalf("%d deliveries, want 2 (the try and its resend, one collapse id)", n)
	}
}

// settledDeliveries waits until the device got want pushes for ack (or 3 s
// pass), then a little longer to catch one too many.
func (l *lab) settledDeliveries(tok, ack string, want int) []pushtest.Delivery {
	of := func() []pushtest.Delivery {
		var out []pushtest.Delivery
		for _, d := range l.deliveries(tok) {
			if bytes.Contains(d.Payload, []byte(`"ack_id":"`+ack+`"`)) {
				out = append(out, d)
			}
		}
		return out
	}
	for end := time.Now().Add(3 * time.Second); len(of()) < want && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	return of()
}

// One try against real HTTP/2 servers, as the observer classifies it.
func TestTryClassification(t *testing.T) {
	set := testSet(t)
	h2 := func(h http.HandlerFunc) (string, func() net.Conn) {
		var last atomic.Pointer[net.Conn]
		srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Mock.TLS()}, NextProtos: []string{"h2"}},
			ConnContext: func(ctx context.Context, c net.Conn) context.Context { last.Store(&c); return ctx }}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := http2.ConfigureServer(srv, nil); err != nil {
			t.Fatal(err)
		}
		go srv.ServeTLS(ln, "", "")
		t.Cleanup(func() { srv.Close() })
		return "https://" + ln.Addr().String(), func() net.Conn { return *last.Load() }
	}
	readAll := func(r *http.Request) { io.Copy(io.Discard, r.Body) }
	var killConn func() net.Conn
	okURL, _ := h2(func(w http.ResponseWriter, r *http.Request) { readAll(r); w.WriteHeader(503) })
	resetURL, _ := h2(func(w http.ResponseWriter, r *http.Request) { readAll(r); panic(http.ErrAbortHandler) })
	var dropURL string
	dropURL, killConn = h2(func(w http.ResponseWriter, r *http.Request) { readAll(r); killConn().Close(); select {} })
	slowURL, _ := h2(func(w http.ResponseWriter, r *http.Request) { readAll(r); <-r.Context().Done() })
	refuseURL := refusingServer(t, set.Mock.TLS(), 1, false, false)
	goAwayURL := refusingServer(t, set.Mock.TLS(), 1, true, false)
	goneURL := refusingServer(t, set.Mock.TLS(), 1, false, true)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "https://" + dead.Addr().String()
	dead.Close()

	cases := []struct {
		name       string
		url        string
		timeout    time.Duration
		unanswered bool
		why        string
		status     int
	}{
		{"answered (a 503 is an answer)", okURL, 5 * time.Second, false, "", 503},
		{"never written: connection refused", deadURL, 5 * time.Second, false, "", 0},
		{"written, then the stream reset: unconfirmed", resetURL, 5 * time.Second, true, "stream_reset", 0},
		{"written, then the connection lost: unconfirmed", dropURL, 5 * time.Second, true, "connection_lost", 0},
		{"written, then no answer before the deadline: unconfirmed", slowURL, 300 * time.Millisecond, true, ReasonTimeout, 0},
		{"written but REFUSED_STREAM, then answered on a new connection", refuseURL, 5 * time.Second, false, "", 200},
		{"written but above a GOAWAY's last stream, then answered on a new connection", goAwayURL, 5 * time.Second, false, "", 200},
		// The write was refused; the transport's own retry found no connection.
		{"written but REFUSED_STREAM, then no TLS connection: never sent", goneURL, 5 * time.Second, false, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: set.CA.Pool(), ServerName: "localhost"}}
			defer tr.CloseIdleConnections()
			o := &observer{base: tr, provider: APNs}
			a := &attempts{}
			ctx, cancel := context.WithTimeout(withAttempts(context.Background(), a), c.timeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/3/device/x", bytes.NewReader([]byte(`{"aps":{}}`)))
			resp, err := o.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			n, status, _, unanswered := a.snapshot()
			if n != 1 || unanswered != c.unanswered || status != c.status || a.unconfirmedWhy() != c.why {
				t.Fatalf("attempts %d, status %d, unanswered %v (%q), want status %d, unanswered %v (%q); err %v",
					n, status, unanswered, a.unconfirmedWhy(), c.status, c.unanswered, c.why, err)
			}
		})
	}
}

// The errors by which HTTP/2 says a request was not processed, from either
// implementation, and the ones that leave delivery unknown.
func TestUnprocessed(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{http2.StreamError{StreamID: 1, Code: http2.ErrCodeRefusedStream}, true},
		{http2.StreamError{StreamID: 1, Code: http2.ErrCodeInternal}, false},
		{http2.ErrNoCachedConn, true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, false},
		{errors.New("http2: Transport received Server's graceful shutdown GOAWAY"), true},
		{errors.New("stream error: stream ID 3; REFUSED_STREAM"), true}, // net/http's bundled copy
		{http2.GoAwayError{LastStreamID: 5, ErrCode: http2.ErrCodeNo}, false},
		{context.DeadlineExceeded, false},
		{io.ErrUnexpectedEOF, false},
	} {
		if got := unprocessed(c.err); got != c.want {
			t.Errorf("unprocessed(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// refusingServer is a bare HTTP/2 server that refuses the first refuse
// streams, each with RST_STREAM REFUSED_STREAM (or with goAway, a GOAWAY
// whose last stream id is 0), closing the connection after, and answers the
// rest 200; with thenGone it hangs up every later connection before TLS.
func refusingServer(t *testing.T, cert tls.Certificate, refuse int, goAway, thenGone bool) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var refused atomic.Int32
	var gone atomic.Bool
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if gone.Load() { // hang up before the TLS handshake
				c.(*tls.Conn).NetConn().Close()
				continue
			}
			go func(c net.Conn) {
				defer c.Close()
				preface := make([]byte, len(http2.ClientPreface))
				if _, err := io.ReadFull(c, preface); err != nil {
					return
				}
				fr := http2.NewFramer(c, c)
				fr.WriteSettings()
				for {
					f, err := fr.ReadFrame()
					if err != nil {
						return
					}
					switch f := f.(type) {
					case *http2.SettingsFrame:
						if !f.IsAck() {
							fr.WriteSettingsAck()
						}
					case *http2.DataFrame:
						if !f.StreamEnded() {
							continue
						}
						if refused.Add(1) <= int32(refuse) {
							if !goAway {
								fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
							}
							if thenGone {
								gone.Store(true)
							}
							fr.WriteGoAway(0, http2.ErrCodeNo, nil)
							time.Sleep(50 * time.Millisecond) // the frames reach the client before the close
							return
						}
						var hb bytes.Buffer
						hpack.NewEncoder(&hb).WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
						fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hb.Bytes(), EndHeaders: true, EndStream: true})
					}
				}
			}(c)
		}
	}()
	return "https://" + ln.Addr().String()
}

// BenchmarkResend is the price of making lost answers harmless: requests to
// the provider and copies delivered per notification, with a share of the
// requests accepted and their answer lost (or reset before acceptance), under
// each ResendPolicy. ns/op includes the resends' backoff (10 ms).
func BenchmarkResend(b *testing.B) {
	for _, c := range []struct {
		name    string
		percent float64
		action  pushtest.Action
	}{
		{"no-fault", 0, ""},
		{"5pct-reset", 5, pushtest.Reset},
		{"5pct-accept_reset", 5, pushtest.AcceptReset},
		{"20pct-accept_reset", 20, pushtest.AcceptReset},
	} {
		for _, policy := range []ResendPolicy{ResendNever, ResendUpstream, ResendCollapse} {
			if c.action == "" && policy != ResendCollapse {
				continue
			}
			b.Run(c.name+"/"+string(policy), func(b *testing.B) {
				l := newLab(b, func(cfg *runConfig) {
					cfg.Logger, cfg.Bus = slog.New(slog.DiscardHandler), nil
					cfg.RetryBackoffMs, cfg.ResendPolicy = 10, policy
				})
				tok := l.iphone(typeAppleToken)
				if body := l.push(msg(typeAppleToken, tok, "ack-warm")); body != okBody {
					b.Fatalf("warm-up: %q", body)
				}
				if c.action != "" {
					l.apns.SeedFaults(22)
					if _, err := l.apns.AddFault(pushtest.Fault{Token: tok, Percent: c.percent, Action: c.action}); err != nil {
						b.Fatal(err)
					}
				}
				before, delivered := attemptsTo(l.metrics(), "apns"), len(l.deliveries(tok))
				fails := 0
				b.ResetTimer()
				for i := range b.N {
					if l.push(msg(typeAppleToken, tok, "ack-"+strconv.Itoa(i))) != okBody {
						fails++
					}
				}
				b.StopTimer()
				n := float64(b.N)
				b.ReportMetric((attemptsTo(l.metrics(), "apns")-before)/n, "requests/notification")
				b.ReportMetric(float64(len(l.deliveries(tok))-delivered)/n, "deliveries/notification")
				b.ReportMetric(100*float64(fails)/n, "FAIL%")
			})
		}
	}
}

// attemptsTo sums pushlab_proxy_provider_attempts_total for a provider.
func attemptsTo(metrics, provider string) float64 {
	sum := 0.0
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, "pushlab_proxy_provider_attempts_total{") || !strings.Contains(line, `provider="`+provider+`"`) {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// A request a fault hits is in the mock's log with its ids and payload,
// whether it was reset before or after acceptance, or abandoned.
func TestIntegrationFaultedRequestsRecorded(t *testing.T) {
	l := newLab(t, func(cfg *runConfig) { cfg.RetryTimeoutSec, cfg.RetryBackoffMs, cfg.ResendPolicy = 1, 10, ResendNever })
	for _, android := range []bool{false, true} {
		tok, script, appType := l.iphone(typeAppleToken), faultScript(l.apns), typeAppleToken
		requests := l.apns.Requests
		if android {
			tok, script, appType = l.pixel(typeAndroid), l.fcm, typeAndroid
			requests = l.fcm.Requests
		}
		if body := l.push(msg(appType, tok, "ack-warm")); body != okBody {
			t.Fatalf("warm-up: %q", body)
		}
		for _, a := range []pushtest.Action{pushtest.Reset, pushtest.AcceptReset, pushtest.Delay} {
			f := pushtest.Fault{Token: tok, Count: 1, Action: a}
			if a == pushtest.Delay {
				f.Latency = 1500 * time.Millisecond // abandoned by the 1 s try
			}
			added, err := script.AddFault(f)
			if err != nil {
				t.Fatal(err)
			}
			ack := "ack-rec-" + string(a)
			l.push(msg(appType, tok, ack))
			var found bool
			for end := time.Now().Add(2 * time.Second); !found && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				for _, r := range requests(0) {
					if r.Fault == added.ID {
						found = true
						if !strings.Contains(r.Body, ack) || r.Token != tok || (!android && r.ID == "") {
							t.Errorf("%s/%s: recorded %+v, want its body, token and apns-id", faults0(android), a, r)
						}
					}
				}
			}
			if !found {
				t.Errorf("%s/%s: the faulted request is not in the log", faults0(android), a)
			}
		}
	}
}

// ResendPolicy is a setting like the others: file, PUSHLAB_RESEND_POLICY,
// --resend-policy (the CLI's binder tests those two); collapse by default;
// an unknown value stops New.
func TestResendPolicySetting(t *testing.T) {
	c := DefaultConfig()
	if c.ResendPolicy != ResendCollapse {
		t.Fatalf("default %q", c.ResendPolicy)
	}
	f, err := ParseConfig([]byte(`{"ResendPolicy":"upstream"}`))
	if err != nil || f.ResendPolicy != ResendUpstream {
		t.Fatalf("file: %q %v", f.ResendPolicy, err)
	}
	if _, err := New(Config{Settings: Settings{ResendPolicy: "sometimes"}}, Options{Logger: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), "ResendPolicy") {
		t.Fatalf("New with an unknown policy: %v", err)
	}
	for ack, want := range map[string]string{"": "", "abc": "abc", strings.Repeat("x", 64): strings.Repeat("x", 64)} {
		if got := CollapseID(ack); got != want {
			t.Errorf("CollapseID(%q) = %q", ack, got)
		}
	}
	if long := CollapseID(strings.Repeat("x", 65)); len(long) > MaxCollapseID || long == CollapseID(strings.Repeat("y", 65)) {
		t.Errorf("CollapseID of a long ack_id: %q", long)
	}
}

// Why FCM data messages get no collapse_key from the ack_id: an offline
// phone keeps every notification FCM stored for it, where distinct collapse
// keys would leave it at most four.
func TestIntegrationOfflineAndroidKeepsAll(t *testing.T) {
	l := newLab(t, nil)
	tok := l.pixel(typeAndroid)
	l.fcm.Detach(tok)
	const n = 10
	for i := range n {
		if body := l.push(msg(typeAndroid, tok, "ack-offline-"+strconv.Itoa(i))); body != okBody {
			t.Fatalf("push %d: %q", i, body)
		}
	}
	l.fcm.Attach(tok, l.receiver(tok))
	if got := len(l.deliveries(tok)); got != n {
		t.Fatalf("%d of %d stored notifications delivered on reconnecting", got, n)
	}
}
