package proxy

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sideshow/apns2/payload"
)

// fcmDataMessageJSON is json.Marshal of the message fcmSender.build makes
// (data, android priority high, token; nothing else), byte for byte, without
// encoding/json's reflection and sorting of reflected map keys: the event
// excerpt needs the bytes and the SDK marshals its own copy anyway.
func fcmDataMessageJSON(data map[string]string, token string) []byte {
	keys := make([]string, 0, len(data))
	size := 64 + len(token)
	for k, v := range data {
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	if len(data) > 0 {
		b = append(b, `{"data":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, data[k])
		}
		b = append(b, `},`...)
	} else {
		b = append(b, '{')
	}
	b = append(b, `"android":{"priority":"high"}`...)
	if token != "" {
		b = append(b, `,"token":`...)
		b = appendJSONString(b, token)
	}
	return append(b, '}')
}

// appendJSONString appends s quoted as encoding/json quotes it: plain
// printable ASCII directly, anything else (escapes, HTML characters,
// non-ASCII) through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// apnsPayload is an APNs payload as apns2's payload.Payload lays it out
// (keys sorted, "aps" among them), written without encoding/json's
// reflection over a map of interfaces: aps is a payload.Payload with only
// the aps dictionary set, custom the top-level keys (string or bool values).
type apnsPayload struct {
	aps    *payload.Payload
	custom []apnsCustom
}

type apnsCustom struct {
	key string
	str string
	b   bool
	isB bool
}

func newAPNsPayload() *apnsPayload {
	return &apnsPayload{aps: payload.NewPayload(), custom: make([]apnsCustom, 0, 20)}
}

// Custom sets a top-level key, as payload.Payload.Custom does (the last
// value set wins); value is a string or a bool.
func (p *apnsPayload) Custom(key string, value any) *apnsPayload {
	c := apnsCustom{key: key}
	switch v := value.(type) {
	case string:
		c.str = v
	case bool:
		c.b, c.isB = v, true
	default:
		panic("proxy: apnsPayload.Custom: a string or a bool")
	}
	for i := range p.custom {
		if p.custom[i].key == key {
			p.custom[i] = c
			return p
		}
	}
	p.custom = append(p.custom, c)
	return p
}

// MarshalJSON is json.Marshal of the equivalent payload.Payload.
func (p *apnsPayload) MarshalJSON() ([]byte, error) {
	// Its own MarshalJSON, not json.Marshal: that would validate and
	// compact the marshaller's (already compact) output a second time.
	aps, err := p.aps.MarshalJSON() // {"aps":{…}}
	if err != nil {
		return nil, err
	}
	const apsKey = `{"aps":`
	inner := aps[len(apsKey) : len(aps)-1]
	slices.SortFunc(p.custom, func(a, b apnsCustom) int { return strings.Compare(a.key, b.key) })
	b := make([]byte, 0, len(aps)+32*len(p.custom))
	b = append(b, '{')
	apsDone := false
	for _, c := range p.custom {
		if !apsDone && c.key > "aps" {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(append(b, `"aps":`...), inner...)
			apsDone = true
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.key)
		b = append(b, ':')
		if c.isB {
			b = strconv.AppendBool(b, c.b)
		} else {
			b = appendJSONString(b, c.str)
		}
	}
	if !apsDone {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(b, `"aps":`...), inner...)
	}
	return append(b, '}'), nil
}
