package proxy

import (
	"encoding/json"
	"slices"
	"unicode/utf8"
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
