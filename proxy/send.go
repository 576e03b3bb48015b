package proxy

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mmpush"
)

// sender is one provider client for one app type.
type sender interface {
	provider() Provider
	// build lays the notification out for the provider, once per send_push;
	// with collapse set it carries the provider's collapse id.
	build(n *mmpush.PushNotification, appVersion int, collapse bool) delivery
	// failText is the FAIL error answered for a final failed outcome.
	failText(o outcome) string
	close()
}

// delivery is a notification ready to send: the bytes (for events) and one try.
type delivery struct {
	provider   Provider
	payload    []byte
	collapseID string // what makes a resend harmless at the provider ("" = none)
	send       func(ctx context.Context) outcome
}

// voipAlias maps the platform of an app's VoIP token ("apple_voip_rn", as
// Mattermost's model.PushNotifyAppleReactNativeVoIP) to the app type whose
// credentials serve it ("apple_rn"), as upstream does: the VoIP push goes to
// the same topic's ".voip" variant with the same key.
func voipAlias(platform string) string {
	if rest, ok := strings.CutPrefix(platform, voipPlatformPrefix); ok {
		return mmpush.PlatformApple + "_" + rest
	}
	return platform
}

const voipPlatformPrefix = mmpush.PlatformApple + "_voip_"

// target is one configured app type ("apple", "android_rn", …).
type target struct {
	appType  string
	platform string // "apple" or "android", for events and logs
	sender   sender
	requests [len(pushTypes)]hot[prometheus.Counter] // requests_total by push type
}

// pushTypes are the push types whose requests_total series a target keeps.
var pushTypes = [...]string{mmpush.TypeMessage, mmpush.TypeClear, mmpush.TypeUpdateBadge, mmpush.TypeSession, mmpush.TypeTest}

// countRequest counts a send_push that passed validation.
func (s *Server) countRequest(t *target, pushType string) {
	for i, pt := range pushTypes {
		if pt == pushType {
			t.requests[i].get(func() prometheus.Counter { return s.metrics.requests.WithLabelValues(t.appType, pushType) }).Inc()
			return
		}
	}
	s.metrics.requests.WithLabelValues(t.appType, pushType).Inc()
}

// Send validates n as POST /api/v1/send_push does and delivers it. It
// returns the answer the server would get, and a nil error for OK or a
// *SendError (see IsRemove, IsRetryable; validation failures wrap the Err…
// values). The send ends by the total timeout even if ctx does not.
func (s *Server) Send(ctx context.Context, n mmpush.PushNotification) (mmpush.Response, error) {
	appVersion, err := Normalize(&n)
	if err != nil {
		return s.badRequest(n.AckID, "send_push", err), &SendError{Status: mmpush.StatusFail, Err: err}
	}
	return s.send(ctx, &n, appVersion)
}

func (s *Server) send(ctx context.Context, n *mmpush.PushNotification, appVersion int) (mmpush.Response, error) {
	t, ok := s.targets[n.Platform]
	if !ok {
		t, ok = s.targets[voipAlias(n.Platform)]
	}
	if !ok {
		err := fmtErr(ErrUnknownPlatform, "type="+n.Platform+" serverId="+n.ServerID)
		return s.badRequest(n.AckID, "send_push", err), &SendError{Status: mmpush.StatusFail, AppType: n.Platform, Err: err}
	}
	s.countRequest(t, n.Type)
	log := &sendLog{base: s.log, n: n, appType: t.appType}
	if s.bus != nil {
		attrs := map[string]string{"platform": t.platform, "app_type": t.appType, "type": n.Type,
			"device": log.device(), "app_version": strconv.Itoa(appVersion)}
		if n.Transport != "" {
			attrs["transport"] = n.Transport
		}
		s.bus.Publish(events.Event{TraceID: n.AckID, Hop: events.ProxyReceived, Actor: actor, Status: "", Detail: "send_push for " + t.appType, Attrs: attrs})
	}

	d := t.sender.build(n, appVersion, s.cfg.ResendPolicy.collapses())
	o, v, tries := s.deliver(ctx, t, n, d, log)

	var resp mmpush.Response
	var err error
	switch v.Status {
	case mmpush.StatusOK:
		resp = mmpush.OK()
		if l := log.at(slog.LevelDebug); l != nil {
			l.Debug("sent", "tries", tries, "id", o.ID)
		}
	case mmpush.StatusRemove:
		resp = mmpush.Remove()
		log.get().Info("token is dead: answered REMOVE", "reason", v.Reason, "status", o.Status, "tries", tries)
	default:
		resp = mmpush.Fail(t.sender.failText(o))
		log.get().Warn("send failed", "reason", v.Reason, "status", o.Status, "retry", v.Retry.String(), "tries", tries, "error", o.Message)
	}
	if v.Status != mmpush.StatusOK {
		err = &SendError{Provider: t.sender.provider(), AppType: t.appType, Status: v.Status, Reason: v.Reason,
			Retry: v.Retry, Tries: tries, Err: errors.New(resp.Error)}
	}
	s.metrics.countSend(t.sender.provider(), v.Status, v.Reason)
	if s.bus != nil {
		s.bus.Publish(events.Event{TraceID: n.AckID, Hop: events.ProxyResponded, Actor: actor, Status: v.Status, Detail: resp.Error, Attrs: map[string]string{
			"provider": string(t.sender.provider()), "app_type": t.appType, "reason": v.Reason, "tries": strconv.Itoa(tries)}})

	}
	return resp, err
}

// sendLog is one send's logger, its attributes (ack id, app type, push
// type, redacted device) added only when a record is logged: a send that
// goes well logs at Debug, usually disabled, and With formats its
// attributes at once.
type sendLog struct {
	base    *slog.Logger
	n       *mmpush.PushNotification
	appType string
	l       *slog.Logger
	dev     string // the redacted device token, once made
}

// device is the send's device token, redacted, for logs and events.
func (z *sendLog) device() string {
	if z.dev == "" {
		z.dev = events.RedactToken(z.n.DeviceID)
	}
	return z.dev
}

// get returns the logger with the send's attributes.
func (z *sendLog) get() *slog.Logger {
	if z.l == nil {
		z.l = z.base.With("ack_id", z.n.AckID, "type", z.appType, "push_type", z.n.Type, "device", z.device())
	}
	return z.l
}

// at returns the logger if level is enabled, else nil.
func (z *sendLog) at(level slog.Level) *slog.Logger {
	if !z.base.Enabled(context.Background(), level) {
		return nil
	}
	return z.get()
}

// deliver makes up to MaxTries tries (under ResendCollapse, up to
// unansweredTries more that got no answer), each within RetryTimeoutSec, all
// within SendTimeoutSec. Between tries it waits RetryBackoffMs, doubling, or the
// provider's Retry-After if longer; a wait that would outlast the total
// deadline is not started. Outcomes the verdict table marks RetryByProxy are
// tried again, and so, unless ResendPolicy is never, is a try that was sent
// and not answered. Under ResendCollapse such a try keeps running past its
// timeout: if its answer comes while later tries wait or run, and before
// SendTimeoutSec, it decides the send (a late OK is an OK).
func (s *Server) deliver(ctx context.Context, t *target, n *mmpush.PushNotification, d delivery, log *sendLog) (outcome, verdict, int) {
	r := &sendRun{s: s, t: t, n: n, d: d, log: log, p: t.sender.provider(), policy: s.cfg.ResendPolicy,
		backoff: s.cfg.retryBackoff(), maxTries: s.cfg.MaxTries, tries: 1}
	if r.policy.collapses() {
		r.maxTries += unansweredTries
	}
	r.base, r.deadline = context.WithoutCancel(ctx), time.Now().Add(s.cfg.sendTimeout())
	r.results = make(chan *tryResult, r.maxTries) // never blocks a try (pointers: a buffer of values was a kilobyte per send)
	r.moved.Add(1)
	if !r.loop() {
		r.moved.Wait() // a try outlived its timeout here and the loop went on elsewhere
	}
	return r.o, r.v, r.tries
}

// sendRun is one send's retry loop. It runs on the goroutine that called
// deliver, and each try with no earlier try still out runs there too, with
// no hand-off. Only when such a try outlives RetryTimeoutSec after sending
// (ResendCollapse) does the loop go on without it, on its timer's
// goroutine; then the try's answer comes on results like any late one.
type sendRun struct {
	s        *Server
	t        *target
	n        *mmpush.PushNotification
	d        delivery
	log      *sendLog
	p        Provider
	policy   ResendPolicy
	base     context.Context // the caller's values, without its cancellation
	deadline time.Time       // SendTimeoutSec after the start
	// ctx ends at the deadline, and cancel ends the tries still running
	// in it; made when first needed (sendCtx): a send decided by its
	// first try never needs it.
	ctx    context.Context
	cancel context.CancelFunc
	// loose ends the try left running whose context is not ctx's child.
	loose    context.CancelFunc
	backoff  time.Duration
	maxTries int
	results  chan *tryResult // tries that ran on another goroutine, or were left behind
	pending  int             // tries left running past their timeout
	moved    sync.WaitGroup  // done when a loop that left deliver's goroutine ends

	o        outcome
	v        verdict
	tries    int
	answered int // tries the provider answered
}

// sendCtx is the send's context: it ends at the deadline.
func (r *sendRun) sendCtx() context.Context {
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithDeadline(r.base, r.deadline)
	}
	return r.ctx
}

// loop runs tries from r.tries on until the send is decided, then ends the
// tries still out. It returns false if a try outlived its timeout on this
// goroutine and the loop went on on another (which ends it).
func (r *sendRun) loop() bool {
	for {
		res, late, here := r.next()
		if !here {
			return false
		}
		if r.after(res, late) {
			r.finish()
			return true
		}
		r.tries++
	}
}

// resume goes on with the loop after try r.tries outlived its timeout on
// another goroutine, on its timer's goroutine.
func (r *sendRun) resume(res tryResult) {
	if r.after(res, false) {
		r.finish()
	} else {
		r.tries++
		if !r.loop() {
			return
		}
	}
	r.moved.Done()
}

// next runs try number r.tries and returns its result; or, when an earlier
// try that had timed out answers first and decides the send, that answer
// (late is then true). here is false if the loop moved to another goroutine
// meanwhile.
func (r *sendRun) next() (res tryResult, late, here bool) {
	s, try := r.s, r.tries
	a := &attempts{}
	var tctx context.Context
	var tcancel context.CancelFunc
	collapse := r.policy.collapses()
	switch {
	case r.pending > 0: // ended with the send, or by its timeout (await)
		tctx, tcancel = context.WithCancel(r.sendCtx())
	case collapse:
		// No other try is out: one context, ending at the send's
		// deadline, serves this try alone (loose, if it is left running).
		tctx, tcancel = context.WithDeadline(r.base, r.deadline)
		r.loose = tcancel
	default:
		dl := time.Now().Add(s.cfg.retryTimeout())
		if r.deadline.Before(dl) {
			dl = r.deadline
		}
		tctx, tcancel = context.WithDeadline(r.base, dl)
	}
	tryCtx := withAttempts(tctx, a)
	if r.pending > 0 {
		// An earlier try is still out: its answer may decide the send
		// while this one runs, so this one runs on a worker.
		results := r.results
		s.workers.Go(func() {
			res := s.try(tryCtx, try, a, r.n, r.d)
			results <- &res
		})
		res, late = s.await(try, a, tcancel, r.policy, r.p, r.results, &r.pending)
		if !res.running {
			tcancel()
		}
		return res, late, true
	}
	if !collapse { // the try's context ends it at its timeout
		res = s.try(tryCtx, try, a, r.n, r.d)
		tcancel()
		return res, false, true
	}
	// At its timeout, an unsent try is cancelled (and its result awaited
	// here); a sent one is left running and judged unconfirmed, and the
	// loop goes on on the timer's goroutine. state says who has the loop:
	// 0 undecided, 1 this goroutine (the try ended first), 2 the timer.
	var state atomic.Int32
	timer := time.AfterFunc(s.cfg.retryTimeout(), func() {
		if !a.sentNow() {
			tcancel() // not sent yet: cancelling it keeps it unsent
			return
		}
		if state.CompareAndSwap(0, 2) {
			r.pending++
			r.resume(tryResult{n: try, why: ReasonTimeout, running: true,
				o: outcome{Kind: kindUnconfirmed, Message: "sent, no answer within RetryTimeoutSec (the try goes on)"}})
		}
	})
	mine := s.try(tryCtx, try, a, r.n, r.d)
	if state.CompareAndSwap(0, 1) {
		timer.Stop()
		tcancel()
		return mine, false, true
	}
	r.results <- &mine // the loop went on without it: a late answer
	tcancel()
	return tryResult{}, false, false
}

// after judges try r.tries's result, reports it, and waits before the next
// try; it returns true when the send is decided or out of tries or time.
func (r *sendRun) after(res tryResult, late bool) bool {
	s, p := r.s, r.p
	r.o, r.v = res.o, s.judge(p, res.o)
	if r.o.Kind == kindUnconfirmed && r.policy.resends() && !late {
		r.v.Retry = RetryByProxy
	}
	s.forwarded(r, res, r.v, late)
	if r.o.Kind == kindAnswer {
		r.answered++
	}
	// Under ResendCollapse only answered tries count against MaxTries:
	// a try that got no answer costs the provider nothing it said no
	// to, and the deadline and the doubling backoff bound the rest.
	spent := r.tries >= s.cfg.MaxTries
	if r.policy.collapses() {
		spent = r.answered >= s.cfg.MaxTries || r.tries >= r.maxTries
	}
	if late || r.v.Retry != RetryByProxy || spent {
		return true
	}
	wait := r.backoff << min(r.tries-1, 16) // the deadline check below bounds it anyway
	if r.o.RetryAfter > wait {
		wait = r.o.RetryAfter
	}
	if time.Until(r.deadline) <= wait {
		r.log.get().Info("not retrying: the wait would outlast the send timeout", "reason", r.v.Reason, "wait", wait)
		return true
	}
	r.log.get().Info("retrying", "reason", r.v.Reason, "try", r.tries, "wait", wait)
	s.metrics.retries.WithLabelValues(string(p), r.v.Reason).Inc()
	if r.o.Kind == kindUnconfirmed {
		why := res.why
		s.metrics.resends.WithLabelValues(string(p), why).Inc()
		if r.d.collapseID != "" {
			s.metrics.collapses.WithLabelValues(string(p), why).Inc()
		}
	}
	if lr, ok := s.pause(r.sendCtx(), wait, r.results, &r.pending, p); ok {
		r.o, r.v = lr.o, s.judge(p, lr.o)
		s.forwarded(r, lr, r.v, true)
		return true
	}
	return r.ctx.Err() != nil // made by sendCtx above
}

// finish waits, when out of tries with some still out there, for an answer
// that may yet come; then it ends the tries still running.
func (r *sendRun) finish() {
	s, p := r.s, r.p
	for r.v.Status != mmpush.StatusOK && r.v.Status != mmpush.StatusRemove && r.pending > 0 {
		select {
		case rp := <-r.results:
			res := *rp
			r.pending--
			if lv := s.judge(p, res.o); final(lv) {
				r.o, r.v = res.o, lv
				s.forwarded(r, res, r.v, true)
			} else {
				s.lateAnswer(p, res, lv)
			}
		case <-r.sendCtx().Done():
			r.pending = 0
		}
	}
	if r.cancel != nil {
		r.cancel()
	}
	if r.loose != nil {
		r.loose()
	}
}

// unansweredTries is how many tries without an answer ResendCollapse may add
// to MaxTries, within SendTimeoutSec: a connection reset fails every stream
// in flight on it, so a busy proxy sees them in bursts.
const unansweredTries = 8

// tryResult is one try's outcome.
type tryResult struct {
	n   int // the try's number
	o   outcome
	why string // for an unconfirmed try: how the answer was lost
	// running: the try timed out after sending and goes on (ResendCollapse).
	running bool
}

// try runs one try.
func (s *Server) try(ctx context.Context, n int, a *attempts, pn *mmpush.PushNotification, d delivery) tryResult {
	start := time.Now()
	o := d.send(ctx)
	o.Message = redact(o.Message, pn.DeviceID) // apns2's errors quote the URL, token included
	o = refine(o, a, ctx.Err() != nil)
	s.metrics.observeSend(d.provider, time.Since(start).Seconds())
	return tryResult{n: n, o: o, why: a.unconfirmedWhy()}
}

// await waits for try number n, run on a worker while an earlier try is
// still out: its result; or its timeout, after which an unsent try is
// cancelled (and its result awaited) and a sent one, under ResendCollapse,
// is left running and judged unconfirmed; or a late answer of an earlier
// try that decides the send (late is then true).
func (s *Server) await(n int, a *attempts, cancel context.CancelFunc, policy ResendPolicy,
	p Provider, results <-chan *tryResult, pending *int) (r tryResult, late bool) {
	var timeout <-chan time.Time
	if policy.collapses() {
		t := time.NewTimer(s.cfg.retryTimeout())
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case rp := <-results:
			r := *rp
			if r.n == n {
				return r, false
			}
			*pending--
			v := s.judge(p, r.o)
			if final(v) {
				return r, true
			}
			s.lateAnswer(p, r, v)
		case <-timeout:
			timeout = nil
			if !a.sentNow() {
				cancel() // not sent yet: cancelling it keeps it unsent
				continue
			}
			*pending++
			return tryResult{n: n, why: ReasonTimeout, running: true,
				o: outcome{Kind: kindUnconfirmed, Message: "sent, no answer within RetryTimeoutSec (the try goes on)"}}, false
		}
	}
}

// pause waits between tries, or until a late answer decides the send.
func (s *Server) pause(ctx context.Context, wait time.Duration, results <-chan *tryResult, pending *int, p Provider) (tryResult, bool) {
	if *pending == 0 {
		s.sleep(ctx, wait)
		return tryResult{}, false
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	slept := make(chan struct{})
	go func() { s.sleep(sctx, wait); close(slept) }()
	for {
		select {
		case rp := <-results:
			r := *rp
			*pending--
			v := s.judge(p, r.o)
			if final(v) {
				return r, true
			}
			s.lateAnswer(p, r, v)
		case <-slept:
			return tryResult{}, false
		}
	}
}

// final reports a verdict no later try can improve on.
func final(v verdict) bool { return v.Status == mmpush.StatusOK || v.Status == mmpush.StatusRemove }

// lateAnswer counts the answer of a try that had timed out and did not
// decide the send.
func (s *Server) lateAnswer(p Provider, r tryResult, v verdict) {
	s.metrics.lateAnswers.WithLabelValues(string(p), v.Status).Inc()
}

// forwarded reports one try: metrics and the proxy.forwarded event.
func (s *Server) forwarded(run *sendRun, r tryResult, v verdict, late bool) {
	t, n, d := run.t, run.n, run.d
	p, o := t.sender.provider(), r.o
	class := tryClassOf(o)
	s.metrics.countTry(p, class)
	if class == sentUnanswered {
		s.metrics.unconfirmed.WithLabelValues(string(p), r.why).Inc()
	}
	if late {
		s.metrics.lateAnswers.WithLabelValues(string(p), v.Status).Inc()
	}
	if s.bus == nil {
		return
	}
	attrs := map[string]string{"provider": string(p), "app_type": t.appType, "try": strconv.Itoa(r.n),
		"reason": v.Reason, "verdict": v.Status, "retry": v.Retry.String(), "id": o.ID,
		"device": run.log.device(), "class": class.String()}
	if class == sentUnanswered {
		attrs["unconfirmed"] = r.why
	}
	if late {
		attrs["late"] = "answered after the try's timeout"
	}
	if d.collapseID != "" {
		attrs["collapse_id"] = d.collapseID
	}
	s.bus.Publish(events.Event{TraceID: n.AckID, Hop: events.ProxyForwarded, Actor: actor,
		Status: forwardedStatus(o), Detail: o.Message, Payload: events.Excerpt(d.payload), Attrs: attrs})
}

// tryClassOf maps a try's outcome to its class.
func tryClassOf(o outcome) tryClass {
	switch o.Kind {
	case kindAnswer:
		return answered
	case kindUnconfirmed:
		return sentUnanswered
	default:
		return neverSent
	}
}

// refine completes a try's outcome with what the transport saw: the
// Retry-After of the answer, and for a failure without an answer, whether
// the request had been sent (unconfirmed), the try timed out first, or the
// client library had an answer when the deadline cut its own retrying short.
func refine(o outcome, a *attempts, timedOut bool) outcome {
	_, last, retryAfter, unanswered := a.snapshot()
	if o.RetryAfter == 0 {
		o.RetryAfter = retryAfter
	}
	if unanswered && !o.ok() {
		o.Kind, o.Status, o.Reason = kindUnconfirmed, 0, ""
		return o
	}
	if o.Kind != kindTransport {
		return o
	}
	switch {
	case last != 0:
		o.Kind, o.Status = kindAnswer, last
	case timedOut:
		o.Kind = kindTimeout
	}
	return o
}

func forwardedStatus(o outcome) string {
	switch {
	case o.Kind == kindAnswer && o.Reason != "":
		return o.Reason
	case o.Kind == kindAnswer:
		return strconv.Itoa(o.Status)
	default:
		return o.reason()
	}
}

// redact replaces a device token in text by its redacted form.
func redact(text, token string) string {
	if len(token) < 8 {
		return text // too short to be a real token, and to replace safely
	}
	return strings.ReplaceAll(text, token, events.RedactToken(token))
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// judge applies the verdict table with the retries Config.UpstreamRetries picks.
func (s *Server) judge(p Provider, o outcome) verdict { return judgeAs(p, o, s.cfg.UpstreamRetries) }
