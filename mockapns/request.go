package mockapns

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pushlab/pushlab/internal/jsonscan"
)

// Limits of the provider API.
const (
	MaxPayload     = 4096 // bytes of JSON payload for every push type but voip
	MaxVoIPPayload = 5120 // bytes of JSON payload for voip pushes
	MaxCollapseID  = 64   // bytes of apns-collapse-id
	maxTopic       = 255  // longest apns-topic the mock accepts (bundle ids are far shorter)
	devicePath     = "/3/device/"
)

// PushTypes maps each apns-push-type value to the suffix Apple requires on
// apns-topic for it ("" = the bare bundle id; mdm topics are the MDM topic).
var PushTypes = map[string]string{
	"alert":        "",
	"background":   "",
	"location":     ".location-query",
	"voip":         ".voip",
	"complication": ".complication",
	"fileprovider": ".pushkit.fileprovider",
	"mdm":          "",
	"liveactivity": ".push-type.liveactivity",
	"pushtotalk":   ".voip-ptt",
	"widgets":      ".push-type.widgets",
	"controls":     ".push-type.controls",
}

// topicSuffixes are the suffixes above, longest first so that
// ".push-type.liveactivity" is not mistaken for something shorter.
var topicSuffixes = []string{
	".push-type.liveactivity", ".pushkit.fileprovider", ".push-type.widgets", ".push-type.controls",
	".location-query", ".complication", ".voip-ptt", ".voip",
}

// Notification is a request that passed the header checks: what the mock
// read from the :path and apns-* headers.
type Notification struct {
	Token         string
	ID            string // apns-id as sent, or generated
	IDGenerated   bool
	Topic         string // as sent ("" if absent)
	PushType      string // as sent, "alert" if absent
	Priority      int    // 10 if absent
	Expiration    int64  // unix seconds
	HasExpiration bool
	CollapseID    string
}

// App is the bundle id the topic names: the topic without its push-type suffix.
func (n *Notification) App() string { return bundleOf(n.Topic) }

func bundleOf(topic string) string { return topic[:len(topic)-len(topicSuffix(topic))] }

// topicSuffix is the push-type suffix topic ends with, "" for none.
func topicSuffix(topic string) string {
	for _, s := range topicSuffixes {
		if strings.HasSuffix(topic, s) {
			return s
		}
	}
	return ""
}

// parsePath reads the device token from :path; method is checked after the
// path, as a GET to a device path is MethodNotAllowed and a GET elsewhere BadPath.
func parsePath(method, path string) (string, *Error) {
	token, ok := strings.CutPrefix(path, devicePath)
	if !ok {
		if path == strings.TrimSuffix(devicePath, "/") && method == http.MethodPost {
			return "", reject(ReasonMissingDeviceToken)
		}
		return "", reject(ReasonBadPath)
	}
	if method != http.MethodPost {
		return "", reject(ReasonMethodNotAllowed)
	}
	if token == "" {
		return "", reject(ReasonMissingDeviceToken)
	}
	if strings.Contains(token, "/") {
		return "", reject(ReasonBadPath)
	}
	return token, nil
}

// validToken is Apple's token shape: hex, 32 bytes today (64 digits); longer
// even-length tokens are allowed, as Apple reserves the right to grow them.
// upper reports upper-case digits in t (the registry's tokens have none).
func validToken(t string) (valid, upper bool) {
	if len(t) < 64 || len(t) > 200 || len(t)%2 != 0 {
		return false, false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case '0' <= c && c <= '9' || 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			upper = true
		default:
			return false, false
		}
	}
	return true, upper
}

// headersChecked are the request headers that must not repeat, and the
// ones parseHeaders reads, by the indexes below.
var headersChecked = [...]string{"Authorization", "Apns-Id", "Apns-Topic", "Apns-Push-Type", "Apns-Priority", "Apns-Expiration", "Apns-Collapse-Id"}

const (
	hdrAuthorization = iota // read by authenticate
	hdrID
	hdrTopic
	hdrPushType
	hdrPriority
	hdrExpiration
	hdrCollapseID
)

// notChecked stands for a header that is not in headersChecked.
const notChecked = -1

// checkedValues are a request's values of headersChecked, by index.
type checkedValues [len(headersChecked)][]string

// lookUp fills v from h.
func (v *checkedValues) lookUp(h http.Header) {
	for i, k := range headersChecked {
		v[i] = h[k]
	}
}

// parseHeaders applies the header checks of the provider API, in the order the
// mock answers them. newID makes an apns-id when the request has none.
func parseHeaders(h http.Header, token string, newID func() string) (Notification, *Error) {
	var vals checkedValues
	vals.lookUp(h)
	return parseValues(&vals, token, newID)
}

// parseValues is parseHeaders on the values of headersChecked, already
// looked up.
func parseValues(vals *checkedValues, token string, newID func() string) (Notification, *Error) {
	n := Notification{Token: token, PushType: "alert", Priority: 10}
	for _, v := range vals {
		if len(v) > 1 {
			n.ID, n.IDGenerated = newID(), true
			return n, reject(ReasonDuplicateHeaders)
		}
	}
	value := func(i int) (string, bool) {
		if len(vals[i]) == 0 {
			return "", false
		}
		return vals[i][0], true
	}
	if id, ok := value(hdrID); ok {
		if !validUUID(id) {
			n.ID, n.IDGenerated = newID(), true
			return n, reject(ReasonBadMessageID)
		}
		n.ID = id
	} else {
		n.ID, n.IDGenerated = newID(), true
	}
	if pt, ok := value(hdrPushType); ok {
		if _, known := PushTypes[pt]; !known {
			return n, reject(ReasonInvalidPushType)
		}
		n.PushType = pt
	}
	if topic, ok := value(hdrTopic); ok {
		if !validTopic(topic) {
			return n, reject(ReasonBadTopic)
		}
		n.Topic = topic
	}
	if p, ok := value(hdrPriority); ok {
		v, err := strconv.Atoi(p)
		if err != nil || (v != 10 && v != 5 && v != 1) {
			return n, reject(ReasonBadPriority)
		}
		n.Priority = v
	}
	if n.PushType == "background" && n.Priority == 10 {
		// "It's an error to specify … 10 for a notification whose apns-push-type is background."
		return n, reject(ReasonBadPriority)
	}
	if e, ok := value(hdrExpiration); ok {
		v, err := strconv.ParseInt(e, 10, 64)
		if err != nil || v < 0 || len(e) > 12 {
			return n, reject(ReasonBadExpirationDate)
		}
		n.Expiration, n.HasExpiration = v, true
	}
	if c, ok := value(hdrCollapseID); ok {
		if len(c) > MaxCollapseID {
			return n, reject(ReasonBadCollapseID)
		}
		n.CollapseID = c
	}
	return n, nil
}

// checkPushTypeTopic matches the topic's suffix (topicSuffix) to the push
// type. Apple documents the suffix each push type requires but no reason
// for a mismatch; the mock answers InvalidPushType (the push type does not
// fit the topic).
func checkPushTypeTopic(pushType, suffix string) *Error {
	if pushType != "mdm" && suffix != PushTypes[pushType] {
		return reject(ReasonInvalidPushType)
	}
	return nil
}

func validTopic(t string) bool {
	if t == "" || len(t) > maxTopic {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validUUID accepts the canonical 8-4-4-4-12 form, either case.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// payloadLimit is the largest payload accepted for a push type.
func payloadLimit(pushType string) int {
	if pushType == "voip" {
		return MaxVoIPPayload
	}
	return MaxPayload
}

// checkPayload checks the JSON payload and returns its top-level ack_id (the
// trace id of pushlab's events), if any. Apple documents no reason for a
// payload that is not a JSON object with an aps dictionary; the mock answers
// PayloadEmpty (nothing a device could show was found). An MDM push has no
// aps: its payload is {"mdm":"<PushMagic>"} (MDM protocol reference).
// What the payload of the newer push types holds (Live Activity fields,
// widgets' content-changed) is judged by the device, as iOS drops what it
// cannot apply and APNs documents no reason for it.
func checkPayload(body []byte, limit int, pushType string) (ackID string, err *Error) {
	raw, err := checkPayloadRaw(body, limit, pushType)
	return ackString(raw), err
}

// checkPayloadRaw is checkPayload with the ack_id's raw JSON value (nil
// when absent), for a caller that may never need it as a string.
func checkPayloadRaw(body []byte, limit int, pushType string) (ackID []byte, err *Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, reject(ReasonPayloadEmpty)
	}
	if len(body) > limit {
		return nil, reject(ReasonPayloadTooLarge)
	}
	top, ok := topLevel(body)
	if !ok {
		return nil, reject(ReasonPayloadEmpty)
	}
	if pushType == "mdm" {
		var magic string
		if json.Unmarshal(top.mdm, &magic) != nil || magic == "" {
			return nil, reject(ReasonPayloadEmpty)
		}
		return nil, nil
	}
	if len(top.aps) == 0 || top.aps[0] != '{' {
		return nil, reject(ReasonPayloadEmpty)
	}
	return top.ackID, nil
}

// ackString is the ack_id a raw JSON value holds: "" unless it is a string.
func ackString(raw []byte) string {
	if raw == nil {
		return ""
	}
	if s, ok := jsonscan.PlainString(raw); ok {
		return s
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// payloadTop is what checkPayload reads of a payload: the raw values of
// three top-level keys (nil when absent).
type payloadTop struct{ aps, ackID, mdm []byte }

// topLevel finds the top-level values checkPayload needs, without building
// a map per push: it reads what json.Unmarshal into a
// map[string]json.RawMessage would (false where that fails; the last of
// duplicate keys; escaped keys unescaped), and a JSON null is an empty object.
func topLevel(body []byte) (top payloadTop, ok bool) {
	if !jsonscan.Valid(body) {
		return top, false
	}
	i := jsonscan.SkipSpace(body, 0)
	if body[i] == 'n' { // null
		return top, true
	}
	if body[i] != '{' {
		return top, false
	}
	i = jsonscan.SkipSpace(body, i+1)
	for body[i] != '}' {
		end := jsonscan.ValueEnd(body, i)
		key := body[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			var k string
			json.Unmarshal(body[i:end], &k) // valid JSON: cannot fail
			key = []byte(k)
		}
		i = jsonscan.SkipSpace(body, end)
		i = jsonscan.SkipSpace(body, i+1) // the colon
		end = jsonscan.ValueEnd(body, i)
		switch string(key) {
		case "aps":
			top.aps = body[i:end]
		case "ack_id":
			top.ackID = body[i:end]
		case "mdm":
			top.mdm = body[i:end]
		}
		i = jsonscan.SkipSpace(body, end)
		if body[i] == ',' {
			i = jsonscan.SkipSpace(body, i+1)
		}
	}
	return top, true
}

// ackIDOf reads the top-level ack_id of a payload already accepted.
func ackIDOf(payload []byte) string {
	var v struct {
		AckID string `json:"ack_id"`
	}
	if json.Unmarshal(payload, &v) != nil {
		return ""
	}
	return v.AckID
}

// newToken mints a device token the way Apple shapes them: 32 random bytes in hex.
func hexToken(b [32]byte) string { return hex.EncodeToString(b[:]) }
