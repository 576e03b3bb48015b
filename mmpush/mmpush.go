package mmpush

import (
	"encoding/json"
	"strings"
)

// Paths of a push proxy's API, and of the server's endpoint that devices ack to.
const (
	PathSendPush  = "/api/v1/send_push"
	PathAck       = "/api/v1/ack"
	PathVersion   = "/version"
	PathServerAck = "/api/v4/notifications/ack" // on the Mattermost server, not the proxy
)

// PushNotification is the body of POST /api/v1/send_push: the Mattermost
// server's model.PushNotification, with its JSON names.
type PushNotification struct {
	AckID            string `json:"ack_id"`
	Platform         string `json:"platform"` // Platform… value, optionally "-vN" (app version N)
	ServerID         string `json:"server_id"`
	DeviceID         string `json:"device_id"` // the APNs or FCM token, without the "platform:" prefix
	PostID           string `json:"post_id"`
	Category         string `json:"category,omitempty"`
	Sound            string `json:"sound,omitempty"`
	Message          string `json:"message,omitempty"`
	Badge            int    `json:"badge,omitempty"` // -1 leaves the badge alone
	ContentAvailable int    `json:"cont_ava,omitempty"`
	TeamID           string `json:"team_id,omitempty"`
	ChannelID        string `json:"channel_id,omitempty"`
	RootID           string `json:"root_id,omitempty"`
	ChannelName      string `json:"channel_name,omitempty"`
	Type             string `json:"type,omitempty"`     // Type… value
	SubType          string `json:"sub_type,omitempty"` // SubTypeCalls or ""
	SenderID         string `json:"sender_id,omitempty"`
	SenderName       string `json:"sender_name,omitempty"`
	OverrideUsername string `json:"override_username,omitempty"`
	OverrideIconURL  string `json:"override_icon_url,omitempty"`
	FromWebhook      string `json:"from_webhook,omitempty"`
	Version          string `json:"version,omitempty"` // MessageV2
	IsCRTEnabled     bool   `json:"is_crt_enabled"`
	IsIDLoaded       bool   `json:"is_id_loaded"`
	Signature        string `json:"signature"`           // ES256 JWT by the server's signing key; "" from old servers
	Transport        string `json:"transport,omitempty"` // TransportStandard or TransportVoIP
}

// Ack is the body of POST /api/v1/ack (and of the server's
// /api/v4/notifications/ack, which the server forwards): a device's receipt.
type Ack struct {
	ID         string `json:"id"`          // the push's ack_id
	ReceivedAt int64  `json:"received_at"` // ms since the epoch, the device's clock
	Platform   string `json:"platform"`
	Type       string `json:"type"`
	PostID     string `json:"post_id,omitempty"`
	IsIDLoaded bool   `json:"is_id_loaded"`
}

// Push types (PushNotification.Type, Ack.Type).
const (
	TypeMessage     = "message"
	TypeClear       = "clear"
	TypeUpdateBadge = "update_badge"
	TypeSession     = "session"
	TypeTest        = "test"
)

// Sub types (PushNotification.SubType).
const (
	// SubTypeCalls marks a Calls-plugin notification (a ringing call).
	SubTypeCalls = "calls"
)

// Transports (PushNotification.Transport).
const (
	// TransportStandard: an alert or background push.
	TransportStandard = ""
	// TransportVoIP: a PushKit push (APNs push type voip, topic <bundle id>.voip).
	TransportVoIP = "voip"
)

// Platforms: the app types a Mattermost server names in
// PushNotification.Platform and that a proxy configures (its "Type").
const (
	PlatformApple           = "apple"
	PlatformAndroid         = "android"
	PlatformAppleRN         = "apple_rn"
	PlatformAndroidRN       = "android_rn"
	PlatformAppleVoIPRN     = "apple_voip_rn" // the VoIP token of an apple_rn app
	PlatformVersionSuffix   = "-v"            // "apple_rn-v2": app version 2
	DevicePlatformSeparator = ":"             // a session's device id is "platform:token"
)

// Other field values.
const (
	// MessageV2 is PushNotification.Version of current servers.
	MessageV2 = "v2"
	// NoSignature is the payload's signature when the server sent none.
	NoSignature = "NO_SIGNATURE"
	// SoundNone asks for a silent notification.
	SoundNone = "none"
	// CategoryCanReply lets the app offer an inline reply.
	CategoryCanReply = "CAN_REPLY"
)

// MaxMessage is the longest message a Mattermost push proxy carries intact:
// upstream cuts a longer one (to 2046 bytes). A server that puts sealed
// contents in message must stay within it.
const MaxMessage = 2047

// SplitDeviceID splits a session's device id ("apple_rn:token") into the
// platform and the token, as model.PushNotification.SetDeviceIdAndPlatform.
// An id without a separator is all token.
func SplitDeviceID(deviceID string) (platform, token string) {
	if p, t, ok := strings.Cut(deviceID, DevicePlatformSeparator); ok {
		return p, t
	}
	return "", deviceID
}

// Response statuses, as the Mattermost server reads them.
const (
	StatusOK     = "OK"
	StatusRemove = "REMOVE" // the token is dead: the server drops the session's device
	StatusFail   = "FAIL"
)

// Response is the body of every send_push and ack answer. Upstream encodes a
// map, so "error" comes before "status"; the field order keeps that.
type Response struct {
	Error  string `json:"error,omitempty"`
	Status string `json:"status"`
}

// OK, Remove and Fail build the three answers.
func OK() Response                 { return Response{Status: StatusOK} }
func Remove() Response             { return Response{Status: StatusRemove} }
func Fail(message string) Response { return Response{Status: StatusFail, Error: message} }

// String is the JSON form (without the newline a proxy writes after it).
func (r Response) String() string { b, _ := json.Marshal(r); return string(b) }
