package devicesim

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// A push is read from a few keys of one or two JSON objects. Decoding them
// into maps of json.RawMessage, as the parsers did, cost a map and a copy
// of every value: most of a push's parsing. Instead the document is checked
// once with json.Valid and its objects' members are listed where they lie.

// member is one key of a JSON object and its raw value (or, in an FCM data
// map, the decoded string).
type member struct{ key, raw []byte }

// members are an object's members in document order; the last of a repeated
// key wins, as when decoding into a map.
type members []member

// get finds key's value.
func (ms members) get(key string) (json.RawMessage, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if string(ms[i].key) == key {
			return ms[i].raw, true
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
	if json.Valid(b) {
		if t := bytes.TrimLeft(b, " \t\r\n"); t[0] == '{' {
			return walkObject(t, ms), nil
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return ms, err
	}
	for k, v := range m {
		ms = append(ms, member{key: []byte(k), raw: v})
	}
	return ms, nil
}

// walkObject appends the members of the object at the start of b, which
// must be valid JSON (a document json.Valid accepted, or a value of one).
// A key with escapes is decoded; a key is otherwise its bytes, so one with
// invalid UTF-8 (which decoding would change) matches no key of ours.
func walkObject(b []byte, ms members) members {
	i := skipSpace(b, 0) + 1 // past '{'
	for {
		i = skipSpace(b, i)
		switch b[i] {
		case '}':
			return ms
		case ',':
			i = skipSpace(b, i+1)
		}
		end := stringEnd(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			json.Unmarshal(b[i:end], &s) // a valid string: it decodes
			key = []byte(s)
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past ':'
		vend := valueEnd(b, i)
		ms = append(ms, member{key: key, raw: b[i:vend:vend]})
		i = vend
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd is the index past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
}

// valueEnd is the index past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
		j++
	}
	return j
}

// plainBytes: raw is a JSON string that is its own text between the
// quotes: no escapes, valid UTF-8.
func plainBytes(raw []byte) bool {
	return len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)
}

// plainString is raw's text when plainBytes.
func plainString(raw []byte) (string, bool) {
	if !plainBytes(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}
