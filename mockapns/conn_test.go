package mockapns

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/testpki"
	"github.com/sideshow/apns2"
	"golang.org/x/net/http2"
)

// countDials makes c's transport count the connections it opens. Only the
// mock may close one: the transport's health-check ping is off (apns2 sets
// ReadIdleTimeout; on a loaded machine a late pong closes the connection and
// the next push dials another).
func countDials(c *apns2.Client) *atomic.Int64 {
	var n atomic.Int64
	tr := c.HTTPClient.Transport.(*http2.Transport)
	tr.ReadIdleTimeout = 0
	tr.DialTLSContext = func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
		n.Add(1)
		d := tls.Dialer{Config: cfg}
		return d.DialContext(ctx, network, addr)
	}
	return &n
}

// oneConnection is for tests of the per-connection rules (the key a
// connection is pinned to): c's transport keeps to one connection, waiting
// for a free stream rather than opening another (a token connection starts
// with one), and the returned check fails t if a second one was dialled, so
// a verdict about "the same connection" is never about two.
func oneConnection(t *testing.T, c *apns2.Client) (check func()) {
	t.Helper()
	dials := countDials(c)
	c.HTTPClient.Transport.(*http2.Transport).StrictMaxConcurrentStreams = true
	return func() {
		t.Helper()
		if n := dials.Load(); n != 1 {
			t.Fatalf("the pushes took %d connections, want one", n)
		}
	}
}

// goAways counts the events of connections closed for bad requests.
func goAways(bus *events.Bus) int {
	n := 0
	for _, e := range bus.History() {
		if e.Hop == events.ProviderRejected && e.Status == StatusGoAway {
			n++
		}
	}
	return n
}

// TestGoAwayAfterBadRequests drives apns2 through runs of answers on one
// connection and tells by the dials whether the mock closed it.
func TestGoAwayAfterBadRequests(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		steps string // one push each: b = BadDeviceToken, o = another 400 (BadPriority), g = 410, k = 200
		dials int64  // connections opened, counting one more push (k) after the steps
	}{
		{"limit of BadDeviceToken closes", 3, "bbb", 2},
		{"below the limit stays open", 3, "bb", 1},
		{"a 200 ends the run", 3, "bbkbbkbb", 1},
		{"410s do not count", 2, "gggggggb", 1},
		{"a 410 does not end the run", 2, "bgb", 2},
		{"another 400 counts half", 2, "ooo", 1},
		{"four other 400s reach a limit of two", 2, "oooo", 2},
		{"a mix", 2, "obo", 2},
		{"off by default", 0, strings.Repeat("b", 20), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxBadRequests = tt.limit })
			gone := f.register(f.set.BundleID, testpki.Production)
			if _, ok := f.s.Uninstall(gone); !ok {
				t.Fatal("uninstall: no such token")
			}
			c := f.tokenClient(f.set.APNsKey, testpki.Production)
			dials := countDials(c)
			want := map[byte]struct {
				status int
				reason string
			}{'b': {400, ReasonBadDeviceToken}, 'o': {400, ReasonBadPriority}, 'g': {410, ReasonUnregistered}, 'k': {200, ""}}
			for i := range len(tt.steps) + 1 {
				step := byte('k')
				if i < len(tt.steps) {
					step = tt.steps[i]
				}
				n := f.note(f.prod)
				switch step {
				case 'b':
					n.DeviceToken = strings.Repeat("ab", 32)
				case 'o':
					n.Priority = 7
				case 'g':
					n.DeviceToken = gone
				}
				// Every request is answered as usual, the one that trips the limit too.
				res := push(t, c, n)
				if w := want[step]; res.StatusCode != w.status || res.Reason != w.reason {
					t.Fatalf("push %d (%c): %d %q, want %d %q", i, step, res.StatusCode, res.Reason, w.status, w.reason)
				}
			}
			if got := dials.Load(); got != tt.dials {
				t.Errorf("%d connections opened, want %d", got, tt.dials)
			}
			if got, want := goAways(f.bus), int(tt.dials-1); got != want {
				t.Errorf("%d GoAway events, want %d", got, want)
			}
		})
	}
}

// TestGoAwayEventAndRecord checks what the mock says when it closes a connection.
func TestGoAwayEventAndRecord(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBadRequests = 2 })
	c := f.tokenClient(f.set.APNsKey, testpki.Production)
	bad := f.note(strings.Repeat("ab", 32))
	push(t, c, bad)
	res := push(t, c, bad)
	var ev *events.Event
	for _, e := range f.bus.History() {
		if e.Status == StatusGoAway {
			ev = &e
		}
	}
	if ev == nil {
		t.Fatal("no GoAway event")
	}
	if ev.Hop != events.ProviderRejected || ev.Actor != Actor || ev.TraceID != "" {
		t.Errorf("event %+v", *ev)
	}
	if ev.Attrs["apns-id"] != res.ApnsID || ev.Attrs["bad_device_tokens"] != "2" || ev.Attrs["limit"] != "2" || ev.Attrs["remote"] == "" {
		t.Errorf("attrs %v", ev.Attrs)
	}
	recs := f.s.Requests(0)
	if last := recs[len(recs)-1]; last.Reason != ReasonBadDeviceToken || !strings.Contains(last.Auth["note"].(string), "GOAWAY") {
		t.Errorf("record %+v", last)
	}
}

// TestGoAwayOtherConnectionsUnaffected: the run is per connection.
func TestGoAwayOtherConnectionsUnaffected(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBadRequests = 2 })
	a := f.tokenClient(f.set.APNsKey, testpki.Production)
	b := f.tokenClient(f.set.APNsKey, testpki.Production)
	da, db := countDials(a), countDials(b)
	bad := f.note(strings.Repeat("ab", 32))
	push(t, a, bad)
	push(t, b, bad)
	push(t, a, bad) // a's second: a closes; b has had one
	for _, c := range []*apns2.Client{a, b} {
		if res := push(t, c, f.note(f.prod)); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, res.Reason)
		}
	}
	if da.Load() != 2 || db.Load() != 1 {
		t.Errorf("dials: a %d (want 2), b %d (want 1)", da.Load(), db.Load())
	}
	if n := goAways(f.bus); n != 1 {
		t.Errorf("%d GoAway events, want 1", n)
	}
}

// TestIdleTimeoutSendsGoAway reads the frames of a connection that sends
// nothing: Config.IdleTimeout ends it with a GOAWAY (NO_ERROR), not a bare close.
func TestIdleTimeoutSendsGoAway(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.IdleTimeout = 20 * time.Millisecond })
	u, err := url.Parse(f.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: f.s.CertPool(), ServerName: HostProduction, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a bound for a broken mock, not a measurement
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		switch fr := frame.(type) {
		case *http2.SettingsFrame:
			continue
		case *http2.GoAwayFrame:
			if fr.ErrCode != http2.ErrCodeNo || fr.LastStreamID != 0 {
				t.Errorf("GOAWAY %v, last stream %d; want NO_ERROR, 0", fr.ErrCode, fr.LastStreamID)
			}
			return
		case *http2.WindowUpdateFrame, *http2.PingFrame:
			continue
		default:
			t.Fatalf("unexpected frame %T", frame)
		}
	}
}
