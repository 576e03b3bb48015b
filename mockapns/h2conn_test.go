package mockapns

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/testpki"
	"github.com/sideshow/apns2"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawConn is an HTTP/2 client at the frame level (golang.org/x/net/http2's
// Framer), for what no APNs client shows: SETTINGS, RST_STREAM, GOAWAY.
type rawConn struct {
	t   *testing.T
	tc  *tls.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
	// seen are the frames read and passed over, for a later next to find.
	seen []frame
}

func dialRaw(t *testing.T, f *fixture, certs ...tls.Certificate) *rawConn {
	t.Helper()
	tc, err := tls.Dial("tcp", strings.TrimPrefix(f.s.URL, "https://"), &tls.Config{RootCAs: f.s.CertPool(),
		NextProtos: []string{"h2"}, ServerName: HostProduction, Certificates: certs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawConn{t: t, tc: tc}
	c.fr = http2.NewFramer(tc, tc)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.buf)
	if _, err := tc.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return c
}

// request opens stream id with a push to token (bearer "" = none).
func (c *rawConn) request(id uint32, token, topic, bearer string) {
	c.t.Helper()
	c.buf.Reset()
	fields := []hpack.HeaderField{{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: HostProduction}, {Name: ":path", Value: devicePath + token},
		{Name: "apns-topic", Value: topic}, {Name: "content-type", Value: "application/json"}}
	if bearer != "" {
		fields = append(fields, hpack.HeaderField{Name: "authorization", Value: "bearer " + bearer})
	}
	for _, hf := range fields {
		c.enc.WriteField(hf)
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.buf.Bytes(), EndHeaders: true}); err != nil {
		c.t.Fatal(err)
	}
	if err := c.fr.WriteData(id, true, []byte(payload)); err != nil {
		c.t.Fatal(err)
	}
}

// frame is what the tests look at in a frame read (the Framer's own frames
// are only valid until the next read).
type frame struct {
	kind       http2.FrameType
	stream     uint32
	ack        bool
	maxStreams uint32 // SETTINGS: MAX_CONCURRENT_STREAMS, 0 if absent
	code       http2.ErrCode
	debug      string // GOAWAY
	status     string // HEADERS
}

func snapshot(fr http2.Frame) frame {
	f := frame{kind: fr.Header().Type, stream: fr.Header().StreamID}
	switch x := fr.(type) {
	case *http2.SettingsFrame:
		f.ack = x.IsAck()
		f.maxStreams, _ = x.Value(http2.SettingMaxConcurrentStreams)
	case *http2.RSTStreamFrame:
		f.code = x.ErrCode
	case *http2.GoAwayFrame:
		f.code, f.debug = x.ErrCode, string(x.DebugData())
	case *http2.MetaHeadersFrame:
		f.status = x.PseudoValue("status")
	}
	return f
}

// next reads frames until want says it is the one, ACKing SETTINGS as a
// client must; frames passed over are kept for later calls.
func (c *rawConn) next(want func(frame) bool) frame {
	c.t.Helper()
	for i, f := range c.seen {
		if want(f) {
			c.seen = append(c.seen[:i:i], c.seen[i+1:]...)
			return f
		}
	}
	for {
		fr, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("read frame: %v", err)
		}
		f := snapshot(fr)
		if f.kind == http2.FrameSettings && !f.ack {
			c.fr.WriteSettingsAck()
		}
		if want(f) {
			return f
		}
		c.seen = append(c.seen, f)
	}
}

func settingsFrame(f frame) bool { return f.kind == http2.FrameSettings && !f.ack && f.maxStreams != 0 }

func (c *rawConn) status(id uint32) string {
	c.t.Helper()
	return c.next(func(f frame) bool { return f.kind == http2.FrameHeaders && f.stream == id }).status
}

// TestOneStreamUntilValidToken: a token-auth connection starts with
// MAX_CONCURRENT_STREAMS 1; a second stream opened anyway before a valid
// token is refused with REFUSED_STREAM (and not processed); once a request
// with a valid token has been posted, a SETTINGS raises the limit, the ACK
// the client sends for it does not upset Go's server, and streams flow.
func TestOneStreamUntilValidToken(t *testing.T) {
	f := newFixture(t)
	in := &inbox{}
	f.s.Attach(f.prod, in)
	bearer := bearerFor(t, f.set.APNsKey)
	// Stream 1 is held in the mock for a while, so stream 3 arrives while it is served.
	if _, err := f.s.AddFault(Fault{Action: Delay, Latency: 300 * time.Millisecond, Token: f.prod, Count: 1}); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, f)
	if n := c.next(settingsFrame).maxStreams; n != 1 {
		t.Fatalf("first SETTINGS: MAX_CONCURRENT_STREAMS %d, want 1", n)
	}
	c.request(1, f.prod, f.set.BundleID, bearer)
	other := f.register(f.set.BundleID, testpki.Production)
	c.request(3, other, f.set.BundleID, bearer)
	rst := c.next(func(f frame) bool { return f.kind == http2.FrameRSTStream })
	if rst.stream != 3 || rst.code != http2.ErrCodeRefusedStream {
		t.Fatalf("RST_STREAM %d %v, want stream 3 REFUSED_STREAM", rst.stream, rst.code)
	}
	if st := c.status(1); st != "200" {
		t.Fatalf("stream 1: %s", st)
	}
	if n := c.next(settingsFrame).maxStreams; n != 1000 {
		t.Fatalf("second SETTINGS: MAX_CONCURRENT_STREAMS %d, want 1000", n)
	}
	// The refused stream was never processed: one delivery, and the recorder says why.
	if got := len(in.all()); got != 1 {
		t.Fatalf("%d deliveries, want 1", got)
	}
	found := false
	for _, r := range f.s.Requests(0) {
		if note, _ := r.Auth["note"].(string); strings.Contains(note, "REFUSED_STREAM") && r.Token == other {
			found = true
		}
	}
	if !found {
		t.Fatal("refused stream not recorded")
	}
	// Now streams run side by side, and the connection is healthy after the ACK.
	c.request(5, other, f.set.BundleID, bearer)
	c.request(7, f.prod, f.set.BundleID, bearer)
	if st := c.status(5); st != "200" {
		t.Fatalf("stream 5: %s", st)
	}
	if st := c.status(7); st != "200" {
		t.Fatalf("stream 7: %s", st)
	}
}

// TestCertConnectionNotLimited: with a client certificate there is no
// one-stream phase, and a stray authorization header is ignored, as Apple
// documents ("APNs ignores this header if the request is sent over a
// connection authenticated with a certificate").
func TestCertConnectionNotLimited(t *testing.T) {
	f := newFixture(t)
	c := dialRaw(t, f, f.set.APNsProd.TLS())
	if n := c.next(settingsFrame).maxStreams; n != 1000 {
		t.Fatalf("MAX_CONCURRENT_STREAMS %d on a certificate connection, want 1000", n)
	}
	client := mutate(f.certClient(f.set.APNsProd, testpki.Production), func(r *http.Request) {
		r.Header.Set("Authorization", "bearer not-a-token")
	})
	n := f.note(f.cprod)
	n.Topic = f.set.CertBundleID
	if res := push(t, client, n); res.StatusCode != 200 {
		t.Fatalf("cert auth with a stray bearer: %d %s", res.StatusCode, res.Reason)
	}
}

// TestApns2ConcurrentOnNewConnection: the unmodified apns2 client, firing
// many pushes at once on a fresh connection, gets every one through:
// Go's transport honours the one-stream SETTINGS (opening connections or
// waiting) and retries anything refused.
func TestApns2ConcurrentOnNewConnection(t *testing.T) {
	f := newFixture(t)
	in := &inbox{}
	f.s.Attach(f.prod, in)
	client := f.tokenClient(f.set.APNsKey, testpki.Production)
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for range 40 {
		wg.Go(func() {
			res, err := client.Push(&apns2.Notification{DeviceToken: f.prod, Topic: f.set.BundleID, Payload: payload})
			switch {
			case err != nil:
				errs <- err.Error()
			case res.StatusCode != 200:
				errs <- res.Reason
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := len(in.all()); got != 40 {
		t.Fatalf("%d deliveries, want 40", got)
	}
}

// TestGoAwayCarriesReason: the GOAWAY frames the mock sends carry Apple's
// JSON {"reason":…} as debug data: IdleTimeout for an idle connection, the
// reason of the answer that closed it for bad requests.
func TestGoAwayCarriesReason(t *testing.T) {
	goAway := func(c *rawConn) frame {
		return c.next(func(f frame) bool { return f.kind == http2.FrameGoAway })
	}
	t.Run("idle", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond })
		c := dialRaw(t, f)
		g := goAway(c)
		if g.code != http2.ErrCodeNo || g.debug != `{"reason":"IdleTimeout"}` {
			t.Fatalf("GOAWAY %v %q", g.code, g.debug)
		}
	})
	t.Run("close", func(t *testing.T) {
		f := newFixture(t)
		c := dialRaw(t, f)
		c.next(settingsFrame)
		go f.s.Close()
		if g := goAway(c); g.debug != `{"reason":"Shutdown"}` {
			t.Fatalf("GOAWAY on Close %v %q", g.code, g.debug)
		}
	})
	t.Run("goaway fault", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.s.AddFault(Fault{Action: GoAway, Reason: ReasonServiceUnavailable, Token: f.prod, Count: 1}); err != nil {
			t.Fatal(err)
		}
		c := dialRaw(t, f)
		c.request(1, f.prod, f.set.BundleID, bearerFor(t, f.set.APNsKey))
		if st := c.status(1); st != "200" {
			t.Fatalf("status %s: the fault serves the request, then closes", st)
		}
		if g := goAway(c); g.debug != `{"reason":"ServiceUnavailable"}` {
			t.Fatalf("GOAWAY debug %q", g.debug)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.MaxBadRequests = 1 })
		bearer := bearerFor(t, f.set.APNsKey)
		c := dialRaw(t, f)
		c.request(1, strings.Repeat("ab", 32), f.set.BundleID, bearer)
		if st := c.status(1); st != "400" {
			t.Fatalf("status %s", st)
		}
		g := goAway(c)
		if g.debug != `{"reason":"BadDeviceToken"}` {
			t.Fatalf("GOAWAY debug %q", g.debug)
		}
	})
}

// FuzzStreamHeader: whatever header block fragment and padding a client
// sends, the frame the server gets is a well-formed frame of the same type,
// flags and stream, with the same padding, one header longer.
func FuzzStreamHeader(f *testing.F) {
	f.Add([]byte{0x82, 0x86}, uint8(0), false, uint32(1))
	f.Add([]byte{}, uint8(3), true, uint32(2147483647))
	f.Fuzz(func(t *testing.T, block []byte, pad uint8, padded bool, stream uint32) {
		stream &= 0x7fffffff
		if stream == 0 {
			return // HEADERS on stream 0 is a connection error before the mock sees it
		}
		var payload []byte
		flags := byte(flagEndHeaders)
		if padded {
			flags |= flagPadded
			payload = append(payload, pad)
		}
		payload = append(payload, block...)
		if padded {
			payload = append(payload, make([]byte, pad)...)
		}
		if len(payload) >= 1<<24 {
			return
		}
		fr := append([]byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), frameHeaders, flags,
			byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}, payload...)
		out := appendWithStreamHeader(nil, fr, stream)
		framer := http2.NewFramer(nil, bytes.NewReader(out))
		got, err := framer.ReadFrame()
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		h := got.(*http2.HeadersFrame)
		if h.StreamID != stream {
			t.Fatalf("stream %d, want %d", h.StreamID, stream)
		}
		if !bytes.HasPrefix(h.HeaderBlockFragment(), block) {
			t.Fatal("block changed")
		}
		var fields []hpack.HeaderField
		dec := hpack.NewDecoder(4096, func(hf hpack.HeaderField) { fields = append(fields, hf) })
		if _, err := dec.Write(h.HeaderBlockFragment()[len(block):]); err != nil {
			t.Fatalf("added header: %v", err)
		}
		if len(fields) != 1 || fields[0].Name != "x-apns-mock-stream" {
			t.Fatalf("added %v", fields)
		}
	})
}

func bearerFor(t *testing.T, k *testpki.APNsKey) string {
	tok := apnsTokenFor(k)
	if _, err := tok.Generate(); err != nil {
		t.Fatal(err)
	}
	return tok.Bearer
}

// TestClockExpiresProviderToken: advancing the mock's clock through the
// control API by an hour makes apns2's current token ExpiredProviderToken
// at once, with no waiting.
func TestClockExpiresProviderToken(t *testing.T) {
	f := newFixture(t)
	client := f.tokenClient(f.set.APNsKey, testpki.Production)
	if res := push(t, client, f.note(f.prod)); res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, res.Reason)
	}
	resp, err := http.Post(f.s.ControlURL+"/control/clock", "application/json", strings.NewReader(`{"advance":"61m"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || f.s.ClockOffset() != 61*time.Minute {
		t.Fatalf("clock: %d, offset %v", resp.StatusCode, f.s.ClockOffset())
	}
	if res := push(t, client, f.note(f.prod)); res.StatusCode != 403 || res.Reason != ReasonExpiredProviderToken {
		t.Fatalf("after an hour: %d %s", res.StatusCode, res.Reason)
	}
}

// FuzzInbound: whatever bytes a client sends after the preface, the read
// side neither panics nor loses or invents bytes outside the frames it edits:
// every frame passed on is whole, and HEADERS ending a block grow by exactly
// the added header.
func FuzzInbound(f *testing.F) {
	settingsAck := []byte{0, 0, 0, frameSettings, flagAck, 0, 0, 0, 0}
	headers := []byte{0, 0, 2, frameHeaders, flagEndHeaders | flagEndStream, 0, 0, 0, 1, 0x82, 0x86}
	f.Add(append(append([]byte{}, settingsAck...), headers...), true)
	f.Add([]byte{0, 0, 1, frameHeaders, 0, 0, 0, 0, 3, 0x82, 0, 0, 1, frameContinuation, flagEndHeaders, 0, 0, 0, 3, 0x86}, false)
	f.Add([]byte{0xff, 0xff, 0xff, 0, 0}, false)
	f.Fuzz(func(t *testing.T, in []byte, ours bool) {
		c := &frameConn{preface: true, refused: map[uint32]bool{}}
		if ours {
			c.settings = []bool{true}
		}
		c.rin = append(c.rin, in...)
		c.scanIn()
		out := c.rout
		for len(out) > 0 {
			if len(out) < frameHeaderLen {
				t.Fatalf("partial frame header passed on: %x", out)
			}
			n := frameHeaderLen + int(uint32(out[0])<<16|uint32(out[1])<<8|uint32(out[2]))
			if len(out) < n {
				t.Fatalf("partial frame passed on")
			}
			out = out[n:]
		}
		consumed, swallowed := len(in)-len(c.rin), 0
		if ours && len(c.settings) == 0 {
			swallowed = frameHeaderLen // the one ACK of the mock's SETTINGS
		}
		if len(c.rout) < consumed-swallowed {
			t.Fatalf("bytes lost: consumed %d, passed on %d", consumed, len(c.rout))
		}
	})
}
