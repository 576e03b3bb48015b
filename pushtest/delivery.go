package pushtest

import (
	"encoding/json"
	"time"
)

// Delivery is one notification a mock handed to a device.
type Delivery struct {
	Provider string `json:"provider"` // "apns" or "fcm"
	Token    string `json:"token"`    // the device token
	ID       string `json:"id"`       // apns-id, or the FCM message id
	App      string `json:"app"`      // APNs topic (bundle id) or Android package
	// Payload is what the device's OS receives: the APNs JSON payload, or the
	// FCM message object (data, notification, android…) without its target.
	Payload     json.RawMessage `json:"payload"`
	CollapseKey string          `json:"collapse_key,omitempty"`
	Expiry      time.Time       `json:"expiry,omitzero"`        // zero: kept as long as the provider keeps anything
	NowOrNever  bool            `json:"now_or_never,omitempty"` // expiration 0 (APNs) or ttl 0 (FCM)
	AcceptedAt  time.Time       `json:"accepted_at"`
	Stored      bool            `json:"stored,omitempty"` // it waited for the device to come online
	// Headers are the provider headers the device may see (apns-push-type,
	// priority…).
	Headers map[string]string `json:"headers,omitempty"`
}

// Receiver is a device's end of a mock's push channel. Deliver is called
// without the mock's locks held and must return quickly: a device does its
// work (verify, decrypt, display, ack) off the caller's goroutine.
type Receiver interface {
	Deliver(Delivery)
}

// ReceiverFunc adapts a function to Receiver.
type ReceiverFunc func(Delivery)

// Deliver calls f(d).
func (f ReceiverFunc) Deliver(d Delivery) { f(d) }
