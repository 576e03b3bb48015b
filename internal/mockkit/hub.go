package mockkit

import (
	"sync"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// StoragePolicy is how a provider keeps notifications for an offline device.
type StoragePolicy struct {
	// PerDevice is how many notifications are kept per token.
	PerDevice int
	// DiscardAllOnOverflow: past PerDevice everything is discarded (FCM, which
	// then tells the app onDeletedMessages); otherwise the oldest gives way
	// (APNs, where PerDevice is 1: the last one wins).
	DiscardAllOnOverflow bool
	// MaxCollapseKeys bounds distinct collapse keys stored per device (FCM: 4);
	// 0 means no bound.
	MaxCollapseKeys int
}

// The providers' documented storage rules.
var (
	// APNsStorage: one notification per app per device, the last one.
	APNsStorage = StoragePolicy{PerDevice: 1}
	// FCMStorage: up to 100 non-collapsible messages, at most 4 collapse keys.
	FCMStorage = StoragePolicy{PerDevice: 100, DiscardAllOnOverflow: true, MaxCollapseKeys: 4}
)

// Outcome of a Send.
type Outcome string

const (
	Delivered Outcome = "delivered" // handed to the online device
	Stored    Outcome = "stored"    // kept for the offline device
	Dropped   Outcome = "dropped"   // offline and now-or-never: gone
)

// Drop reasons reported to Hub.OnDrop.
const (
	DropCoalesced  = "coalesced"    // a newer notification took its place
	DropExpired    = "expired"      // its expiry passed while the device was offline
	DropNowOrNever = "now_or_never" // expiration 0 / ttl 0 and the device was offline
	DropOverflow   = "overflow"     // FCM: more than PerDevice stored, all discarded
	DropForgotten  = "uninstalled"  // the app was uninstalled
)

// Hub is the push channel of one provider: tokens that are online have a
// Receiver; the others have an outbox kept by the provider's StoragePolicy.
// It holds no goroutine per device, so a process can hold many thousands.
type Hub struct {
	policy StoragePolicy
	now    func() time.Time
	// OnDrop, if set, is told of every notification the hub discards (called
	// without locks held). Mocks publish these as events.
	OnDrop func(d pushtest.Delivery, reason string)
	// OnFlush, if set, is told of every stored notification handed over when
	// its device comes back.
	OnFlush func(d pushtest.Delivery)
	// OnAttach, if set, is told of every token that comes online (FCM
	// restarts its inactivity clock).
	OnAttach func(token string)
	// OnReturn, if set, is told where a returned notification went (see
	// Return; called without locks held).
	OnReturn func(d pushtest.Delivery, o Outcome)

	mu sync.Mutex
	// reg, if set (Track), keeps the online state of the tokens it issued:
	// such a token's receiver is slots[its entry's online slot].
	reg   *Registry
	slots []pushtest.Receiver // slots[0] is never used: slot 0 is offline
	free  []uint32            // slots to use again
	// online holds the receivers of the tokens reg did not issue (every
	// token, without reg).
	online tokenMap[pushtest.Receiver]
	outbox map[string][]pushtest.Delivery
	// counted for the metrics, under mu
	outcomes map[Outcome]uint64 // all but Delivered
	drops    map[string]uint64
	// Delivered, the outcome of most pushes, is counted without hashing its
	// name under the lock every push takes; Stats shows it once counted.
	delivered      uint64
	deliveredShown bool
}

// HubStats is what the hub has done and holds, for the metrics.
type HubStats struct {
	Outcomes map[Outcome]uint64 // Send results since the start
	Drops    map[string]uint64  // discarded notifications by Drop… reason
	Online   int                // tokens with a receiver
	Pending  int                // notifications stored for offline devices
}

// Stats reports the hub's counters and current load.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := HubStats{Outcomes: map[Outcome]uint64{}, Drops: map[string]uint64{}, Online: h.online.len()}
	if h.reg != nil {
		st.Online += len(h.slots) - 1 - len(h.free)
	}
	for k, v := range h.outcomes {
		st.Outcomes[k] = v
	}
	if h.deliveredShown {
		st.Outcomes[Delivered] = h.delivered
	}
	for k, v := range h.drops {
		st.Drops[k] = v
	}
	for _, box := range h.outbox {
		st.Pending += len(box)
	}
	return st
}

// NewHub makes a hub with the given storage policy; now may be nil (time.Now).
func NewHub(policy StoragePolicy, now func() time.Time) *Hub {
	if now == nil {
		now = time.Now
	}
	return &Hub{policy: policy, now: now, online: newTokenMap[pushtest.Receiver](), outbox: map[string][]pushtest.Delivery{},
		outcomes: map[Outcome]uint64{}, drops: map[string]uint64{}}
}

type dropped struct {
	d      pushtest.Delivery
	reason string
}

// Track keeps the online state of the tokens reg issues on their entries
// there instead of in a map of the hub's own: a million online tokens cost
// a slot of two words each rather than a second map entry of a token's
// size. Call it before the first Attach; a registry serves one hub.
func (h *Hub) Track(reg *Registry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reg != nil || h.online.len() > 0 {
		panic("mockkit: Hub.Track after Track or Attach")
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.tracked {
		panic("mockkit: Hub.Track: the registry serves another hub")
	}
	reg.tracked = true
	h.reg, h.slots = reg, make([]pushtest.Receiver, 1)
}

// receiver is token's receiver, if it is online; h.mu is held.
func (h *Hub) receiver(token string) (pushtest.Receiver, bool) {
	if h.reg != nil {
		if slot, issued := h.reg.onlineSlot(token); issued {
			return h.slots[slot], slot != 0
		}
	}
	return h.online.get(token)
}

// setOnline puts token online with r; h.mu is held.
func (h *Hub) setOnline(token string, r pushtest.Receiver) {
	if h.reg != nil {
		if slot, issued := h.reg.onlineIn(token, h.takeSlot); issued {
			h.slots[slot] = r // a token attached again keeps its slot
			return
		}
	}
	h.online.put(token, r)
}

// setOffline takes token offline; h.mu is held.
func (h *Hub) setOffline(token string) {
	if h.reg != nil {
		if old, issued := h.reg.setOffline(token); issued {
			h.freeSlot(old)
			return
		}
	}
	h.online.delete(token)
}

// takeSlot is a free slot; h.mu is held.
func (h *Hub) takeSlot() uint32 {
	if n := len(h.free); n > 0 {
		slot := h.free[n-1]
		h.free = h.free[:n-1]
		return slot
	}
	h.slots = append(h.slots, nil)
	return uint32(len(h.slots) - 1)
}

func (h *Hub) freeSlot(slot uint32) {
	if slot != 0 {
		h.slots[slot] = nil
		h.free = append(h.free, slot)
	}
}

// Send hands d to its device if online, or stores it by the policy.
func (h *Hub) Send(d pushtest.Delivery) Outcome {
	if d.AcceptedAt.IsZero() {
		d.AcceptedAt = h.now()
	}
	h.mu.Lock()
	r, online := h.receiver(d.Token)
	return h.sendLocked(&d, r, online)
}

// Return takes back d, which was handed to a receiver that could not take
// it (its device went offline as it crossed, or its channel broke): it goes
// to the device if it is online again, or is stored by the policy, so a push
// the provider accepted is never lost in the channel. The outcome counters
// move d from Delivered to where it went.
func (h *Hub) Return(d pushtest.Delivery) Outcome {
	h.mu.Lock()
	if h.delivered > 0 {
		h.delivered--
	}
	r, online := h.receiver(d.Token)
	o := h.sendLocked(&d, r, online)
	if h.OnReturn != nil {
		h.OnReturn(d, o)
	}
	return o
}

// sendLocked is Send with h.mu held, and d's receiver looked up (r, if
// online); it unlocks. Send runs at the bottom of a mock's handler, on a
// goroutine net/http starts per request with a small stack, where a frame
// that overflows it copies the whole stack (that cost mockfcm a tenth of
// its CPU per send): so the receiver's look-up, the deepest calls, is made
// from Send's small frame, not from this one, and the offline path, with
// the largest frame, is keepLocked.
func (h *Hub) sendLocked(d *pushtest.Delivery, r pushtest.Receiver, online bool) Outcome {
	if !online {
		return h.keepLocked(d)
	}
	h.delivered++
	h.deliveredShown = true
	h.mu.Unlock()
	r.Deliver(*d)
	return Delivered
}

// keepLocked is sendLocked for an offline device: d is stored by the
// policy, or dropped. h.mu is held; it unlocks.
func (h *Hub) keepLocked(d *pushtest.Delivery) Outcome {
	if d.NowOrNever {
		h.outcomes[Dropped]++
		h.mu.Unlock()
		h.report([]dropped{{*d, DropNowOrNever}})
		return Dropped
	}
	d.Stored = true
	box, gone := h.store(h.outbox[d.Token], *d)
	h.outbox[d.Token] = box
	outcome := Stored
	if len(box) == 0 {
		outcome = Dropped
	}
	h.outcomes[outcome]++
	h.mu.Unlock()
	h.report(gone)
	return outcome
}

// store adds d to box by the policy, returning the new box and what left it.
func (h *Hub) store(box []pushtest.Delivery, d pushtest.Delivery) ([]pushtest.Delivery, []dropped) {
	var gone []dropped
	now := h.now()
	kept := box[:0]
	for _, o := range box {
		switch {
		case !o.Expiry.IsZero() && !now.Before(o.Expiry):
			gone = append(gone, dropped{o, DropExpired})
		case d.CollapseKey != "" && o.CollapseKey == d.CollapseKey:
			gone = append(gone, dropped{o, DropCoalesced})
		default:
			kept = append(kept, o)
		}
	}
	box = append(kept, d)
	if h.policy.MaxCollapseKeys > 0 && d.CollapseKey != "" {
		keys := map[string]bool{}
		for _, o := range box {
			if o.CollapseKey != "" {
				keys[o.CollapseKey] = true
			}
		}
		if len(keys) > h.policy.MaxCollapseKeys { // the oldest collapsible one gives way
			for i, o := range box {
				if o.CollapseKey != "" {
					gone = append(gone, dropped{o, DropCoalesced})
					box = append(box[:i:i], box[i+1:]...)
					break
				}
			}
		}
	}
	if over := len(box) - h.policy.PerDevice; over > 0 {
		if h.policy.DiscardAllOnOverflow {
			for _, o := range box {
				gone = append(gone, dropped{o, DropOverflow})
			}
			return nil, gone
		}
		for _, o := range box[:over] {
			gone = append(gone, dropped{o, DropCoalesced})
		}
		box = append([]pushtest.Delivery(nil), box[over:]...)
	}
	return box, gone
}

func (h *Hub) report(gone []dropped) {
	if len(gone) == 0 {
		return
	}
	h.mu.Lock()
	for _, g := range gone {
		h.drops[g.reason]++
	}
	h.mu.Unlock()
	if h.OnDrop == nil {
		return
	}
	for _, g := range gone {
		h.OnDrop(g.d, g.reason)
	}
}

// Attach puts token online with r and hands over what was stored for it (in
// order, expired ones dropped). It returns how many were handed over.
func (h *Hub) Attach(token string, r pushtest.Receiver) int {
	h.mu.Lock()
	h.setOnline(token, r)
	box := h.outbox[token]
	delete(h.outbox, token)
	h.mu.Unlock()
	if h.OnAttach != nil {
		h.OnAttach(token)
	}
	now := h.now()
	var gone []dropped
	n := 0
	for _, d := range box {
		if !d.Expiry.IsZero() && !now.Before(d.Expiry) {
			gone = append(gone, dropped{d, DropExpired})
			continue
		}
		if h.OnFlush != nil {
			h.OnFlush(d)
		}
		r.Deliver(d)
		n++
	}
	h.report(gone)
	return n
}

// Detach takes token offline; later sends are stored.
func (h *Hub) Detach(token string) {
	h.mu.Lock()
	h.setOffline(token)
	h.mu.Unlock()
}

// DetachReceiver takes offline every token attached with r (a gateway that went away).
func (h *Hub) DetachReceiver(match func(pushtest.Receiver) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t, r := range h.online.all() {
		if match(r) {
			h.online.delete(t)
		}
	}
	if h.reg == nil {
		return
	}
	gone := make([]bool, len(h.slots))
	n := 0
	for slot, r := range h.slots {
		if r != nil && match(r) {
			gone[slot] = true
			n++
		}
	}
	if n == 0 {
		return
	}
	h.reg.clearOnlineSlots(func(slot uint32) bool { return gone[slot] })
	for slot, g := range gone {
		if g {
			h.freeSlot(uint32(slot))
		}
	}
}

// Forget takes token offline and discards what was stored for it (the app was uninstalled).
func (h *Hub) Forget(token string) {
	h.mu.Lock()
	h.setOffline(token)
	box := h.outbox[token]
	delete(h.outbox, token)
	h.mu.Unlock()
	gone := make([]dropped, len(box))
	for i, d := range box {
		gone[i] = dropped{d, DropForgotten}
	}
	h.report(gone)
}

// Online reports whether token has a receiver.
func (h *Hub) Online(token string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.receiver(token)
	return ok
}

// Pending returns a copy of what is stored for token.
func (h *Hub) Pending(token string) []pushtest.Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]pushtest.Delivery(nil), h.outbox[token]...)
}
