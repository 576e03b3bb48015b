package devicesim

import (
	"bytes"
	"encoding/json"

	"github.com/pushlab/pushlab/internal/jsonscan"
)

// A push is read from a few keys of one or two JSON objects. Decoding them
// into maps of json.RawMessage, as the parsers did, cost a map and a copy
// of every value: most of a push's parsing. Instead the document is checked
// once (jsonscan.Valid) and its objects' members are listed where they lie.

// members are an object's members in document order (each Raw its raw
// value or, in an FCM data map, the decoded string); the last of a
// repeated key wins, as when decoding into a map.
type members []jsonscan.Member

// get finds key's value.
func (ms members) get(key string) (json.RawMessage, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if string(ms[i].Key) == key {
			return ms[i].Raw, true
		}
	}
	return nil, false
}

// value is get without the presence.
func (ms members) value(key string) json.RawMessage {
	v, _ := ms.get(key)
	return v
}

// membersOf lists the members of the JSON object b, appended to ms: what
// json.Unmarshal into a map[string]json.RawMessage gives, and its error.
// null is no members, as it is a nil map.
func membersOf(b []byte, ms members) (members, error) {
	if jsonscan.Valid(b) {
		if t := bytes.TrimLeft(b, " \t\r\n"); t[0] == '{' {
			return jsonscan.AppendMembers(ms, t), nil
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return ms, err
	}
	for k, v := range m {
		ms = append(ms, jsonscan.Member{Key: []byte(k), Raw: v})
	}
	return ms, nil
}
