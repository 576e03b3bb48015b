package devicesim

import (
	"time"

	"github.com/pushlab/pushlab/mmpush"
)

// PayloadKeyEncrypted names the sealed contents in the APNs payload (a
// top-level custom key) and in the FCM data map.
const PayloadKeyEncrypted = "encrypted"

// Notification types (PushNotification.Type).
const (
	PushMessage     = mmpush.TypeMessage
	PushClear       = mmpush.TypeClear
	PushUpdateBadge = mmpush.TypeUpdateBadge
	PushSession     = mmpush.TypeSession
	PushTest        = mmpush.TypeTest
)

// Texts a device shows when it may not, or cannot, show the contents.
const (
	// GenericMessage is the body of a generic notification, and what an iOS
	// device shows when verification or decryption fails (iOS would otherwise
	// show the payload as it arrived).
	GenericMessage = "Someone sent you a message"
	// IDLoadedMessage is the placeholder of an id-loaded notification, until
	// the device has fetched the message with its ack.
	IDLoadedMessage = "You've received a new message."
	// TestMessage is the body of a test notification.
	TestMessage = "This is a test push notification"
)

// Notification is what a device showed (or did) for one push.
type Notification struct {
	AckID     string    `json:"ack_id"`
	Type      string    `json:"type"`
	Title     string    `json:"title,omitempty"`
	Subtitle  string    `json:"subtitle,omitempty"`
	Body      string    `json:"body,omitempty"`
	Badge     int       `json:"badge"` // -1: unchanged
	Sound     string    `json:"sound,omitempty"`
	ThreadID  string    `json:"thread_id,omitempty"`
	Category  string    `json:"category,omitempty"`
	ChannelID string    `json:"channel_id,omitempty"`
	PostID    string    `json:"post_id,omitempty"`
	RootID    string    `json:"root_id,omitempty"`
	At        time.Time `json:"at"`
	// Verified: the signature checked out. An iOS push shown without the
	// service extension, or a fallback after a failure, is not verified.
	Verified bool `json:"verified"`
	// Decrypted: the shown text came out of the sealed contents.
	Decrypted bool `json:"decrypted"`
	// Plaintext: the contents travelled in clear (tpns).
	Plaintext bool `json:"plaintext,omitempty"`
	// Fallback: the generic alert shown instead of a push that failed
	// verification or decryption.
	Fallback bool `json:"fallback,omitempty"`
	// Fetched: an id-loaded message fetched with the ack.
	Fetched bool `json:"fetched,omitempty"`
	// CollapseID is the push's apns-collapse-id (iOS) or notification tag
	// (Android): a later push with the same one replaces this notification.
	CollapseID string `json:"collapse_id,omitempty"`
	// Replaced counts the pushes that replaced this one in place.
	Replaced int `json:"replaced,omitempty"`
}

// Ack is the body of the server's POST /api/v4/notifications/ack, and of the
// proxy's /api/v1/ack to which the server forwards it.
type Ack = mmpush.Ack
