package devicesim

import "github.com/pushlab/pushlab/liveactivity"

// A device's state is laid out for fleets of a million: what only some
// devices need (Live Activities, the history of pushes) hangs off a pointer
// that stays nil until needed, the private key is kept compact
// (contentSecret), and what every device of a fleet shares is in deps.

// liveActivities is what an app with Live Activities holds.
type liveActivities struct {
	ptsToken string              // push-to-start token
	store    *liveactivity.Store // the activities, by the device clock
}

// token is the push-to-start token ("" without Live Activities).
func (l *liveActivities) token() string {
	if l == nil {
		return ""
	}
	return l.ptsToken
}

// activities is the store (nil without Live Activities).
func (l *liveActivities) activities() *liveactivity.Store {
	if l == nil {
		return nil
	}
	return l.store
}

// counters are a device's Stats as it keeps them: 32 bits each, so that
// the Device struct of a million-device fleet stays in a smaller size class.
type counters struct{ delivered, displayed, acked, rejected, replaced int32 }

func (c counters) public() Stats {
	return Stats{Delivered: int(c.delivered), Displayed: int(c.displayed), Acked: int(c.acked), Rejected: int(c.rejected), Replaced: int(c.replaced)}
}

// history is what a device remembers of the pushes it handled.
type history struct {
	seen     []seenID // recent ack ids, a ring that grows to seenMax: replays and resends of a push
	seenNext int
	shown    []Notification // the last Keep, oldest first
	center   []centerEntry  // what the OS still holds with a collapse id, up to seenMax, oldest first
}

// noHistory is what a device that never had a push reads; never written.
var noHistory history

// past is the history to read; d.mu is held.
func (d *Device) past() *history {
	if d.hist == nil {
		return &noHistory
	}
	return d.hist
}

// remember is the history to write, allocated with the first push; d.mu is held.
func (d *Device) remember() *history {
	if d.hist == nil {
		d.hist = &history{}
	}
	return d.hist
}

// provider is the push service of the device's app.
func (d *Device) provider() Provider {
	if d.App.Platform == IOS {
		return d.deps.apns
	}
	return d.deps.fcm
}
