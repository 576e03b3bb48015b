package proxy

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pushlab/pushlab/internal/events"
	"github.com/pushlab/pushlab/mmpush"
)

// sender is one provider client for one app type.
type sender interface {
	provider() Provider
	// build lays the notification out for the provider, once per send_push.
	build(n *mmpush.PushNotification, appVersion int) delivery
	// failText is the FAIL error answered for a final failed outcome.
	failText(o outcome) string
	close()
}

// delivery is a notification ready to send: the bytes (for events) and one try.
type delivery struct {
	payload []byte
	send    func(ctx context.Context) outcome
}

// target is one configured app type ("apple", "android_rn", …).
type target struct {
	appType  string
	platform string // "apple" or "android", for events and logs
	sender   sender
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
		err := fmtErr(ErrUnknownPlatform, "type="+n.Platform+" serverId="+n.ServerID)
		return s.badRequest(n.AckID, "send_push", err), &SendError{Status: mmpush.StatusFail, AppType: n.Platform, Err: err}
	}
	s.metrics.requests.WithLabelValues(t.appType, n.Type).Inc()
	log := s.log.With("ack_id", n.AckID, "type", t.appType, "push_type", n.Type, "device", events.RedactToken(n.DeviceID))
	if s.bus != nil {
		attrs := map[string]string{"platform": t.platform, "app_type": t.appType, "type": n.Type,
			"device": events.RedactToken(n.DeviceID), "app_version": strconv.Itoa(appVersion)}
		if n.Transport != "" {
			attrs["transport"] = n.Transport
		}
		s.bus.Emit(n.AckID, events.ProxyReceived, actor, "", "send_push for "+t.appType, attrs)
	}

	d := t.sender.build(n, appVersion)
	o, v, tries := s.deliver(ctx, t, n, d, log)

	var resp mmpush.Response
	var err error
	switch v.Status {
	case mmpush.StatusOK:
		resp = mmpush.OK()
		log.Debug("sent", "tries", tries, "id", o.ID)
	case mmpush.StatusRemove:
		resp = mmpush.Remove()
		log.Info("token is dead: answered REMOVE", "reason", v.Reason, "status", o.Status, "tries", tries)
	default:
		resp = mmpush.Fail(t.sender.failText(o))
		log.Warn("send failed", "reason", v.Reason, "status", o.Status, "retry", v.Retry.String(), "tries", tries, "error", o.Message)
	}
	if v.Status != mmpush.StatusOK {
		err = &SendError{Provider: t.sender.provider(), AppType: t.appType, Status: v.Status, Reason: v.Reason,
			Retry: v.Retry, Tries: tries, Err: errors.New(resp.Error)}
	}
	s.metrics.sends.WithLabelValues(string(t.sender.provider()), v.Status, v.Reason).Inc()
	if s.bus != nil {
		s.bus.Emit(n.AckID, events.ProxyResponded, actor, v.Status, resp.Error, map[string]string{
			"provider": string(t.sender.provider()), "app_type": t.appType, "reason": v.Reason, "tries": strconv.Itoa(tries)})
	}
	return resp, err
}

// deliver makes up to MaxTries tries, each within RetryTimeoutSec, all within
// SendTimeoutSec. Between tries it waits RetryBackoffMs, doubling, or the
// provider's Retry-After if longer; a wait that would outlast the total
// deadline is not started. Only outcomes the verdict table marks RetryByProxy
// are tried again.
func (s *Server) deliver(ctx context.Context, t *target, n *mmpush.PushNotification, d delivery, log *slog.Logger) (outcome, verdict, int) {
	p := t.sender.provider()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.sendTimeout())
	defer cancel()
	backoff := s.cfg.retryBackoff()
	var (
		o     outcome
		v     verdict
		tries int
	)
	for tries = 1; ; tries++ {
		a := &attempts{}
		tctx, tcancel := context.WithTimeout(withAttempts(ctx, a), s.cfg.retryTimeout())
		start := time.Now()
		o = d.send(tctx)
		o.Message = redact(o.Message, n.DeviceID) // apns2's errors quote the URL, token included
		timedOut := tctx.Err() != nil
		tcancel()
		o = refine(o, a, timedOut)
		v = judge(p, o)
		if o.Kind == kindUnconfirmed && s.cfg.RetryUnconfirmed {
			v.Retry = RetryByProxy
		}
		s.metrics.sendSeconds.WithLabelValues(string(p)).Observe(time.Since(start).Seconds())
		if s.bus != nil {
			s.bus.Publish(events.Event{TraceID: n.AckID, Hop: events.ProxyForwarded, Actor: actor,
				Status: forwardedStatus(o), Detail: o.Message, Payload: events.Excerpt(d.payload),
				Attrs: map[string]string{"provider": string(p), "app_type": t.appType, "try": strconv.Itoa(tries),
					"reason": v.Reason, "verdict": v.Status, "retry": v.Retry.String(), "id": o.ID,
					"device": events.RedactToken(n.DeviceID)}})
		}
		if v.Retry != RetryByProxy || tries >= s.cfg.MaxTries {
			break
		}
		wait := backoff << min(tries-1, 16) // the deadline check below bounds it anyway
		if o.RetryAfter > wait {
			wait = o.RetryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			log.Info("not retrying: the wait would outlast the send timeout", "reason", v.Reason, "wait", wait)
			break
		}
		log.Info("retrying", "reason", v.Reason, "try", tries, "wait", wait)
		s.metrics.retries.WithLabelValues(string(p), v.Reason).Inc()
		if s.sleep(ctx, wait) != nil {
			break
		}
	}
	return o, v, tries
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
