package e2e

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// Accounting is the invariant every scenario checks over all of its
// notifications: each send_push is accounted (the proxy answered OK, FAIL or
// REMOVE), sent = delivered + held by the provider for an offline device +
// reported failures, nothing is delivered twice, and nothing is lost
// silently (an OK the provider never accepted or never pushed on).
type Accounting struct {
	Sent      int `json:"sent"`
	OK        int `json:"ok"`
	Fail      int `json:"fail"`
	Remove    int `json:"remove"`
	Delivered int `json:"delivered"`
	Stored    int `json:"stored"` // accepted for an offline device, held by the provider
	// Violations, one sentence each, naming the notification.
	Violations []Violation `json:"violations,omitempty"`
}

// Violation is one broken rule of the accounting, for one notification.
type Violation struct {
	Trace string `json:"ack_id"`
	Rule  string `json:"rule"`
}

// Account checks the invariant on the traces (events by ack id). injected
// are traces the scenario re-delivered on purpose (replays); with
// acksMayFail an ack the proxy refused is not a violation.
func Account(traces map[string][]events.Event, injected map[string]bool, acksMayFail bool) Accounting {
	var a Accounting
	ids := make([]string, 0, len(traces))
	for id := range traces {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	bad := func(id, format string, args ...any) {
		a.Violations = append(a.Violations, Violation{id, fmt.Sprintf(format, args...)})
	}
	for _, id := range ids {
		tr := traces[id]
		if count(tr, events.ServerSent) == 0 {
			continue // another server's push (a forger's) the scenario tracks through its devices only
		}
		a.Sent++
		ans, ok := last(tr, events.ServerAnswered)
		delivered := count(tr, events.DeviceDelivered)
		stored := count(tr, events.ProviderStored) > 0
		// What the proxy did, seen by the proxy (if it reports) or the mocks.
		accepted := count(tr, events.ProviderAccepted) > 0
		if !ok {
			bad(id, "unaccounted: the server never got an answer to send_push")
			continue
		}
		switch ans.Status {
		case serversim.StatusOK:
			a.OK++
			switch {
			case !accepted:
				bad(id, "lost silently: the proxy answered OK but the provider never accepted the push (did the proxy send it?)")
			case delivered == 0 && !stored:
				bad(id, "lost silently: the proxy answered OK, the provider accepted, and the device never got it")
			}
		case serversim.StatusFail:
			a.Fail++
		case serversim.StatusRemove:
			a.Remove++
		default:
			bad(id, "unaccounted: the proxy answered %q (%s), not OK, FAIL or REMOVE", ans.Status, ans.Detail)
			continue
		}
		if delivered > 0 {
			a.Delivered++
		} else if stored && ans.Status == serversim.StatusOK {
			a.Stored++
		}
		if ans.Status != serversim.StatusOK && delivered > 0 && !injected[id] {
			bad(id, "reported %s but delivered %d time(s): the server will think it failed", ans.Status, delivered)
		}
		if delivered > 1 && !injected[id] {
			bad(id, "delivered %d times: a duplicate reached the device", delivered)
		}
		if accepts := count(tr, events.ProviderAccepted); accepts > 1 {
			bad(id, "the provider accepted it %d times: the proxy resent a push the provider had already taken", accepts)
		}
		// Acks: what a device acked must reach the proxy.
		for _, e := range tr {
			if e.Hop == events.DeviceAcked && e.Attrs["proxy_status"] != serversim.StatusOK && !injected[id] && !acksMayFail {
				bad(id, "ack dropped: the device acked and the proxy answered %q (%s)", e.Attrs["proxy_status"], e.Detail)
			}
		}
		// A proxy that reports its hops must report the acks it got.
		if count(tr, events.ProxyReceived) > 0 && count(tr, events.DeviceAcked) > count(tr, events.ProxyAcked) && !injected[id] && !acksMayFail {
			bad(id, "ack lost: the device acked %d time(s), the proxy recorded %d", count(tr, events.DeviceAcked), count(tr, events.ProxyAcked))
		}
	}
	if got := a.Delivered + a.Stored + a.Fail + a.Remove; got != a.Sent && len(a.Violations) == 0 {
		bad("", "sent %d ≠ delivered %d + held %d + reported failures %d", a.Sent, a.Delivered, a.Stored, a.Fail+a.Remove)
	}
	return a
}

// Timeline formats one notification's events, one line each, times
// relative to the first: what a CI log shows for a failing notification.
func Timeline(trace []events.Event) string {
	if len(trace) == 0 {
		return "  (no events)\n"
	}
	var b strings.Builder
	t0 := trace[0].At
	for _, e := range trace {
		fmt.Fprintf(&b, "  %+8.1fms %-24s %-22s %-12s %s\n", float64(e.At.Sub(t0))/float64(time.Millisecond), e.Hop, e.Actor, e.Status, e.Detail)
	}
	return b.String()
}
