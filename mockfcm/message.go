package mockfcm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Limits FCM applies to a message.
const (
	// MaxPayload: the maximum payload for both message types is 4096 bytes.
	MaxPayload = 4096
	// MaxTopicPayload: messages to topics (and conditions) may carry 2048 bytes.
	MaxTopicPayload = 2048
	// MaxTTL: the maximum time to live is 4 weeks (2,419,200 s), also the default.
	MaxTTL = 28 * 24 * time.Hour
	// MaxStored: FCM keeps up to 100 non-collapsible messages per offline device.
	MaxStored = 100
	// maxBody bounds a request body before parsing (Google's front end refuses
	// far smaller messages anyway).
	maxBody = 1 << 20
)

// Message is an FCM HTTP v1 message as the mock understood it.
type Message struct {
	// Exactly one target.
	Token, Topic, Condition string
	// Data is message.data merged with android.data (which wins, as on Android).
	Data map[string]string
	// sortedData is message.data as sent, when it is the whole data and
	// laid out as json.Marshal writes a string map (sortedData): the send
	// path reads it in place and leaves Data nil; ParseSendRequest fills
	// Data from it.
	sortedData   string
	Notification json.RawMessage // message.notification, as sent
	// Android options.
	Priority              string        // "normal" or "high" ("" unset)
	TTL                   time.Duration // MaxTTL unless HasTTL
	HasTTL                bool
	CollapseKey           string
	RestrictedPackageName string
	// Payload is what the app receives: {"data":…,"notification":…,"android":…}
	// without the target.
	Payload json.RawMessage
	// Size is the payload size FCM counts against MaxPayload: data keys and
	// values plus notification title and body.
	Size int
}

// SendRequest is the body of POST /v1/projects/{project}/messages:send.
type SendRequest struct {
	ValidateOnly bool
	Message      Message
}

// fieldName normalizes a JSON field name so that proto's two spellings
// (collapse_key, collapseKey) compare equal.
func fieldName(k string) string {
	return strings.ToLower(strings.ReplaceAll(k, "_", ""))
}

// object decodes raw as a JSON object; null gives an empty object.
func object(raw json.RawMessage, at string) (map[string]json.RawMessage, *Error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, invalid(at, fmt.Sprintf("Invalid JSON payload received. Invalid value at '%s': expected an object.", at))
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// str decodes a JSON string field; null is "".
func str(raw json.RawMessage, at string) (string, *Error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(at, fmt.Sprintf("Invalid value at '%s' (TYPE_STRING), %s", at, truncate(string(raw), 64)))
	}
	return s, nil
}

func unknownField(name, at string) *Error {
	msg := fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", name, at)
	if at == "" {
		msg = fmt.Sprintf("Invalid JSON payload received. Unknown name %q: Cannot find field.", name)
	}
	return invalid(at, msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ParseSendRequest validates a send body as FCM does and returns the message,
// or the INVALID_ARGUMENT answer Google would give. It never panics, whatever
// the input.
func ParseSendRequest(body []byte) (*SendRequest, *Error) {
	req := &SendRequest{}
	if err := parseSendRequest(body, string(body), req); err != nil {
		return nil, err
	}
	req.Message.fillData()
	return req, nil
}

// parseSendRequest is ParseSendRequest of a body the caller has as a string
// too (text), into req: the message's strings are slices of text, and its
// data may be left in sortedData.
func parseSendRequest(body []byte, text string, req *SendRequest) *Error {
	if parseFast(body, text, req) {
		return nil
	}
	*req = SendRequest{} // what the fast path read of it
	return parseSlow(body, req)
}

// parseSlow parses field by field: proto's camelCase names too, and Google's
// words for every error.
func parseSlow(body []byte, req *SendRequest) *Error {
	top, err := object(body, "")
	if err != nil {
		return invalid("", "Invalid JSON payload received. Expected an object.")
	}
	var rawMsg json.RawMessage
	for k, v := range top {
		switch fieldName(k) {
		case "validateonly":
			if !isNull(v) && json.Unmarshal(v, &req.ValidateOnly) != nil {
				return invalid("validate_only", fmt.Sprintf("Invalid value at 'validate_only' (TYPE_BOOL), %s", truncate(string(v), 64)))
			}
		case "message":
			rawMsg = v
		default:
			return unknownField(k, "")
		}
	}
	if rawMsg == nil || isNull(rawMsg) {
		return invalid("message", "Request contains an invalid argument.")
	}
	return parseMessage(rawMsg, &req.Message)
}

func parseMessage(raw json.RawMessage, m *Message) *Error {
	fields, err := object(raw, "message")
	if err != nil {
		return err
	}
	var android json.RawMessage
	for k, v := range fields {
		var err *Error
		switch fieldName(k) {
		case "name", "webpush", "apns", "fcmoptions":
			// Accepted and not inspected: output-only name, other platforms, analytics label.
		case "token":
			m.Token, err = str(v, "message.token")
		case "topic":
			m.Topic, err = str(v, "message.topic")
		case "condition":
			m.Condition, err = str(v, "message.condition")
		case "fid":
			var fid string
			fid, err = str(v, "message.fid")
			if err == nil && fid != "" {
				return invalid("message.fid", "Sending to a Firebase installation ID is not supported by this mock; use a registration token.")
			}
		case "data":
			err = parseData(v, "message.data", &m.Data)
		case "notification":
			err = parseNotification(v, "message.notification", m)
			m.Notification = v
		case "android":
			android = v
		default:
			return unknownField(k, "message")
		}
		if err != nil {
			return err
		}
	}
	if android != nil && !isNull(android) {
		if err := parseAndroid(android, m); err != nil {
			return err
		}
	}
	targets := count(m.Token) + count(m.Topic) + count(m.Condition)
	return finish(m, targets, android)
}

// finish validates what both parsers extracted and builds the payload.
func finish(m *Message, targets int, android json.RawMessage) *Error {
	if err := validate(m, targets); err != nil {
		return err
	}
	if !m.HasTTL {
		m.TTL = MaxTTL
	}
	b, jerr := marshalPayload(m.Data, m.sortedData, nonNull(m.Notification), nonNull(android))
	if jerr != nil { // only if a RawMessage were invalid, which parsing ruled out
		return newError(Internal, "")
	}
	m.Payload = b
	return nil
}

// validate checks the target, the data keys and the size FCM counts (which
// it adds up in m.Size).
func validate(m *Message, targets int) *Error {
	switch {
	case targets == 0:
		return invalid("message", "Recipient of the message is not set.")
	case targets > 1:
		return invalid("message", "Invalid JSON payload received. Oneof field 'target' is already set. Cannot set another target.")
	}
	if m.Topic != "" {
		m.Topic = strings.TrimPrefix(m.Topic, "/topics/")
		if !validTopic(m.Topic) {
			return invalid("message.topic", "Invalid topic name.")
		}
	}
	if m.Condition != "" {
		if _, err := ParseCondition(m.Condition); err != nil {
			return invalid("message.condition", "Invalid condition expression provided.")
		}
	}
	for k, v := range m.Data {
		if err := m.countData(k, v); err != nil {
			return err
		}
	}
	for k, v := range sortedMembers(m.sortedData) { // or the data is here
		if err := m.countData(k, v); err != nil {
			return err
		}
	}
	limit := MaxPayload
	if m.Topic != "" || m.Condition != "" {
		limit = MaxTopicPayload
	}
	if m.Size > limit {
		return invalid("message", fmt.Sprintf("Android message is too big: %d bytes, the limit is %d.", m.Size, limit))
	}
	return nil
}

// countData checks a data key and adds the member to m.Size.
func (m *Message) countData(k, v string) *Error {
	if reservedKey(k) {
		return invalid("message.data", fmt.Sprintf("Invalid data payload key: %q is a reserved word.", k))
	}
	m.Size += len(k) + len(v)
	return nil
}

func nonNull(r json.RawMessage) json.RawMessage {
	if r == nil || isNull(r) {
		return nil
	}
	return r
}

func count(s string) int {
	if s != "" {
		return 1
	}
	return 0
}

// reservedKey: "The key should not be a reserved word ("from",
// "message_type", or any word starting with "google" or "gcm")." (FCM v1
// reference; newer pages narrow the prefixes to "google." and
// "gcm.notification.": the mock keeps the broader rule.)
func reservedKey(k string) bool {
	return k == "from" || k == "message_type" || strings.HasPrefix(k, "google") || strings.HasPrefix(k, "gcm")
}

func parseData(raw json.RawMessage, at string, into *map[string]string) *Error {
	if isNull(raw) {
		return nil
	}
	fields, err := object(raw, at)
	if err != nil {
		return err
	}
	if *into == nil && len(fields) > 0 {
		*into = make(map[string]string, len(fields))
	}
	i := 0
	for k, v := range fields {
		s, err := str(v, fmt.Sprintf("%s[%d].value", at, i))
		if err != nil {
			return err
		}
		(*into)[k] = s
		i++
	}
	return nil
}

func parseNotification(raw json.RawMessage, at string, m *Message) *Error {
	if isNull(raw) {
		return nil
	}
	fields, err := object(raw, at)
	if err != nil {
		return err
	}
	for k, v := range fields {
		switch fieldName(k) {
		case "title", "body":
			s, err := str(v, at+"."+k)
			if err != nil {
				return err
			}
			m.Size += len(s)
		case "image":
			if _, err := str(v, at+".image"); err != nil {
				return err
			}
		default:
			return unknownField(k, at)
		}
	}
	return nil
}

// androidFields are the AndroidConfig fields of FCM v1 (snake or camel case).
var androidFields = map[string]bool{
	"collapsekey": true, "priority": true, "ttl": true, "restrictedpackagename": true, "data": true,
	"notification": true, "fcmoptions": true, "directbootok": true, "bandwidthconstrainedok": true,
	"restrictedsatelliteok": true,
}

func parseAndroid(raw json.RawMessage, m *Message) *Error {
	fields, err := object(raw, "message.android")
	if err != nil {
		return err
	}
	for k, v := range fields {
		name := fieldName(k)
		if !androidFields[name] {
			return unknownField(k, "message.android")
		}
		var err *Error
		switch name {
		case "collapsekey":
			m.CollapseKey, err = str(v, "message.android.collapse_key")
		case "restrictedpackagename":
			m.RestrictedPackageName, err = str(v, "message.android.restricted_package_name")
		case "data":
			err = parseData(v, "message.android.data", &m.Data)
		case "priority":
			m.Priority, err = parsePriority(v)
		case "ttl":
			var s string
			if s, err = str(v, "message.android.ttl"); err == nil && s != "" {
				m.TTL, err = ParseTTL(s)
				m.HasTTL = err == nil
			}
		case "notification", "fcmoptions":
			if !isNull(v) {
				_, err = object(v, "message.android."+k)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parsePriority accepts the REST enum (NORMAL, HIGH), the lowercase form the
// JSON examples and the Go SDK use, and proto's enum numbers.
func parsePriority(raw json.RawMessage) (string, *Error) {
	if isNull(raw) {
		return "", nil
	}
	switch strings.Trim(string(bytes.TrimSpace(raw)), `"`) {
	case "normal", "NORMAL", "1":
		return "normal", nil
	case "high", "HIGH", "2":
		return "high", nil
	case "PRIORITY_UNSPECIFIED", "0", "":
		return "", nil
	}
	return "", invalid("message.android.priority", fmt.Sprintf(
		"Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), %s", truncate(string(raw), 64)))
}

// ParseTTL reads a protobuf Duration string as FCM takes it for android.ttl:
// whole seconds with up to 9 fractional digits and an "s" ("3.5s", "10s"),
// between 0 and MaxTTL.
func ParseTTL(s string) (time.Duration, *Error) {
	bad := func() (time.Duration, *Error) {
		return 0, invalid("message.android.ttl", fmt.Sprintf("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), %q", truncate(s, 64)))
	}
	rest, ok := strings.CutSuffix(s, "s")
	if !ok || rest == "" {
		return bad()
	}
	whole, frac, hasFrac := strings.Cut(rest, ".")
	if whole == "" || len(whole) > 12 || !digits(whole) || hasFrac && (frac == "" || len(frac) > 9 || !digits(frac)) {
		if strings.HasPrefix(rest, "-") {
			return 0, invalid("message.android.ttl", "TTL must not be negative.")
		}
		return bad()
	}
	var secs int64
	for _, c := range whole {
		secs = secs*10 + int64(c-'0')
	}
	var nanos int64
	for i := range 9 {
		nanos *= 10
		if i < len(frac) {
			nanos += int64(frac[i] - '0')
		}
	}
	if secs > int64(MaxTTL/time.Second) || secs == int64(MaxTTL/time.Second) && nanos > 0 {
		return 0, invalid("message.android.ttl", fmt.Sprintf("TTL %s is out of range: the maximum is 2419200s (4 weeks).", s))
	}
	return time.Duration(secs)*time.Second + time.Duration(nanos), nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validTopic: topic names match [a-zA-Z0-9-_.~%]+ (FCM's pattern), at most 900 characters.
func validTopic(t string) bool {
	t = strings.TrimPrefix(t, "private/")
	if t == "" || len(t) > 900 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.~%", c)) {
			return false
		}
	}
	return true
}
