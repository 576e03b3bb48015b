package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PushNotification is the body of POST /api/v1/send_push: the Mattermost
// server's model.PushNotification, with its JSON names.
type PushNotification struct {
	AckID            string `json:"ack_id"`
	Platform         string `json:"platform"` // app type, optionally "-vN" (app version N)
	ServerID         string `json:"server_id"`
	DeviceID         string `json:"device_id"` // the APNs or FCM token
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
	Type             string `json:"type,omitempty"` // message, clear, update_badge, session, test
	SenderID         string `json:"sender_id,omitempty"`
	SenderName       string `json:"sender_name,omitempty"`
	OverrideUsername string `json:"override_username,omitempty"`
	OverrideIconURL  string `json:"override_icon_url,omitempty"`
	FromWebhook      string `json:"from_webhook,omitempty"`
	Version          string `json:"version,omitempty"` // "v2"
	IsCRTEnabled     bool   `json:"is_crt_enabled"`
	IsIDLoaded       bool   `json:"is_id_loaded"`
	Signature        string `json:"signature"`
	SubType          string `json:"sub_type,omitempty"`
	Transport        string `json:"transport,omitempty"` // "voip" for a PushKit call push
}

// Ack is the body of POST /api/v1/ack: the server relays the device's receipt.
type Ack struct {
	ID         string `json:"id"` // the ack_id
	ReceivedAt int64  `json:"received_at"`
	Platform   string `json:"platform"`
	Type       string `json:"type"`
	PostID     string `json:"post_id,omitempty"`
	IsIDLoaded bool   `json:"is_id_loaded"`
}

// Push types and other values of PushNotification fields.
const (
	TypeMessage     = "message"
	TypeClear       = "clear"
	TypeUpdateBadge = "update_badge"
	TypeSession     = "session"
	TypeTest        = "test"

	MessageV2     = "v2"
	TransportVoIP = "voip"

	// NoSignature is what the payload carries when the server did not sign.
	NoSignature = "NO_SIGNATURE"
	// idLoadedSenderName replaces the sender's name in an id-loaded Android push.
	idLoadedSenderName = "Someone"
)

// Upstream's limits: a message longer than MaxMessage bytes is cut to
// messageCut bytes (sic: upstream's off-by-one, kept), a channel name to
// maxChannelName bytes.
const (
	// MaxMessage is the longest message a Mattermost push proxy carries
	// intact; a server that puts sealed contents in message must stay within it.
	MaxMessage     = 2047
	messageCut     = 2046
	maxChannelName = 64
)

// Validation failures. Their texts are upstream's answers, word for word;
// test them with errors.Is.
var (
	ErrBadBody         = errors.New("Failed to read message body")
	ErrBadAckBody      = errors.New("Failed to read ack body")
	ErrMissingServerID = errors.New("Failed because of missing server Id")
	ErrMissingDeviceID = errors.New("Failed because of missing device Id")
	ErrUnknownPlatform = errors.New("Did not send message because of missing platform property")
	ErrMissingAckID    = errors.New("Failed because of missing ack Id")
	ErrMissingAckPlat  = errors.New("Failed because of missing ack platform")
	ErrMissingAckType  = errors.New("Failed because of missing ack type")
)

// ParseSendPush decodes a send_push body as upstream does (the first JSON
// value; whatever follows it is ignored) and validates it: server_id and
// device_id are required. It truncates message and channel_name and splits
// the "-vN" app-version suffix off the platform, returning the version (1
// when absent or unreadable, as upstream). Errors wrap the Err… values.
func ParseSendPush(r io.Reader) (PushNotification, int, error) {
	var n PushNotification
	if err := json.NewDecoder(r).Decode(&n); err != nil {
		return n, 0, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	v, err := n.Normalize()
	return n, v, err
}

// Normalize validates n and applies upstream's truncations and platform
// parsing in place; it returns the app version. See ParseSendPush.
func (n *PushNotification) Normalize() (appVersion int, err error) {
	if n.ServerID == "" {
		return 0, ErrMissingServerID
	}
	if n.DeviceID == "" {
		return 0, fmt.Errorf("%w serverId=%v", ErrMissingDeviceID, n.ServerID)
	}
	if len(n.Message) > MaxMessage {
		n.Message = n.Message[:messageCut]
	}
	if len(n.ChannelName) > maxChannelName {
		n.ChannelName = n.ChannelName[:maxChannelName]
	}
	appVersion = 1
	if i := strings.Index(n.Platform, "-v"); i > -1 {
		if v, err := strconv.Atoi(n.Platform[i+2:]); err == nil {
			appVersion = v
		}
		n.Platform = n.Platform[:i]
	}
	return appVersion, nil
}

// ParseAck decodes and validates an ack body: id, platform and type are
// required, as upstream.
func ParseAck(r io.Reader) (Ack, error) {
	var a Ack
	if err := json.NewDecoder(r).Decode(&a); err != nil {
		return a, fmt.Errorf("%w: %v", ErrBadAckBody, err)
	}
	switch {
	case a.ID == "":
		return a, ErrMissingAckID
	case a.Platform == "":
		return a, ErrMissingAckPlat
	case a.Type == "":
		return a, ErrMissingAckType
	}
	return a, nil
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

// Responses, as upstream builds them.
func okResponse() Response                 { return Response{Status: StatusOK} }
func removeResponse() Response             { return Response{Status: StatusRemove} }
func failResponse(msg string) Response     { return Response{Status: StatusFail, Error: msg} }
func (r Response) String() string          { b, _ := json.Marshal(r); return string(b) }
func (r Response) isOK() bool              { return r.Status == StatusOK }
func (r Response) write(w io.Writer) error { return json.NewEncoder(w).Encode(r) }
