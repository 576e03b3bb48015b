package mockfcm

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
)

// exchange is one send request on its way through the checks.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	project string    // the {project} of the path
	rec     *Request  // added to the inspection log once answered: &record
	record  Request   // in the exchange: one allocation for both
	now     time.Time // the mock's clock when the request came, or after a fault held it
	trace   string    // the message's ack_id, or its message id once accepted
	msgID   string    // given when accepted
	grant   *grant
	request SendRequest // the body, once read (in the exchange: one allocation less)
	msg     *Message    // &request.Message
	app     string      // the package of msg.Token, once checkDevice found it installed
	// atAccept is a matched fault that acts once the message is accepted.
	atAccept *Fault
}

// send serves POST /v1/projects/{project}/messages:send. The checks run in
// the order Google answers them: the first that fails is the answer.
func (s *Server) send(w http.ResponseWriter, r *http.Request, project string) {
	now := s.now() // read once: a send's checks and its answer see one time
	x := &exchange{w: w, r: r, project: project, now: now, record: s.record(r, now)}
	x.rec = &x.record
	if err := s.checkCredential(x); err != nil {
		s.reject(x, err)
		return
	}
	if err := s.checkProjectQuota(x); err != nil {
		s.reject(x, err)
		return
	}
	if err := s.readMessage(x); err != nil {
		s.reject(x, err)
		return
	}
	if err, answered := s.fault(x); answered {
		if err != nil {
			s.reject(x, err)
		}
		return
	}
	if err := s.checkDevice(x); err != nil {
		s.reject(x, err)
		return
	}
	s.accept(x)
}

// checkCredential: a live access token, of a service account of the
// project, with a scope that may send.
func (s *Server) checkCredential(x *exchange) *Error {
	g, err := s.authorize(x.r, x.rec)
	if err != nil {
		return err
	}
	x.grant = g
	if !g.project(x.project) {
		return errPermissionDenied(x.project)
	}
	if !g.canMessage() {
		return &Error{HTTPStatus: 403, Status: StatusPermissionDenied, Message: "Request had insufficient authentication scopes."}
	}
	return nil
}

// checkProjectQuota counts the message against its project's minute.
func (s *Server) checkProjectQuota(x *exchange) *Error {
	project := x.grant.acct.project
	wait, ok := s.quota.Allow(project, x.now)
	if ok {
		return nil
	}
	e := newError(QuotaExceeded, "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of project "+project+".")
	e.RetryAfter = retryAfter(wait)
	return e
}

// retryAfter is a Retry-After value: wait in whole seconds, rounded up.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(int((wait + time.Second - 1) / time.Second))
}

// readMessage reads and validates the body; the message's target and
// ack_id go to the record and the trace.
func (s *Server) readMessage(x *exchange) *Error {
	body, err := readBody(x.w, x.r)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return invalid("", fmt.Sprintf("Request payload size exceeds the limit: %d bytes.", maxBody))
		}
		return invalid("", "Could not read the request body.")
	}
	text := string(body) // one copy, for the record and the message's strings
	x.rec.Body = truncate(text, maxRecordedBody)
	if perr := parseSendRequest(body, text, &x.request); perr != nil {
		return perr
	}
	x.msg = &x.request.Message
	x.rec.Token = target(x.msg)
	x.trace = x.msg.dataValue("ack_id")
	return nil
}

// target is what a message is sent to: a token, "/topics/name" or a condition.
func target(m *Message) string {
	switch {
	case m.Topic != "":
		return "/topics/" + m.Topic
	case m.Condition != "":
		return m.Condition
	}
	return m.Token
}

// fault looks the message's target up in the fault script. A fault that
// acts at acceptance is kept for accept; any other acts now. answered means
// the request was answered (or aborted); a non-nil error is the answer to
// send.
func (s *Server) fault(x *exchange) (err *Error, answered bool) {
	f, ok := s.faults.Match(x.rec.Token)
	if !ok {
		return nil, false
	}
	x.rec.Fault = f.ID
	if f.Action.AtAccept() {
		kept := f // on the heap only when kept
		x.atAccept = &kept
		return nil, false
	}
	err, answered = s.applyFault(x, f)
	if !answered {
		x.now = s.now() // it may have held the request
	}
	return err, answered
}

// applyFault carries out a fault that acts before the message is judged.
// done means the request was answered (or aborted); a non-nil error is the
// answer to send.
func (s *Server) applyFault(x *exchange, f Fault) (answer *Error, done bool) {
	s.faultEvent(&f, x)
	rec := x.rec
	done = mockkit.BeforeJudging(x.r.Context(), f, mockkit.Before{
		Abandoned: func() {
			rec.Status, rec.Reason = 0, "abandoned" // dropped unserved
			s.keep(rec, x.r)
		},
		Respond: func() { answer = faultAnswer(f) },
		Reset: func() {
			rec.Status, rec.Reason = 0, "reset"
			s.keep(rec, x.r)
			panic(http.ErrAbortHandler) // net/http resets the stream (h2) or closes the connection
		},
		GoAway: func() { x.w.Header().Set("Connection", "close") }, // net/http's h2 server answers, then sends GOAWAY
	})
	return answer, done
}

// faultAnswer is the error a respond fault answers: its FCM code (or the
// one FCM answers its status with), its status, its Retry-After.
func faultAnswer(f Fault) *Error {
	code := f.Reason
	if _, ok := fcmCodes[code]; !ok {
		code = codeForStatus(f.Status)
	}
	e := newError(code, "")
	if f.Status != 0 {
		e.HTTPStatus = f.Status
	}
	e.RetryAfter = f.RetryAfter
	if code == QuotaExceeded && e.RetryAfter == "" {
		e.RetryAfter = "60"
	}
	return e
}

// faultEvent reports a fault firing.
func (s *Server) faultEvent(f *Fault, x *exchange) {
	s.bus.Publish(events.Event{TraceID: x.trace, Hop: events.FaultInjected, Actor: Actor, Status: string(f.Action),
		Detail: fmt.Sprintf("fault %s: %s %d %s", f.ID, f.Action, f.Status, f.Reason),
		Attrs:  map[string]string{"fault": f.ID, "target": events.RedactToken(x.rec.Token)}})
}

// checkDevice judges a message to a token: a token FCM never issued is
// invalid; an uninstalled or expired one is UNREGISTERED; another
// project's is SENDER_ID_MISMATCH; past its device's rate, QUOTA_EXCEEDED.
// Topics and conditions have no device to check.
func (s *Server) checkDevice(x *exchange) *Error {
	token := x.msg.Token
	if token == "" {
		return nil
	}
	now := x.now
	reg, ok := s.reg.Lookup(token)
	switch {
	case !ok && !looksLikeToken(token):
		return invalid("message.token", "The registration token is not a valid FCM registration token")
	case !ok || !reg.Installed:
		return newError(Unregistered, "")
	case expired(reg, now):
		return newError(Unregistered, "Requested entity was not found: the registration token expired after 270 days of inactivity.")
	case !x.grant.project(reg.Project):
		return newError(SenderIDMismatch, "")
	}
	if wait, ok := s.rate.Allow(token, now); !ok {
		e := newError(QuotaExceeded, "Sending limit exceeded for the message target: device message rate exceeded.")
		e.RetryAfter = retryAfter(wait)
		return e
	}
	x.app = reg.App
	return nil
}

// reject answers e, and records and reports it.
func (s *Server) reject(x *exchange, e *Error) {
	rec := x.rec
	rec.Status, rec.Reason = e.HTTPStatus, e.FCMCode
	if rec.Reason == "" {
		rec.Reason = e.Status
	}
	s.keep(rec, x.r)
	if s.bus != nil { // nobody listens: spare the attrs
		attrs := map[string]string{"project": x.project, "http_status": strconv.Itoa(e.HTTPStatus)}
		if rec.Token != "" {
			attrs["token"] = events.RedactToken(rec.Token)
		}
		s.bus.Publish(events.Event{TraceID: x.trace, Hop: events.ProviderRejected, Actor: Actor, Status: rec.Reason,
			Detail: e.Message, Payload: events.Excerpt([]byte(rec.Body)), Attrs: attrs})
	}
	e.write(x.w)
}

// accept gives the message its id, records and reports it, and answers
// it; then the message goes to its device(s), unless it is validate_only.
// The handler's deepest calls (the answer's write through net/http, the
// delivery) are made from here, so its frame is small: the record's copy
// and a fault's closures are in calls of their own.
func (s *Server) accept(x *exchange) {
	if f := x.atAccept; f != nil {
		s.acceptUnder(f, x)
		return
	}
	name, answer := s.nameMessage(x)
	s.accepted(x, name)
	writeAnswer(x.w, answer, name)
	if !x.request.ValidateOnly {
		s.deliver(x)
	}
}

// accepted records and reports the message accepted under its name.
func (s *Server) accepted(x *exchange, name string) {
	if x.trace == "" {
		x.trace = x.msgID
	}
	x.rec.Status, x.rec.ID = 200, name
	s.keep(x.rec, x.r)
	if s.bus != nil {
		s.acceptedEvent(x)
	}
}

// acceptUnder is accept under a fault that acts once the message is
// accepted: it may delay the message, or lose or delay the answer. How it
// plays out is decided once, for both mocks.
func (s *Server) acceptUnder(f *Fault, x *exchange) {
	name, answer := s.nameMessage(x)
	s.faultEvent(f, x)
	mockkit.HoldAccepted(x.r.Context(), f) // the message is Google's now
	x.now = s.now()
	s.accepted(x, name)
	mockkit.Accept(x.r.Context(), f, mockkit.Acceptance{
		Deliver: func() {
			if !x.request.ValidateOnly {
				s.deliver(x)
			}
		},
		Answer: func() { writeAnswer(x.w, answer, name) },
		Reset:  func() { panic(http.ErrAbortHandler) }, // delivered; the stream is reset before the answer
	})
}

// The answer to an accepted message, around its name.
const answerHead, answerTail = "{\n  \"name\": \"", "\"\n}\n"

// nameMessage gives an accepted message its id (x.msgID) and its name,
// and makes the answer that carries the name: the three in one piece, the
// id and the name slices of the answer. The answer is "" for a name that
// does not quote as itself: writeName quotes it.
func (s *Server) nameMessage(x *exchange) (name, answer string) {
	var buf [40]byte
	id := append(buf[:0], "fake_message_id"...)
	if !x.request.ValidateOnly {
		id = s.ids.appendMessageID(buf[:0], x.now)
	}
	const prefix, infix = "projects/", "/messages/"
	var b strings.Builder
	b.Grow(len(answerHead) + len(prefix) + len(x.project) + len(infix) + len(id) + len(answerTail))
	b.WriteString(answerHead)
	b.WriteString(prefix)
	b.WriteString(x.project)
	b.WriteString(infix)
	b.Write(id)
	b.WriteString(answerTail)
	answer = b.String()
	name = answer[len(answerHead) : len(answer)-len(answerTail)]
	x.msgID = name[len(name)-len(id):]
	if !quotesAsItself(name) {
		answer = ""
	}
	return name, answer
}

// writeAnswer writes the answer nameMessage made, in one piece, or has
// writeName quote the name.
func writeAnswer(w http.ResponseWriter, answer, name string) {
	if answer == "" {
		writeName(w, name)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	io.WriteString(w, answer)
}

// acceptedEvent reports an accepted message.
func (s *Server) acceptedEvent(x *exchange) {
	m := x.msg
	attrs := map[string]string{"project": x.project, "message_id": x.msgID, "target": redactTarget(m)}
	if m.Priority != "" {
		attrs["priority"] = m.Priority
	}
	if x.request.ValidateOnly {
		attrs["validate_only"] = "true"
	}
	s.bus.Publish(events.Event{TraceID: x.trace, Hop: events.ProviderAccepted, Actor: Actor, Status: "200",
		Detail: "FCM accepted the message", Payload: events.Excerpt(m.Payload), Attrs: attrs})
}

// writeName answers {"name": …} as Google lays it out (%q, which is strconv.Quote).
func writeName(w http.ResponseWriter, name string) {
	w.Header()["Content-Type"] = jsonContentType
	if quotesAsItself(name) { // the usual name: written as it is, no buffer
		io.WriteString(w, "{\n  \"name\": \"")
		io.WriteString(w, name)
		io.WriteString(w, "\"\n}\n")
		return
	}
	out := make([]byte, 0, len(name)+20)
	out = append(out, "{\n  \"name\": "...)
	out = strconv.AppendQuote(out, name)
	w.Write(append(out, "\n}\n"...))
}

// jsonContentType is the answers' Content-Type, canonical already. Its
// capacity is its length: a handler that adds a value copies it.
var jsonContentType = []string{"application/json; charset=UTF-8"}[:1:1]

// quotesAsItself: strconv.Quote(s) is s between quotes.
func quotesAsItself(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func redactTarget(m *Message) string {
	switch {
	case m.Token != "":
		return events.RedactToken(m.Token)
	case m.Topic != "":
		return "/topics/" + m.Topic
	}
	return m.Condition
}

// deliver hands an accepted message to its device(s).
func (s *Server) deliver(x *exchange) {
	d := s.delivery(x)
	m := x.msg
	if m.Token == "" {
		s.deliverToAudience(x, &d)
		return
	}
	// checkDevice found the token installed, its app x.app; a fault that
	// held the message since gave the app time to go.
	app, ok := x.app, true
	if x.atAccept != nil {
		app, ok = s.installedApp(m.Token, d.AcceptedAt)
	}
	if ok && s.mayGo(x, m.Token, app) {
		s.handOver(x, &d, m.Token, app)
	}
}

// installedApp is the app of token, if it is installed and not expired.
func (s *Server) installedApp(token string, now time.Time) (string, bool) {
	reg, ok := s.reg.Lookup(token)
	if !ok || !reg.Installed || expired(reg, now) {
		return "", false
	}
	return reg.App, true
}

// delivery is what the push channel carries of x's accepted message, but
// for the token it goes to.
func (s *Server) delivery(x *exchange) Delivery {
	g, m, now := x.grant, x.msg, x.now
	d := Delivery{Provider: Provider, ID: x.msgID, Payload: m.Payload, CollapseKey: m.CollapseKey, AcceptedAt: now,
		Headers: map[string]string{"from": g.acct.projectNumber}}
	if d.Headers["from"] == "" {
		d.Headers["from"] = g.acct.project
	}
	if m.Topic != "" {
		d.Headers["from"] = "/topics/" + m.Topic
	}
	if m.Priority != "" {
		d.Headers["priority"] = m.Priority
	}
	if m.HasTTL && m.TTL == 0 {
		d.NowOrNever = true
	} else {
		d.Expiry = now.Add(m.TTL)
	}
	return d
}

// deliverToAudience hands d to each installed token subscribed to the
// message's topic, or matched by its condition.
func (s *Server) deliverToAudience(x *exchange, d *Delivery) {
	g, m := x.grant, x.msg
	var tokens []string
	if m.Topic != "" {
		tokens = s.subs.audience(g.acct.project, m.Topic, nil)
	} else {
		cond, err := ParseCondition(m.Condition)
		if err != nil { // parsed once already
			return
		}
		tokens = s.subs.audience(g.acct.project, "", cond)
	}
	for _, tok := range tokens {
		if app, ok := s.installedApp(tok, d.AcceptedAt); ok && s.mayGo(x, tok, app) {
			s.handOver(x, d, tok, app)
		}
	}
}

// mayGo: the message is not restricted to another package than app, the
// package of token (if it is, that is reported).
func (s *Server) mayGo(x *exchange, token, app string) bool {
	if m := x.msg; m.RestrictedPackageName != "" && m.RestrictedPackageName != app {
		s.restrictedEvent(m, app, token, x.msgID, x.trace)
		return false
	}
	return true
}

// handOver gives d to the push channel for token, of app. It runs at the
// bottom of the handler, on the small stack net/http starts each request
// on (see mockkit's Hub.sendLocked): its frame and its caller's stay small,
// and the rare cases' events are calls of their own.
func (s *Server) handOver(x *exchange, d *Delivery, token, app string) {
	d.Token, d.App = token, app
	switch s.hub.Send(*d) {
	case mockkit.Delivered:
		s.reg.Touch(token)
	case mockkit.Stored:
		s.storedEvent(d, x.trace)
	}
}

// The events of deliver live in functions of their own, so that the
// handler's stack stays short on the usual path.

func (s *Server) restrictedEvent(m *Message, app, token, msgID, trace string) {
	s.bus.Publish(events.Event{TraceID: trace, Hop: events.ProviderDropped, Actor: Actor, Status: "restricted_package_name",
		Detail: fmt.Sprintf("not delivered: restricted to %s, the token is %s's", m.RestrictedPackageName, app),
		Attrs:  map[string]string{"token": events.RedactToken(token), "message_id": msgID}})
}

func (s *Server) storedEvent(d *Delivery, trace string) {
	s.bus.Publish(events.Event{TraceID: trace, Hop: events.ProviderStored, Actor: Actor, Status: "stored",
		Detail: "the device is offline: FCM keeps the message until it comes back or the ttl passes",
		Attrs:  map[string]string{"token": events.RedactToken(d.Token), "message_id": d.ID, "expiry": d.Expiry.UTC().Format(time.RFC3339)}})
}
