package jsonscan

import (
	"bytes"
	"encoding/json"
)

// Member is one member of a JSON object: its name and its raw value.
type Member struct{ Key, Raw []byte }

// AppendMembers appends the members of the object that starts at b (after
// white space) to ms, in document order, without copying: what decoding it
// into a map[string]json.RawMessage gives, repeated names included. b must
// be valid JSON (a document Valid accepted, or a value of one). A name with
// escapes is decoded; a name is otherwise its bytes, so one with invalid
// UTF-8 (which decoding would change) matches no plain key.
func AppendMembers(ms []Member, b []byte) []Member {
	i := SkipSpace(b, 0) + 1 // past '{'
	for {
		i = SkipSpace(b, i)
		switch b[i] {
		case '}':
			return ms
		case ',':
			i = SkipSpace(b, i+1)
		}
		end := ValueEnd(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			json.Unmarshal(b[i:end], &s) // a valid string: it decodes
			key = []byte(s)
		}
		i = SkipSpace(b, SkipSpace(b, end)+1) // past ':'
		vend := ValueEnd(b, i)
		ms = append(ms, Member{Key: key, Raw: b[i:vend:vend]})
		i = vend
	}
}
