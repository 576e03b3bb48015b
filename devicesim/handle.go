package devicesim

import (
	"context"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/pushtest"
)

// arrival is one push on its way through the app: what arrived, and the
// device as it stood when it did.
type arrival struct {
	del      pushtest.Delivery
	in       inbound
	parseErr error
	trace    string // the ack_id: the push's trace on the event spine
	now      time.Time
	// plain: the contents travelled in clear.
	plain bool
	// collapse is the id by which the OS replaces a shown notification.
	collapse string

	token     string
	key       *contentSecret
	session   SessionResponse
	installed bool
}

// refusal is a step's verdict against a push: the event it goes out as,
// its reason and cause, and the event's detail ("": the cause's text).
type refusal struct {
	hop    events.Hop
	reason Reason
	err    error
	detail string
}

func rejected(r Reason, detail string) *refusal {
	return &refusal{hop: events.DeviceRejected, reason: r, detail: detail}
}

// receive parses the push, snapshots the device and says it arrived.
func (d *Device) receive(del pushtest.Delivery) *arrival {
	a := &arrival{del: del}
	if d.App.Platform == IOS {
		a.in, a.parseErr = parseAPNs(del.Payload)
	} else {
		a.in, a.parseErr = parseFCM(del.Payload)
	}
	a.trace = a.in.AckID
	d.mu.Lock()
	d.stats.delivered++
	a.now = d.deps.now().Add(d.skew)
	a.token, a.key, a.session, a.installed = d.token, d.key, d.session, d.installed
	d.mu.Unlock()
	in := &a.in
	in.VoIP = del.Headers["apns-push-type"] == "voip"
	a.plain = typeOr(in.Type) == PushMessage && in.Encrypted == "" && !in.IDLoaded
	if in.VoIP { // no message in a call push; names, if any, travel in clear
		a.plain = in.SenderName != "" || in.ChannelName != ""
	}
	a.collapse = collapseOf(d.App.Platform, del, a.in)
	how := "online"
	if del.Stored {
		how = "after being stored while offline"
	}
	d.emit(a.trace, events.DeviceDelivered, del.Provider, fmt.Sprintf("%s push via %s, %s", typeOr(in.Type), del.Provider, how), a.plain,
		map[string]string{"provider": del.Provider, "id": del.ID, "app": del.App})
	return a
}

// accept is what happens before the app is involved: the payload parses,
// the app is installed, and the push is for its identity.
func (d *Device) accept(a *arrival) *refusal {
	switch {
	case a.parseErr != nil:
		return &refusal{hop: events.DeviceRejected, reason: ReasonMalformedPayload, err: a.parseErr}
	case !a.installed:
		return rejected(ReasonNotInstalled, "the app is not installed")
	case a.del.App != d.App.ID():
		return rejected(ReasonWrongApp, fmt.Sprintf("push for %q reached the app %q", a.del.App, d.App.ID()))
	}
	return nil
}

// shownByOS: iOS shows an alert by itself unless the service extension may
// run (mutable-content and some alert text); Android shows a notification
// block by itself when the app is in the background. The app does not run,
// so nothing after it (server, replay, signature) is checked.
func (d *Device) shownByOS(a *arrival) bool {
	in := &a.in
	return (d.App.Platform == IOS && in.HasAlert && !in.MutableContent) || (d.App.Platform == Android && in.SystemNotification)
}

// route checks the push comes from the server the app is logged into.
func (d *Device) route(a *arrival) *refusal {
	serverID := d.deps.serverID
	if serverID == "" {
		serverID = a.session.ServerID
	}
	if a.session.SessionID == "" {
		return rejected(ReasonNoSession, "the app is logged into no server")
	}
	if a.in.ServerID != serverID {
		return rejected(ReasonWrongServer, fmt.Sprintf("server_id %q, the app is logged into %q", a.in.ServerID, serverID))
	}
	return nil
}

// decrypt opens the sealed contents into n.
func (d *Device) decrypt(a *arrival, n *Notification) *refusal {
	if a.key == nil {
		err := fmt.Errorf("%w: the device holds no key", pushcrypto.ErrWrongKey)
		return &refusal{hop: events.DeviceDecryptFailed, reason: decryptReason(err), err: err}
	}
	key, err := a.key.deviceKey()
	if err != nil {
		return &refusal{hop: events.DeviceDecryptFailed, reason: decryptReason(err), err: err}
	}
	c, err := pushcrypto.OpenContents(key, a.in.Encrypted)
	if err != nil {
		return &refusal{hop: events.DeviceDecryptFailed, reason: decryptReason(err), err: err}
	}
	d.emit(a.trace, events.DeviceDecrypted, "OK", "contents opened with key "+key.ID, false, nil)
	applyContents(n, c)
	if n.Body == "" {
		n.Body = GenericMessage // generic contents: names only
	}
	n.Decrypted = true
	return nil
}

// fetch is an id-loaded push: the ack brings the message, which is shown.
func (d *Device) fetch(ctx context.Context, a *arrival, n Notification) *Notification {
	ans, ok := d.ack(ctx, a)
	if !ok {
		return nil
	}
	applyContents(&n, pushcrypto.Contents{Message: ans.Message, ChannelName: ans.ChannelName, SenderName: ans.SenderName})
	n.ChannelID, n.RootID, n.Fetched = firstOf(ans.ChannelID, n.ChannelID), ans.RootID, true
	return d.show(a.trace, n, "shown", "id-loaded message fetched from the server", false)
}

// clearShown is a clear push: the channel's notifications (or all) go, the
// badge is set.
func (d *Device) clearShown(ctx context.Context, a *arrival) {
	cleared := d.clear(a.in.ChannelID, a.in.Badge)
	where := "of every channel"
	if a.in.ChannelID != "" {
		where = "of channel " + a.in.ChannelID
	}
	d.emit(a.trace, events.DeviceDisplayed, "cleared", fmt.Sprintf("cleared %d notification(s) %s, badge %d", cleared, where, a.in.Badge), false, nil)
	d.ack(ctx, a)
}

// setBadge is an update_badge push.
func (d *Device) setBadge(ctx context.Context, a *arrival) {
	d.mu.Lock()
	d.badge = a.in.Badge
	d.mu.Unlock()
	d.emit(a.trace, events.DeviceDisplayed, "badge", fmt.Sprintf("badge set to %d", a.in.Badge), false, nil)
	d.ack(ctx, a)
}

// refuse counts and publishes a refusal and returns it as the caller's error.
func (d *Device) refuse(a *arrival, r *refusal) error {
	d.mu.Lock()
	d.stats.rejected++
	d.mu.Unlock()
	detail := r.detail
	if detail == "" && r.err != nil {
		detail = r.err.Error()
	}
	d.emit(a.trace, r.hop, string(r.reason), detail, a.plain, nil)
	return &RejectError{Device: d.Name, AckID: a.trace, Reason: r.reason, Err: r.err}
}

// ack tells the server the push arrived; the server forwards it to the proxy.
func (d *Device) ack(ctx context.Context, a *arrival) (AckResponse, bool) {
	in := &a.in
	// The app reports its OS, as Mattermost's does (Platform.OS).
	ack := Ack{ID: in.AckID, ReceivedAt: a.now.UnixMilli(), Platform: string(d.App.Platform), Type: typeOr(in.Type),
		PostID: in.PostID, IsIDLoaded: in.IDLoaded}
	ans, err := d.deps.server.Ack(ctx, a.session.Token, ack)
	if err != nil {
		d.emit(a.trace, events.DeviceAcked, "FAIL", "ack failed: "+err.Error(), a.plain, nil)
		return ans, false
	}
	d.mu.Lock()
	d.stats.acked++
	d.mu.Unlock()
	detail := "server " + ans.Status + ", proxy " + ans.ProxyStatus
	if ans.ProxyError != "" {
		detail += " (" + ans.ProxyError + ")"
	}
	d.emit(a.trace, events.DeviceAcked, ans.Status, detail, a.plain, map[string]string{"proxy_status": ans.ProxyStatus})
	return ans, true
}

// once lets an ack_id through one time: a resend or a replay is refused.
func (d *Device) once(a *arrival) *refusal {
	if !d.claim(a.trace) {
		return rejected(ReasonDuplicate, "ack_id already handled: a resend or a replay")
	}
	return nil
}

// claim records ackID as handled; false if it already was. Check and
// record are one step, so that two copies arriving together (a resend
// racing its original) are one.
func (d *Device) claim(ackID string) bool {
	if ackID == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.remember()
	e := seenID{id: ackID, sum: maphash.String(idSeed, ackID)}
	for i := range h.seen {
		if s := &h.seen[i]; s.sum == e.sum && s.id == ackID {
			return false
		}
	}
	if len(h.seen) < seenMax {
		h.seen = append(h.seen, e)
		return true
	}
	h.seen[h.seenNext] = e
	h.seenNext = (h.seenNext + 1) % seenMax
	return true
}

// seenID is an ack id a device handled, with its hash: claim scans up to
// seenMax of them a push, and comparing the ids themselves (of one length,
// each in its own place in memory) was 2-3 % of a phone's CPU.
type seenID struct {
	id  string
	sum uint64
}

func (d *Device) emit(trace string, hop events.Hop, status, detail string, plain bool, attrs map[string]string) {
	bus := d.deps.bus
	if bus == nil {
		return
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["platform"] = string(d.App.Platform)
	if tok := d.Token(); tok != "" {
		attrs["token"] = events.RedactToken(tok)
	}
	if plain {
		detail = "PLAINTEXT: " + detail
	}
	bus.Publish(events.Event{TraceID: trace, Hop: hop, Actor: "device:" + d.Name, Status: status, Detail: detail, Plaintext: plain, Attrs: attrs})
}
