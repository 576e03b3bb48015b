package devicesim

import (
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/pushtest"
)

// render lays the push out as the OS would.
func (d *Device) render(in inbound, now time.Time) Notification {
	n := Notification{AckID: in.AckID, Type: typeOr(in.Type), Title: in.Title, Subtitle: in.Subtitle, Body: in.Body,
		Badge: in.Badge, Sound: in.Sound, ThreadID: in.Thread, Category: in.Category, ChannelID: in.ChannelID,
		PostID: in.PostID, RootID: in.RootID, At: now}
	if d.App.Platform == Android && !in.SystemNotification {
		// A data message: the app lays it out (Mattermost: channel as
		// title, message as body).
		n.Title, n.Body = in.ChannelName, in.Message
		if n.ThreadID == "" {
			n.ThreadID = firstOf(in.RootID, in.ChannelID)
		}
	}
	if n.Type == PushTest && n.Body == "" {
		n.Body = TestMessage // the proxy carries no text for a test push; the app knows what it means
	}
	if in.SenderName != "" && n.Subtitle == "" {
		n.Subtitle = in.SenderName
	}
	if n.Title == "" && n.Subtitle != "" {
		n.Title, n.Subtitle = n.Subtitle, ""
	}
	return n
}

// applyContents puts the opened contents in place of the placeholders.
func applyContents(n *Notification, c pushcrypto.Contents) {
	if c.Message != "" {
		n.Body = c.Message
	}
	switch {
	case c.ChannelName != "":
		n.Title, n.Subtitle = c.ChannelName, c.SenderName
	case c.SenderName != "":
		n.Title, n.Subtitle = c.SenderName, ""
	}
	if c.PostID != "" {
		n.PostID = c.PostID
	}
	if c.RootID != "" {
		n.RootID = c.RootID
	}
}

// fallback is what a failed push leaves on screen: on iOS the service
// extension replaces it with the generic alert (else iOS would show the
// payload as it arrived); an Android app shows nothing.
func (d *Device) fallback(a *arrival) *Notification {
	in := &a.in
	if d.App.Platform != IOS || !in.HasAlert {
		return nil
	}
	n := Notification{AckID: in.AckID, Type: typeOr(in.Type), Body: GenericMessage, Badge: in.Badge, Sound: in.Sound,
		At: a.now, Fallback: true, CollapseID: a.collapse}
	return d.show(a.trace, n, "fallback", "verification failed: the generic alert is shown instead", a.plain)
}

// centerEntry is a notification the OS holds, by its collapse id.
type centerEntry struct {
	collapse, channel, ack string
	// sum is collapse's hash: a push looks its collapse id up among up to
	// seenMax entries, and comparing ids of one length byte by byte was
	// 2-3 % of a phone's CPU.
	sum uint64
}

// idSeed hashes the ids a device looks up among many it keeps: collapse
// ids (centerEntry.sum) and ack ids (seenID.sum).
var idSeed = maphash.MakeSeed()

// held is the ack id of the oldest notification the centre holds with
// collapse id c; d.mu is held.
func (h *history) held(c string) (ack string, ok bool) {
	sum := maphash.String(idSeed, c)
	for i := range h.center {
		if e := &h.center[i]; e.sum == sum && e.collapse == c {
			return e.ack, true
		}
	}
	return "", false
}

// collapseOf is the id by which the OS would replace a shown notification
// with this push: APNs' apns-collapse-id for an iOS alert, the tag of an
// Android notification block. A data message has none: the app decides.
func collapseOf(p Platform, del pushtest.Delivery, in inbound) string {
	switch {
	case p == IOS && in.HasAlert:
		return del.CollapseKey
	case p == Android && in.SystemNotification:
		return in.Tag
	}
	return ""
}

// replace puts a push in place of the shown notification with its collapse
// id, if there is one: the card is updated, not shown a second time.
// The notification centre keeps far more than the Keep cards a device
// reports; a push replaces one there too, by its collapse id.
func (d *Device) replace(trace, collapse string, plain bool) bool {
	d.mu.Lock()
	var shown string
	h := d.past()
	if i := slices.IndexFunc(h.shown, func(n Notification) bool { return n.CollapseID == collapse }); i >= 0 {
		n := &h.shown[i]
		n.Replaced++
		n.At = d.deps.now().Add(d.skew)
		shown = n.AckID
	} else if ack, ok := h.held(collapse); ok {
		shown = ack
	} else {
		d.mu.Unlock()
		return false
	}
	d.stats.replaced++
	d.mu.Unlock()
	d.emit(trace, events.DeviceReplaced, "replaced", fmt.Sprintf("replaced the notification %s shown with collapse id %q, not shown twice", shown, collapse),
		plain, map[string]string{"collapse_id": collapse, "replaced": shown})
	return true
}

func (d *Device) show(trace string, n Notification, status, note string, plain bool) *Notification {
	n.Plaintext = plain
	d.mu.Lock()
	h := d.remember()
	if len(h.shown) >= d.deps.keep {
		h.shown = append(h.shown[:0], h.shown[1:]...)
	}
	h.shown = append(h.shown, n)
	if n.CollapseID != "" {
		if len(h.center) >= seenMax {
			h.center = h.center[1:]
		}
		h.center = append(h.center, centerEntry{collapse: n.CollapseID, channel: n.ChannelID, ack: n.AckID,
			sum: maphash.String(idSeed, n.CollapseID)})
	}
	if n.Badge >= 0 {
		d.badge = n.Badge
	}
	d.stats.displayed++
	d.mu.Unlock()
	detail := fmt.Sprintf("%q — %q", n.Title, n.Body)
	if n.Subtitle != "" {
		detail = fmt.Sprintf("%q / %q — %q", n.Title, n.Subtitle, n.Body)
	}
	if n.Badge >= 0 {
		detail += fmt.Sprintf(" [badge %d]", n.Badge)
	}
	if note != "" {
		detail += ": " + note
	}
	d.emit(trace, events.DeviceDisplayed, status, detail, plain, nil)
	return &n
}

func (d *Device) clear(channel string, badge int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if badge >= 0 {
		d.badge = badge
	}
	if d.hist == nil {
		return 0
	}
	h := d.hist
	kept := h.shown[:0]
	for _, n := range h.shown {
		if channel == "" || n.ChannelID != channel {
			kept = append(kept, n)
		}
	}
	cleared := len(h.shown) - len(kept)
	h.shown = kept
	h.center = slices.DeleteFunc(h.center, func(e centerEntry) bool { return channel == "" || e.channel == channel })
	return cleared
}

func providerName(a App) string {
	if a.Platform == IOS {
		return "APNs"
	}
	return "FCM"
}

func typeOr(t string) string {
	if t == "" {
		return PushMessage
	}
	return t
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
