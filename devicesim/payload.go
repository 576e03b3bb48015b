package devicesim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pushlab/pushlab/internal/jsonscan"
)

// inbound is a push as the app sees it, whichever provider carried it.
type inbound struct {
	AckID, Type, SubType, ServerID                 string
	ChannelID, PostID, RootID, TeamID              string
	SenderName, ChannelName, Message               string
	Signature, Encrypted                           string
	Title, Subtitle, Body, Sound, Category, Thread string
	Version                                        string
	Badge                                          int // -1: absent
	IDLoaded                                       bool
	// Signed: the payload has a signature key (a legacy proxy sends none).
	Signed bool
	// VoIP: a PushKit push (apns-push-type voip), which the apps accept
	// only with a verified signature.
	VoIP bool

	// iOS: whether the Notification Service Extension runs, and whether the
	// push only wakes the app.
	HasAlert, MutableContent, ContentAvailable bool
	// Android: a notification block, which the system shows by itself when
	// the app is in the background.
	SystemNotification bool
	// Tag is the Android notification block's tag: the system replaces a
	// shown notification with the same tag.
	Tag string
}

// maxPayload bounds what a device parses: providers allow 4 KiB (5 KiB VoIP);
// anything far larger is not a push.
const maxPayload = 64 << 10

var errPayload = errors.New("malformed payload")

// parseAPNs reads an APNs payload: the aps dictionary and Mattermost's
// top-level custom keys.
func parseAPNs(b []byte) (inbound, error) {
	in := inbound{Badge: -1}
	if len(b) > maxPayload {
		return in, fmt.Errorf("%w: %d bytes", errPayload, len(b))
	}
	var topBuf [32]jsonscan.Member
	top, err := membersOf(b, topBuf[:0])
	if err != nil {
		return in, fmt.Errorf("%w: %v", errPayload, err)
	}
	apsRaw, ok := top.get("aps")
	if !ok {
		return in, fmt.Errorf("%w: no aps dictionary", errPayload)
	}
	// apsRaw is a value of a valid document: only an object decodes into
	// a dictionary (null would leave none).
	if apsRaw[0] != '{' {
		return in, fmt.Errorf("%w: aps is not a dictionary", errPayload)
	}
	var apsBuf [16]jsonscan.Member
	aps := members(jsonscan.AppendMembers(apsBuf[:0], apsRaw))
	if raw, ok := aps.get("alert"); ok {
		if s, ok := jsonscan.PlainString(raw); ok {
			in.Body = s
		} else {
			var s string
			if len(raw) > 0 && raw[0] != '{' && json.Unmarshal(raw, &s) == nil {
				in.Body = s
			} else {
				var a struct{ Title, Subtitle, Body string }
				if err := json.Unmarshal(raw, &a); err != nil {
					return in, fmt.Errorf("%w: aps.alert: %v", errPayload, err)
				}
				in.Title, in.Subtitle, in.Body = a.Title, a.Subtitle, a.Body
			}
		}
		in.HasAlert = in.Title != "" || in.Subtitle != "" || in.Body != ""
	}
	if raw, ok := aps.get("badge"); ok {
		// Plain digits (a number of a valid document) are the int that
		// decoding gives; anything else is decoded, and refused as before.
		n, err := strconv.Atoi(string(raw))
		if err != nil {
			if err := json.Unmarshal(raw, &n); err != nil {
				return in, fmt.Errorf("%w: aps.badge: %v", errPayload, err)
			}
		}
		in.Badge = n
	}
	if raw, ok := aps.get("sound"); ok {
		var s string
		if len(raw) > 0 && raw[0] == '{' || json.Unmarshal(raw, &s) != nil { // critical alerts: {"name":…}
			var d struct{ Name string }
			json.Unmarshal(raw, &d)
			s = d.Name
		}
		in.Sound = s
	}
	in.Category = looseString(aps.value("category"))
	in.Thread = looseString(aps.value("thread-id"))
	in.MutableContent = looseString(aps.value("mutable-content")) == "1"
	in.ContentAvailable = looseString(aps.value("content-available")) == "1"
	in.custom(func(k string) string { return looseString(top.value(k)) })
	_, in.Signed = top.get("signature")
	in.Message = looseString(top.value("message"))
	in.ChannelName = looseString(top.value("channel_name"))
	in.takeEnvelope()
	return in, nil
}

// fcmMessage is an FCM message as the app receives it. An alias of an
// unnamed type: decoding errors name its fields as they always have.
type fcmMessage = struct {
	Data         map[string]string `json:"data"`
	Notification *struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"notification"`
	Android *struct {
		Notification *struct {
			Tag string `json:"tag"`
		} `json:"notification"`
	} `json:"android"`
}

// parseFCM reads an FCM message as the app receives it: the data map (every
// value a string) and the optional notification block.
func parseFCM(b []byte) (inbound, error) {
	in := inbound{Badge: -1}
	if len(b) > maxPayload {
		return in, fmt.Errorf("%w: %d bytes", errPayload, len(b))
	}
	var (
		msg     fcmMessage
		dataBuf [32]jsonscan.Member
	)
	data, ok := readFCM(b, &msg, dataBuf[:0])
	if !ok {
		// Whatever the walk does not take as it is, decoding reads (and
		// words its errors) as it always has.
		msg = fcmMessage{}
		if err := json.Unmarshal(b, &msg); err != nil {
			return in, fmt.Errorf("%w: %v", errPayload, err)
		}
		data = data[:0]
		for k, v := range msg.Data {
			data = append(data, jsonscan.Member{Key: []byte(k), Raw: []byte(v)})
		}
	}
	if msg.Notification != nil {
		in.SystemNotification = true
		in.Title, in.Body = msg.Notification.Title, msg.Notification.Body
	}
	if a := msg.Android; a != nil && a.Notification != nil {
		in.SystemNotification = true
		in.Tag = a.Notification.Tag
	}
	d := func(k string) string { return string(data.value(k)) }
	in.custom(d)
	_, in.Signed = data.get("signature")
	if s := d("badge"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return in, fmt.Errorf("%w: data.badge %q", errPayload, s)
		}
		in.Badge = n
	}
	in.Sound, in.Category = d("sound"), d("category")
	in.Message, in.ChannelName = d("message"), d("channel_name")
	in.takeEnvelope()
	return in, nil
}

// readFCM is json.Unmarshal(b, msg) for the messages providers send, with
// the data map as members (each raw a decoded string): false, and msg
// incomplete, for anything else — not JSON, a key that matches a field
// only case-insensitively or more than once, a value of the wrong kind —
// which the caller decodes instead.
func readFCM(b []byte, msg *fcmMessage, data members) (members, bool) {
	if !jsonscan.Valid(b) {
		return data, false
	}
	if b = bytes.TrimLeft(b, " \t\r\n"); b[0] != '{' {
		return data, false
	}
	var topBuf [8]jsonscan.Member
	var seen [3]bool
	for _, m := range jsonscan.AppendMembers(topBuf[:0], b) {
		field := -1
		for i, name := range [...]string{"data", "notification", "android"} {
			if bytes.EqualFold(m.Key, []byte(name)) {
				if string(m.Key) != name || seen[i] {
					return data, false // decoding matches it, or merges a second one
				}
				seen[i], field = true, i
			}
		}
		var err error
		switch field {
		case 0:
			if string(m.Raw) == "null" {
				continue
			}
			if m.Raw[0] != '{' {
				return data, false
			}
			start := len(data)
			data = jsonscan.AppendMembers(data, m.Raw)
			for i := start; i < len(data); i++ {
				raw := data[i].Raw
				switch {
				case raw[0] != '"':
					return data, false // decoding refuses a value that is not a string
				case jsonscan.IsPlainString(raw):
					data[i].Raw = raw[1 : len(raw)-1]
				default:
					var s string
					json.Unmarshal(raw, &s) // a valid string: it decodes
					data[i].Raw = []byte(s)
				}
			}
		case 1:
			err = json.Unmarshal(m.Raw, &msg.Notification)
		case 2:
			err = json.Unmarshal(m.Raw, &msg.Android)
		}
		if err != nil {
			return data, false
		}
	}
	return data, true
}

// custom reads Mattermost's keys, common to the APNs custom keys and the FCM
// data map.
func (in *inbound) custom(get func(string) string) {
	in.AckID = get("ack_id")
	in.Type = get("type")
	in.SubType = get("sub_type")
	in.ServerID = get("server_id")
	in.ChannelID = get("channel_id")
	in.PostID = get("post_id")
	in.RootID = get("root_id")
	in.TeamID = get("team_id")
	in.SenderName = get("sender_name")
	in.Signature = get("signature")
	in.Encrypted = get(PayloadKeyEncrypted)
	in.Version = get("version")
	in.IDLoaded = get("id_loaded") == "true" || get("is_id_loaded") == "true"
}

// looseString reads a JSON scalar as text: strings as themselves, numbers
// and booleans as written; anything else (or nothing) is "".
func looseString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	// raw comes from a document already decoded, so it is valid JSON: a
	// string without escapes in valid UTF-8 is its bytes, a number or a
	// boolean its text. Only the rest needs decoding again (a failed
	// json.Unmarshal was most of a push's parsing).
	switch c := raw[0]; {
	case c == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw):
		return string(raw[1 : len(raw)-1])
	case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f':
		return string(raw)
	}
	return decodeLooseString(raw)
}

// decodeLooseString is looseString without its shortcuts: the value decoded
// again (the fuzz test holds the shortcuts to it).
func decodeLooseString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "true" || t == "false" {
		return t
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// isEnvelope recognizes a pushcrypto envelope in a text field: "v1." and
// unpadded base64url of at least a header's length, nothing else.
func isEnvelope(s string) bool {
	rest, ok := strings.CutPrefix(s, "v1.")
	if !ok || len(rest) < 120 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// takeEnvelope moves an envelope carried in the message text (see
// EnvelopeInMessage) to Encrypted, so that it is never shown.
func (in *inbound) takeEnvelope() {
	if isEnvelope(in.Message) {
		if in.Encrypted == "" {
			in.Encrypted = in.Message
		}
		in.Message = ""
	}
	if isEnvelope(in.Body) {
		if in.Encrypted == "" {
			in.Encrypted = in.Body
		}
		in.Body = "" // never shown, whichever envelope it was
	}
}
