package mockapns

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/pushlab/pushlab/testpki"
)

// exchange is one request on its way through the checks.
type exchange struct {
	r     *http.Request
	tls   *tls.ConnectionState // the request's, or its connection's
	conn  *connState
	env   testpki.Environment
	token string
	n     Notification
	app   string // the bundle id n.Topic names, once checkTopic resolved it
	cred  *credential
	reg   Registration // the device, once checkDevice found it
	body  []byte
	ack   string
	// ackRaw is the payload's ack_id as JSON, made ack when an event
	// needs it (see traceID): without a bus, never.
	ackRaw []byte
	fault  *Fault
	at     time.Time     // the mock's time for the request, once read (see timeOf); zero: not yet
	hdr    checkedValues // the request's, once looked up (see checked)
	hdrOK  bool
}

// checked returns the request's values of headersChecked, looked up the
// first time: parseHeaders, authenticate and record all read them.
// (net/http makes the request's header map afresh and does not change it
// while the handler runs.)
func (x *exchange) checked() *checkedValues {
	if !x.hdrOK {
		x.hdr.lookUp(x.r.Header)
		x.hdrOK = true
	}
	return &x.hdr
}

// timeOf is the mock's time for x, read once: its token's age, its record
// and its delivery go by one reading of the clock, which costs a read of
// the system's time per call. A push held at acceptance reads it again.
func (s *Server) timeOf(x *exchange) time.Time {
	if x.at.IsZero() {
		x.at = s.now()
	}
	return x.at
}

// pushWork is what a push is judged with, pooled: the exchange and the
// buffer its body is read into, one allocation less per push each (the
// exchange is not kept past the handler: records, deliveries and events
// copy what they show).
type pushWork struct {
	x   exchange
	buf bytes.Buffer
}

var workPool = sync.Pool{New: func() any { return new(pushWork) }}

// release returns pw to the pool, holding on to no request.
func (pw *pushWork) release() {
	pw.x = exchange{}
	workPool.Put(pw)
}

func (s *Server) serveAPNs(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	c, _ := r.Context().Value(connKey{}).(*connState)
	if c != nil && c.fc != nil {
		s.admitStream(r, c)
		defer c.fc.release()
	}
	pw := workPool.Get().(*pushWork)
	defer pw.release()
	pw.x = exchange{r: r, conn: c, tls: r.TLS}
	pw.buf.Reset()
	// The checks and the acceptance are calls one after the other, not one
	// inside the other, so that the handler's stack stays small (see
	// handOver).
	if s.judge(w, &pw.x, &pw.buf) {
		s.accept(w, &pw.x)
	}
}

// judge applies the checks of the provider API to a request, reading its
// body into buf: it answers a request that fails one (or that a fault or a
// broadcast path takes) and returns false, or returns true for a request to
// accept.
func (s *Server) judge(w http.ResponseWriter, x *exchange, buf *bytes.Buffer) bool {
	r, c := x.r, x.conn
	if x.tls == nil && c != nil {
		x.tls = c.tlsState()
	}
	x.env = envOf(r, x.tls, c, s.cfg.Environment)
	if x.env == "" {
		x.env = testpki.Production
	}
	if strings.HasPrefix(r.URL.Path, broadcastPath) {
		s.serveBroadcast(w, x)
		return false
	}
	token, perr := parsePath(r.Method, r.URL.Path)
	x.token = token
	if s.faultFirst(w, x) {
		return false
	}
	if s.servers.Closed() {
		s.answer(w, x, reject(ReasonShutdown))
		return false
	}
	if perr != nil {
		x.n.ID = newAPNsID()
		s.answer(w, x, perr)
		return false
	}
	n, herr := parseValues(x.checked(), token, newAPNsID)
	x.n = n
	if herr != nil {
		s.answer(w, x, herr)
		return false
	}
	if err := s.authenticate(x); err != nil {
		s.answer(w, x, err)
		return false
	}
	if err := s.checkTopic(x); err != nil {
		s.answer(w, x, err)
		return false
	}
	limit := payloadLimit(x.n.PushType)
	if err := readLimited(buf, r.Body, limit+1); err != nil {
		// The client went away or reset the stream mid-body: nothing to answer.
		s.record(x, 0, "", "body: "+err.Error())
		return false
	}
	x.body = buf.Bytes()
	ack, berr := checkPayloadRaw(x.body, limit, x.n.PushType)
	x.ack, x.ackRaw = "", ack
	if berr != nil {
		s.answer(w, x, berr)
		return false
	}
	if terr := s.checkDevice(x); terr != nil {
		s.answer(w, x, terr)
		return false
	}
	if s.overRate(x.token) {
		s.answer(w, x, reject(ReasonTooManyRequests))
		return false
	}
	return true
}

// readLimited appends to buf what body holds, up to max bytes; a body that
// ends is no error. It reads what buf.ReadFrom(io.LimitReader(body, max))
// would, without the LimitedReader the heap would get per push.
func readLimited(buf *bytes.Buffer, body io.Reader, max int) error {
	for buf.Len() < max {
		buf.Grow(bytes.MinRead)
		p := buf.AvailableBuffer()
		p = p[:min(cap(p), max-buf.Len())]
		n, err := body.Read(p)
		buf.Write(p[:n]) // p is buf's own spare room: nothing is copied
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// faultFirst looks for a fault matching the request's token (x.fault) and
// performs it if it acts before the request is judged; it returns true when
// the fault answered (or killed) the request.
func (s *Server) faultFirst(w http.ResponseWriter, x *exchange) bool {
	f, ok := s.faults.Match(x.token)
	if !ok {
		return false
	}
	matched := f // only a matched fault goes to the heap
	x.fault = &matched
	return !f.Action.AtAccept() && s.applyFault(w, x)
}

// applyFault performs a matched fault that acts before the request is
// judged; it returns true when the fault answered (or killed) the request,
// false when the request goes on. Whatever happens, the request is
// recorded with its ids and body.
func (s *Server) applyFault(w http.ResponseWriter, x *exchange) bool {
	f := x.fault
	s.preread(x)
	s.faultEvent(x)
	return mockkit.BeforeJudging(x.r.Context(), *f, mockkit.Before{
		Abandoned: func() { s.record(x, 0, "", "the client gave up during the fault's latency: dropped unserved") },
		Respond: func() {
			reason := f.Reason
			if reason == "" {
				reason = defaultReason[f.Status]
			}
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			x.n.ID = x.r.Header.Get("Apns-Id")
			if !validUUID(x.n.ID) {
				x.n.ID = newAPNsID()
			}
			s.answer(w, x, &Error{Status: f.Status, Reason: reason})
		},
		Reset: func() {
			s.record(x, 0, "", "connection reset before accepting: not delivered")
			abort(x)
		},
		GoAway: func() {
			reason := f.Reason
			if reason == "" {
				reason = ReasonShutdown
			}
			goAway(w, x.conn, reason) // the request is answered by the real verdict, then the connection closes
		},
	})
}

// abort resets the request's connection (the client sees a TCP reset) and
// its stream, if the connection outlived it; it does not return.
func abort(x *exchange) {
	if x.conn != nil && x.conn.nc != nil {
		resetConn(x.conn.nc)
	}
	panic(http.ErrAbortHandler)
}

// faultEvent reports a fault firing.
func (s *Server) faultEvent(x *exchange) {
	f := x.fault
	attrs := map[string]string{"fault": f.ID, "action": string(f.Action), "token": events.RedactToken(x.token)}
	status := string(f.Action)
	if f.Action == Respond {
		status = f.Reason
		if status == "" {
			status = defaultReason[f.Status]
		}
	}
	s.bus.Publish(events.Event{TraceID: x.traceID(), Hop: events.FaultInjected, Actor: Actor, Status: status, Detail: fmt.Sprintf("fault %s: %s (latency %s)", f.ID, f.Action, f.Latency), Attrs: attrs})

}

// preread reads what a faulted request carries before the fault acts, so
// that it is recorded with its ids and body even if it is never served: the
// headers' ids and the payload, which the normal path then reads again.
func (s *Server) preread(x *exchange) {
	if x.body != nil {
		return
	}
	if n, err := parseHeaders(x.r.Header, x.token, newAPNsID); err == nil {
		x.n = n
	} else {
		x.n.ID = x.r.Header.Get("Apns-Id")
	}
	b, _ := io.ReadAll(io.LimitReader(x.r.Body, int64(payloadLimit(x.n.PushType))+1))
	x.body = b
	x.ack = ackIDOf(b)
	x.r.Body = io.NopCloser(bytes.NewReader(b))
}

// resetConn closes a connection so the peer sees a TCP RST.
func resetConn(nc net.Conn) {
	type netConner interface{ NetConn() net.Conn }
	if t, ok := nc.(netConner); ok {
		nc = t.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	nc.Close()
}

// authenticate applies token or certificate auth.
func (s *Server) authenticate(x *exchange) *Error {
	// "APNs ignores this header if the request is sent over a connection
	// authenticated with a certificate": the certificate decides.
	if x.tls != nil && len(x.tls.PeerCertificates) > 0 {
		return s.certAuth(x)
	}
	if v := x.checked()[hdrAuthorization]; len(v) > 0 {
		auth := v[0]
		scheme, bearer, _ := strings.Cut(auth, " ")
		bearer = strings.TrimSpace(bearer)
		if !strings.EqualFold(scheme, "bearer") {
			x.cred = &credential{info: map[string]any{"scheme": "token", "error": "authorization is not a bearer token"}}
			return reject(ReasonInvalidProviderToken)
		}
		if bearer == "" {
			return reject(ReasonMissingProviderToken)
		}
		return s.tokenAuth(x, bearer)
	}
	return reject(ReasonMissingProviderToken)
}

func (s *Server) tokenAuth(x *exchange, bearer string) *Error {
	v := s.jwts.get(bearer)
	if v == nil {
		var info map[string]any
		var err *Error
		v, info, err = parseJWT(bearer, s.key)
		if err != nil {
			x.cred = &credential{info: info}
			return err
		}
		s.jwts.put(bearer, v)
	}
	x.cred = v.cred
	fail := func(reason, why string) *Error {
		x.cred = &credential{key: v.key, info: copyMap(v.info)}
		x.cred.info["error"] = why
		return reject(reason)
	}
	now := s.timeOf(x)
	if now.Sub(time.Unix(v.iat, 0)) > TokenMaxAge {
		return fail(ReasonExpiredProviderToken, "iat older than one hour")
	}
	if time.Unix(v.iat, 0).Sub(now) > TokenMaxAge {
		return fail(ReasonInvalidProviderToken, "iat more than an hour in the future")
	}
	if v.key.Environment != "" && v.key.Environment != x.env {
		return fail(ReasonBadEnvironmentKeyIDInToken, fmt.Sprintf("key is scoped to %s, this is %s", v.key.Environment, x.env))
	}
	if err := x.conn.admitToken(bearer, v, now); err != nil {
		return fail(err.Reason, "connection: "+err.Reason)
	}
	if x.conn != nil && x.conn.fc != nil {
		x.conn.fc.tokenValid() // the one-stream limit is lifted
	}
	return nil
}

func (s *Server) certAuth(x *exchange) *Error {
	verify := func() (*credential, *Error) {
		chain := x.tls.PeerCertificates
		leaf := chain[0]
		info := map[string]any{"scheme": "certificate", "subject": leaf.Subject.String(),
			"key_fingerprint": testpki.Fingerprint(leaf.PublicKey), "not_after": leaf.NotAfter}
		cred := &credential{cert: leaf, info: info}
		if s.clientCA == nil {
			info["error"] = "no client CA configured"
			return cred, reject(ReasonBadCertificate)
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.clientCA, Intermediates: inter, CurrentTime: s.now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			info["error"] = err.Error()
			return cred, reject(ReasonBadCertificate)
		}
		cred.app = testpki.BundleID(leaf)
		info["topic"] = cred.app
		envs := testpki.APNsEnvironments(leaf)
		info["environments"] = envs
		if cred.app == "" || len(envs) == 0 {
			info["error"] = "not an Apple Push Services certificate (no UID or no APNs extension)"
			return cred, reject(ReasonBadCertificate)
		}
		return cred, nil
	}
	var cred *credential
	var err *Error
	if x.conn != nil {
		x.conn.certOnce.Do(func() { x.conn.cert, x.conn.certErr = verify() })
		cred, err = x.conn.cert, x.conn.certErr
	} else {
		cred, err = verify()
	}
	x.cred = cred
	if err != nil {
		return err
	}
	for _, e := range testpki.APNsEnvironments(cred.cert) {
		if e == x.env {
			return nil
		}
	}
	return reject(ReasonBadCertificateEnvironment)
}

// checkTopic resolves the topic and checks it against the credential and push type.
func (s *Server) checkTopic(x *exchange) *Error {
	if x.n.Topic == "" {
		if x.cred.cert == nil {
			return reject(ReasonMissingTopic)
		}
		// A certificate for one app implies its topic, shaped by the push type.
		x.n.Topic = x.cred.app + PushTypes[x.n.PushType]
	}
	suffix := topicSuffix(x.n.Topic)
	if err := checkPushTypeTopic(x.n.PushType, suffix); err != nil {
		return err
	}
	app := x.n.Topic[:len(x.n.Topic)-len(suffix)]
	x.app = app
	switch {
	case x.cred.cert != nil && app != x.cred.app:
		return reject(ReasonTopicDisallowed)
	case x.cred.cert != nil && tokenAuthOnly[x.n.PushType]:
		return reject(ReasonTopicDisallowed)
	case x.cred.key != nil && !x.cred.key.allows(app):
		return reject(ReasonTopicDisallowed)
	}
	return nil
}

// tokenAuthOnly are the push types APNs takes only with token auth: Live
// Activities ("Certificate-based authentication is not supported for these
// APNs pushes", Apple's answer on the developer forums, thread 712499) and
// location pushes (token-based authentication only, as the location push
// service extension documents). A certificate's topics do not include them;
// the mock answers TopicDisallowed (Apple names no reason).
var tokenAuthOnly = map[string]bool{"liveactivity": true, "location": true}

// checkDevice looks the token up: unknown, wrong environment → BadDeviceToken;
// another app's → DeviceTokenNotForTopic; uninstalled → 410 Unregistered.
// The registration is kept in x.reg (not returned: the handler's frames
// stay small, see serveAPNs).
func (s *Server) checkDevice(x *exchange) *Error {
	valid, upper := validToken(x.token)
	if !valid {
		return reject(ReasonBadDeviceToken)
	}
	token := x.token
	if upper {
		token = strings.ToLower(token)
	}
	reg, ok := s.reg.Lookup(token)
	x.reg = reg
	switch {
	case !ok, reg.Environment != x.env:
		return reject(ReasonBadDeviceToken)
	case reg.App != x.app:
		return reject(ReasonDeviceTokenNotForTopic)
	case !reg.Installed:
		return &Error{Status: http.StatusGone, Reason: ReasonUnregistered}
	}
	return nil
}

func (s *Server) overRate(token string) bool {
	if s.rate == nil { // no TokenRate: nothing to count, no clock to read
		return false
	}
	_, ok := s.rate.Allow(token, s.now())
	return !ok
}

// answer writes an error response as Apple does: apns-id, and a JSON body
// with the reason (and for 410 the integer-millisecond timestamp).
func (s *Server) answer(w http.ResponseWriter, x *exchange, e *Error) {
	h := w.Header()
	if x.n.ID != "" {
		h["Apns-Id"] = []string{x.n.ID}
	}
	h["Content-Type"] = []string{"application/json"}
	var body []byte
	if e.Status == http.StatusGone {
		ts := s.now()
		if reg, ok := s.reg.Lookup(strings.ToLower(x.token)); ok && !reg.UninstalledAt.IsZero() && e.Reason == ReasonUnregistered {
			ts = reg.UninstalledAt
		}
		body = fmt.Appendf(nil, `{"reason":%q,"timestamp":%d}`, e.Reason, ts.UnixMilli())
	} else {
		body = fmt.Appendf(nil, `{"reason":%q}`, e.Reason)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	closing, tripped, run := x.conn.tally(e.Status, e.Reason, s.cfg.MaxBadRequests)
	note := ""
	if closing {
		goAway(w, x.conn, e.Reason)
		note = "connection closing with GOAWAY (bad requests)"
	}
	if tripped {
		// Before the answer is written, so that a client holding it finds the event.
		s.closeForBadRequests(x, run)
	}
	w.WriteHeader(e.Status)
	w.Write(body)
	s.record(x, e.Status, e.Reason, note)
	attrs := x.attrs()
	attrs["status"] = strconv.Itoa(e.Status)
	s.bus.Publish(events.Event{TraceID: x.traceID(), Hop: events.ProviderRejected, Actor: Actor, Status: e.Reason,
		Detail: fmt.Sprintf("%d %s", e.Status, e.Reason), Payload: events.Excerpt(x.body), Attrs: attrs})
}

// accept answers 200 and hands the notification to the push channel; a
// fault that acts at acceptance may delay it, or lose or delay the answer.
func (s *Server) accept(w http.ResponseWriter, x *exchange) {
	f := x.fault
	note := ""
	if f != nil && f.Action.AtAccept() {
		s.faultEvent(x)
		mockkit.HoldAccepted(x.r.Context(), f) // the push is Apple's now
		x.at = time.Time{}                     // accepted after the hold
		switch f.Action {
		case AcceptReset:
			note = "accepted and delivered; connection reset before the answer"
		case AcceptLate:
			note = "accepted and delivered; answered after " + f.Latency.String()
		}
	}
	h := w.Header()
	h["Apns-Id"] = []string{x.n.ID}
	if x.env == testpki.Development {
		h["Apns-Unique-Id"] = []string{newUUID(false)}
	}
	if closing, _, _ := x.conn.tally(http.StatusOK, "", s.cfg.MaxBadRequests); closing {
		goAway(w, x.conn, "") // a stream that raced the GOAWAY: the connection still closes
	}
	mockkit.Accept(x.r.Context(), f, mockkit.Acceptance{
		Deliver: func() {
			s.record(x, http.StatusOK, "", note)
			s.handOver(x)
		},
		Answer: func() { w.WriteHeader(http.StatusOK) },
		Reset:  func() { abort(x) },
	})
}

// handOver gives an accepted notification to the push channel. Its parts
// are separate calls so that the handler's deepest frames stay small: a
// goroutine's stack that outgrows its starting size is copied, which cost
// as much as the rest of handOver.
func (s *Server) handOver(x *exchange) {
	d := s.delivery(x)
	attrs := s.acceptedEvent(x)
	// An online device reports device.delivered itself; the mock speaks only
	// for what happens inside Apple.
	if s.hub.Send(d) == mockkit.Stored {
		s.storedEvent(x, attrs)
	}
}

// delivery is what the push channel carries of an accepted notification.
func (s *Server) delivery(x *exchange) Delivery {
	now := s.timeOf(x)
	d := Delivery{Provider: Provider, Token: x.reg.Token, ID: x.n.ID, App: x.app,
		Payload: bytes.Clone(x.body), CollapseKey: x.n.CollapseID, AcceptedAt: now, Headers: x.deliveryHeaders()}
	if x.n.HasExpiration {
		if x.n.Expiration == 0 {
			d.NowOrNever = true // "APNs attempts to deliver the notification only once and doesn't store it"
		} else {
			d.Expiry = time.Unix(x.n.Expiration, 0)
			if !d.Expiry.After(now) {
				d.NowOrNever = true
			}
		}
	}
	return d
}

// acceptedEvent publishes provider.accepted and returns its attributes, for
// a provider.stored that may follow (nil without a bus: nothing to build).
func (s *Server) acceptedEvent(x *exchange) map[string]string {
	if s.bus == nil {
		return nil
	}
	attrs := x.attrs()
	detail := "accepted"
	if x.n.PushType == "liveactivity" {
		// APNs passes what the device will judge; the timeline shows what it is.
		if p, err := liveactivity.Parse(x.body); err == nil {
			attrs["activity_event"] = p.Event
			detail = "accepted: Live Activity " + p.Event
		} else {
			detail = "accepted: Live Activity payload the device will drop (" + err.Error() + ")"
		}
	}
	s.bus.Publish(events.Event{TraceID: x.traceID(), Hop: events.ProviderAccepted, Actor: Actor, Status: "200",
		Detail: detail, Payload: events.Excerpt(x.body), Attrs: attrs})
	return attrs
}

// storedEvent publishes provider.stored for a push its offline device will get later.
func (s *Server) storedEvent(x *exchange, attrs map[string]string) {
	if s.bus == nil {
		return
	}
	s.bus.Publish(events.Event{TraceID: x.traceID(), Hop: events.ProviderStored, Actor: Actor, Status: "stored", Detail: "device offline: kept as its app's last notification", Attrs: attrs})
}

// onReturn reports a push that crossed its device's going offline on the
// push channel: kept as if it had come a moment later.
func (s *Server) onReturn(d Delivery, o mockkit.Outcome) {
	if o == mockkit.Stored {
		s.bus.Publish(events.Event{TraceID: traceOf(d), Hop: events.ProviderStored, Actor: Actor, Status: "stored", Detail: "the device went offline as the push was handed over: kept as its app's last notification", Attrs: deliveryAttrs(d)})
	}
}

func (s *Server) onDrop(d Delivery, reason string) {
	s.bus.Publish(events.Event{TraceID: traceOf(d), Hop: events.ProviderDropped, Actor: Actor, Status: reason, Detail: "stored notification discarded: " + reason, Attrs: deliveryAttrs(d)})
}

func traceOf(d Delivery) string {
	if a := ackIDOf(d.Payload); a != "" {
		return a
	}
	return d.ID
}

func deliveryAttrs(d Delivery) map[string]string {
	return map[string]string{"apns-id": d.ID, "token": events.RedactToken(d.Token), "topic": d.Headers["apns-topic"],
		"push_type": d.Headers["apns-push-type"]}
}

func (x *exchange) traceID() string {
	if x.ackRaw != nil {
		x.ack, x.ackRaw = ackString(x.ackRaw), nil
	}
	if x.ack != "" {
		return x.ack
	}
	return x.n.ID
}

func (x *exchange) attrs() map[string]string {
	a := map[string]string{"apns-id": x.n.ID, "token": events.RedactToken(x.token), "topic": x.n.Topic,
		"env": string(x.env), "push_type": x.n.PushType}
	if x.fault != nil {
		a["fault"] = x.fault.ID
	}
	return a
}

// recordedHeaders are the request headers the inspection log keeps: the
// canonical key, the name it is kept under, and its index in
// headersChecked (notChecked for one that is not: it is looked up).
var recordedHeaders = [...]struct {
	key, name string
	checked   int
}{
	{"Apns-Id", "apns-id", hdrID}, {"Apns-Topic", "apns-topic", hdrTopic}, {"Apns-Push-Type", "apns-push-type", hdrPushType},
	{"Apns-Priority", "apns-priority", hdrPriority}, {"Apns-Expiration", "apns-expiration", hdrExpiration},
	{"Apns-Collapse-Id", "apns-collapse-id", hdrCollapseID}, {"Content-Type", "content-type", notChecked},
}

func (s *Server) record(x *exchange, status int, reason, note string) {
	rec := Request{At: s.timeOf(x), Method: x.r.Method, Path: x.r.URL.Path, Headers: x.recordedHeaders(), Token: x.token,
		Body: string(x.body), Status: status, Reason: reason, ID: x.n.ID}
	if x.cred != nil {
		rec.Auth = x.cred.info
	}
	if x.fault != nil {
		rec.Fault = x.fault.ID
	}
	if note != "" {
		if rec.Auth == nil {
			rec.Auth = map[string]any{}
		} else {
			rec.Auth = copyMap(rec.Auth)
		}
		rec.Auth["note"] = note
	}
	s.rec.Add(rec)
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// newAPNsID makes an apns-id as APNs does when the request has none: an
// upper-case UUID.
func newAPNsID() string { return newUUID(true) }

func newUUID(upper bool) string {
	// The runtime's ChaCha8 generator, seeded by the system: an id needs
	// to be unique, not secret, and crypto/rand cost a system call per push.
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const lo, hi = "0123456789abcdef", "0123456789ABCDEF"
	digits := lo
	if upper {
		digits = hi
	}
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = digits[c>>4], digits[c&0x0f]
		j += 2
	}
	return string(out)
}
