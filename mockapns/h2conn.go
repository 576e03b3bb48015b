package mockapns

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Two things Apple's HTTP/2 server does that Go's cannot be asked for:
//
//   - "When using an authentication token, APNs allows only one stream until
//     you post a request with a valid authentication token" (Sending
//     notification requests to APNs): Apple's first SETTINGS says
//     MAX_CONCURRENT_STREAMS 1 and a later SETTINGS raises it. Go's server
//     sends one SETTINGS at the start and never another.
//   - "The JSON data might also be included in a GOAWAY frame when a
//     connection terminates" (Handling notification responses from APNs):
//     Go's server sends GOAWAY without debug data.
//
// So the mock keeps Go's HTTP/2 server (net/http, Protocols =
// UnencryptedHTTP2 over a TLS connection it terminates itself) and watches
// the frames on their way in and out (frameConn):
//
//   - out: on a connection without a client certificate the server's first
//     SETTINGS advertises MAX_CONCURRENT_STREAMS 1 (the server itself keeps
//     its real limit); after the first request with a valid provider token
//     the mock sends a second SETTINGS with the real limit and swallows the
//     client's ACK of it (Go's server would take an ACK it never asked for
//     as a protocol error). A GOAWAY gets {"reason":"…"} as debug data.
//   - in: every request's header block gets one more header,
//     x-apns-mock-stream (a literal without indexing, so HPACK state is
//     untouched), so that the handler knows its stream id. MAX_FRAME_SIZE is
//     advertised 64 bytes short of what the server reads, to leave room.
//   - a client that opens a second stream anyway, before the token is
//     valid, gets RST_STREAM REFUSED_STREAM on it (RFC 9113 §8.7: not
//     processed, safe to retry; Go's client retries it by itself), and
//     whatever the server writes on that stream afterwards is dropped.

// streamHeader carries a request's HTTP/2 stream id to the handler.
const streamHeader = "X-Apns-Mock-Stream"

// frameSizeRoom is what the mock keeps back from the advertised
// MAX_FRAME_SIZE for the header it adds.
const frameSizeRoom = 64

// HTTP/2 frame types and flags the mock looks at (RFC 9113 §6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	frameGoAway       = 0x7
	frameContinuation = 0x9

	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8

	settingMaxConcurrentStreams = 0x3
	settingMaxFrameSize         = 0x5

	errCodeNo            = 0x0
	errCodeRefusedStream = 0x7

	frameHeaderLen = 9
	clientPreface  = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

// tlsListener terminates TLS itself, so that Go's HTTP/2 server reads and
// writes through a frameConn.
type tlsListener struct {
	net.Listener
	cfg        *tls.Config
	maxStreams uint32
	closing    func() bool // the server is shutting down (GOAWAY reason Shutdown)
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &frameConn{Conn: tls.Server(c, l.cfg), raw: c, maxStreams: l.maxStreams, closing: l.closing,
		refused: map[uint32]bool{}}, nil
}

// frameConn is one provider connection seen frame by frame (see above).
type frameConn struct {
	net.Conn          // the *tls.Conn
	raw      net.Conn // the TCP connection under it (the reset fault)

	maxStreams uint32
	closing    func() bool

	hsOnce sync.Once
	hsErr  error
	hsDone atomic.Pointer[tls.ConnectionState] // the state once the handshake is complete

	passIn  atomic.Bool // nothing left to change on the way in, for good
	rmu     sync.Mutex  // read side
	rbuf    []byte      // read buffer while frames are being edited
	rin     []byte      // bytes read, not yet whole frames
	rout    []byte      // frames passed on, not yet read by the server
	preface bool        // the client preface went by
	hblock  uint32      // stream whose header block is open (CONTINUATION follows)

	wmu      sync.Mutex  // write side (and the state below)
	win      []byte      // bytes written by the server, not yet whole frames
	pending  []byte      // frames the mock wants to send at the next boundary
	settings []bool      // SETTINGS frames on the wire awaiting ACK: true = the mock's
	sawFirst bool        // the server's first SETTINGS went by
	limited  bool        // one stream until a valid token: still in force
	limitedA atomic.Bool // limited, for the requests' lock-free look (written under wmu)
	active   int         // streams being served while limited
	refused  map[uint32]bool
	reason   string // GOAWAY debug reason for the next GOAWAY
}

func (c *frameConn) handshake() error {
	c.hsOnce.Do(func() {
		tc := c.Conn.(*tls.Conn)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.hsErr = tc.HandshakeContext(ctx)
		if c.hsErr == nil && tc.ConnectionState().NegotiatedProtocol != "h2" {
			c.hsErr = fmt.Errorf("mockapns: client did not negotiate h2 (ALPN %q)", tc.ConnectionState().NegotiatedProtocol)
		}
	})
	return c.hsErr
}

// tlsState is the TLS state of the connection (not named ConnectionState:
// net/http would then take the connection for TLS and not speak
// unencrypted HTTP/2 on it).
func (c *frameConn) tlsState() tls.ConnectionState {
	return c.Conn.(*tls.Conn).ConnectionState()
}

// handshakeState is tlsState shared, read-only, by the connection's
// requests: it no longer changes once the handshake is complete.
func (c *frameConn) handshakeState() *tls.ConnectionState {
	if st := c.hsDone.Load(); st != nil {
		return st
	}
	st := c.tlsState()
	if st.HandshakeComplete {
		c.hsDone.Store(&st)
	}
	return &st
}

// Read passes the client's frames on, each whole, with the request header
// added and the ACKs of the mock's own SETTINGS taken out.
func (c *frameConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	if c.passIn.Load() {
		return c.Conn.Read(p)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.rout) == 0 && len(c.rin) == 0 && c.inDone() {
		// Nothing left to change on the way in: frames pass untouched from
		// now on (the limit is never set again, so no SETTINGS of the
		// mock's is sent again), without the locks.
		c.passIn.Store(true)
		return c.Conn.Read(p)
	}
	if c.rbuf == nil {
		c.rbuf = make([]byte, 16<<10)
	}
	for len(c.rout) == 0 {
		n, err := c.Conn.Read(c.rbuf)
		c.rin = append(c.rin, c.rbuf[:n]...)
		c.scanIn()
		if len(c.rout) > 0 {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, c.rout)
	c.rout = c.rout[n:]
	if len(c.rout) == 0 {
		c.rout = nil
	}
	return n, nil
}

// inDone tells whether the read side has nothing more to do: the limit is
// lifted (stream ids no longer matter) and no ACK of the mock's SETTINGS
// is still to come.
func (c *frameConn) inDone() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.sawFirst && !c.limited && !slices.Contains(c.settings, true)
}

// scanIn moves the whole frames of rin to rout, transformed.
func (c *frameConn) scanIn() {
	if !c.preface {
		if len(c.rin) < len(clientPreface) {
			return
		}
		c.preface = true
		c.rout = append(c.rout, c.rin[:len(clientPreface)]...)
		c.rin = c.rin[len(clientPreface):]
	}
	for len(c.rin) >= frameHeaderLen {
		n := frameHeaderLen + int(uint32(c.rin[0])<<16|uint32(c.rin[1])<<8|uint32(c.rin[2]))
		if len(c.rin) < n {
			return
		}
		f := c.rin[:n]
		c.rin = c.rin[n:]
		c.rout = c.inbound(c.rout, f)
	}
	if len(c.rin) == 0 {
		c.rin = nil
	}
}

// inbound appends frame f, as the server must see it, to out.
func (c *frameConn) inbound(out, f []byte) []byte {
	typ, flags := f[3], f[4]
	stream := binary.BigEndian.Uint32(f[5:9]) & 0x7fffffff
	switch typ {
	case frameSettings:
		if flags&flagAck != 0 && len(f) == frameHeaderLen && c.ackIsOurs() { // a malformed ACK is the server's to refuse
			return out
		}
	case frameHeaders, frameContinuation:
		if typ == frameHeaders {
			c.hblock = stream
		}
		if flags&flagEndHeaders != 0 && stream == c.hblock {
			return appendWithStreamHeader(out, f, stream)
		}
	}
	return append(out, f...)
}

// ackIsOurs pops the oldest SETTINGS awaiting ACK and tells whether the mock sent it.
func (c *frameConn) ackIsOurs() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.settings) == 0 {
		return false
	}
	ours := c.settings[0]
	c.settings = c.settings[1:]
	return ours
}

// appendWithStreamHeader appends the HEADERS or CONTINUATION frame f that
// ends a header block, with "x-apns-mock-stream: <id>" added at the end of
// the block (before any padding) as a literal without indexing with a new
// name (RFC 7541 §6.2.2), which leaves both HPACK tables as they were.
func appendWithStreamHeader(out, f []byte, stream uint32) []byte {
	payload := f[frameHeaderLen:]
	pad := 0
	if f[3] == frameHeaders && f[4]&flagPadded != 0 {
		if len(payload) == 0 || int(payload[0]) >= len(payload) {
			return append(out, f...) // malformed: the server will say so
		}
		pad = int(payload[0])
	}
	var field []byte
	field = append(field, 0x00)
	field = hpackString(field, "x-apns-mock-stream")
	field = hpackString(field, strconv.FormatUint(uint64(stream), 10))
	n := len(payload) + len(field)
	hdr := [frameHeaderLen]byte{byte(n >> 16), byte(n >> 8), byte(n), f[3], f[4]}
	copy(hdr[5:], f[5:9])
	out = append(out, hdr[:]...)
	out = append(out, payload[:len(payload)-pad]...)
	out = append(out, field...)
	return append(out, payload[len(payload)-pad:]...)
}

// hpackString appends s as an HPACK string literal, not Huffman-coded.
func hpackString(b []byte, s string) []byte {
	// 7-bit prefix integer (RFC 7541 §5.1); the strings here are short.
	if len(s) < 127 {
		b = append(b, byte(len(s)))
	} else {
		b = append(b, 127)
		v := len(s) - 127
		for v >= 128 {
			b = append(b, byte(v%128+128))
			v /= 128
		}
		b = append(b, byte(v))
	}
	return append(b, s...)
}

// Write passes the server's frames on, each whole: the first SETTINGS
// limited, GOAWAY with its reason, refused streams' frames dropped, and the
// mock's own frames slipped in between.
func (c *frameConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.win) == 0 && len(c.pending) == 0 && c.untouched(p) {
		// Whole frames that need no change (the usual case): as they are.
		return c.Conn.Write(p)
	}
	c.win = append(c.win, p...)
	var out []byte
	for len(c.win) >= frameHeaderLen {
		n := frameHeaderLen + int(uint32(c.win[0])<<16|uint32(c.win[1])<<8|uint32(c.win[2]))
		if len(c.win) < n {
			break
		}
		out = c.outbound(out, c.win[:n])
		c.win = c.win[n:]
		out = append(out, c.pending...)
		c.pending = nil
	}
	if len(c.win) == 0 {
		c.win = nil
	}
	if len(out) > 0 {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// untouched tells whether p is whole frames that outbound would pass as
// they are: no SETTINGS yet to rewrite, no GOAWAY, nothing of a refused stream.
func (c *frameConn) untouched(p []byte) bool {
	for len(p) > 0 {
		if len(p) < frameHeaderLen {
			return false
		}
		n := frameHeaderLen + int(uint32(p[0])<<16|uint32(p[1])<<8|uint32(p[2]))
		if len(p) < n {
			return false
		}
		switch typ := p[3]; {
		case typ == frameGoAway, typ == frameSettings && p[4]&flagAck == 0:
			return false
		case len(c.refused) > 0 && c.refused[binary.BigEndian.Uint32(p[5:9])&0x7fffffff]:
			return false
		}
		p = p[n:]
	}
	return true
}

// outbound appends frame f, as the client must see it, to out.
func (c *frameConn) outbound(out, f []byte) []byte {
	typ, flags := f[3], f[4]
	stream := binary.BigEndian.Uint32(f[5:9]) & 0x7fffffff
	if stream != 0 && c.refused[stream] {
		if typ == frameRSTStream || (typ == frameHeaders || typ == frameData) && flags&flagEndStream != 0 {
			delete(c.refused, stream) // the server is done with it
		}
		return out
	}
	switch typ {
	case frameSettings:
		if flags&flagAck != 0 {
			break
		}
		c.settings = append(c.settings, false)
		start := len(out)
		out = append(out, f...)
		if !c.sawFirst {
			c.sawFirst = true
			c.limited = len(c.tlsState().PeerCertificates) == 0
			c.limitedA.Store(c.limited)
			rewriteSettings(out[start:], c.limited)
		}
		return out
	case frameGoAway:
		reason := c.reason
		code := binary.BigEndian.Uint32(f[13:17])
		if reason == "" && code == errCodeNo {
			reason = ReasonIdleTimeout
			if c.closing != nil && c.closing() {
				reason = ReasonShutdown
			}
		}
		if reason == "" || len(f) != frameHeaderLen+8 {
			break
		}
		debug := fmt.Appendf(nil, `{"reason":%q}`, reason)
		n := 8 + len(debug)
		out = append(out, byte(n>>16), byte(n>>8), byte(n), frameGoAway, 0, 0, 0, 0, 0)
		out = append(out, f[frameHeaderLen:]...)
		return append(out, debug...)
	}
	return append(out, f...)
}

// rewriteSettings lowers the server's advertised MAX_FRAME_SIZE by
// frameSizeRoom and, if limited, its MAX_CONCURRENT_STREAMS to 1.
func rewriteSettings(f []byte, limited bool) {
	for i := frameHeaderLen; i+6 <= len(f); i += 6 {
		id := binary.BigEndian.Uint16(f[i:])
		v := binary.BigEndian.Uint32(f[i+2:])
		switch {
		case id == settingMaxConcurrentStreams && limited:
			binary.BigEndian.PutUint32(f[i+2:], 1)
		case id == settingMaxFrameSize && v >= 16384+frameSizeRoom:
			binary.BigEndian.PutUint32(f[i+2:], v-frameSizeRoom)
		}
	}
}

// sendLocked writes the mock's own frame f at the next frame boundary (wmu held).
func (c *frameConn) sendLocked(f []byte) {
	if len(c.win) > 0 {
		c.pending = append(c.pending, f...)
		return
	}
	c.Conn.Write(f) // an error shows on the server's next write
}

// admit is called as a request on stream begins: it answers false, and the
// stream is refused with RST_STREAM REFUSED_STREAM, when the connection is
// still limited to one stream and another one is being served.
func (c *frameConn) admit(stream uint32) bool {
	if !c.limitedA.Load() {
		// Not limited (or no longer: it is never set again): nothing to
		// count, and no wait behind the server's writes, which hold wmu.
		return true
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.limited {
		return true
	}
	if c.active == 0 || stream == 0 {
		c.active++
		return true
	}
	c.refused[stream] = true
	var f [frameHeaderLen + 4]byte
	f[2], f[3] = 4, frameRSTStream
	binary.BigEndian.PutUint32(f[5:], stream)
	binary.BigEndian.PutUint32(f[9:], errCodeRefusedStream)
	c.sendLocked(f[:])
	return false
}

// release ends a stream admitted by admit.
func (c *frameConn) release() {
	if !c.limitedA.Load() {
		return // admit counted nothing, or tokenValid has reset the count
	}
	c.wmu.Lock()
	if c.active > 0 {
		c.active--
	}
	c.wmu.Unlock()
}

// tokenValid lifts the one-stream limit after the first request with a
// valid provider token: a SETTINGS with the real MAX_CONCURRENT_STREAMS.
func (c *frameConn) tokenValid() {
	if !c.limitedA.Load() {
		// Lifted already (the usual case: every request with a valid
		// token comes here): no wait behind the server's writes, which
		// hold wmu.
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.limited {
		return
	}
	c.limited, c.active = false, 0
	c.limitedA.Store(false)
	var f [frameHeaderLen + 6]byte
	f[2], f[3] = 6, frameSettings
	binary.BigEndian.PutUint16(f[9:], settingMaxConcurrentStreams)
	binary.BigEndian.PutUint32(f[11:], c.maxStreams)
	c.settings = append(c.settings, true)
	c.sendLocked(f[:])
}

// goAwayReason sets the reason the connection's GOAWAY will carry.
func (c *frameConn) goAwayReason(reason string) {
	c.wmu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	c.wmu.Unlock()
}
