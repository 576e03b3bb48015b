package mockfcm

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// parseFast reads the usual request — snake_case names as the SDKs write
// them, each field once, strings where strings belong — in one pass over the
// bytes, without reflection: it is most of what a send costs the mock.
// Anything else (camelCase names, nulls, wrong types, unknown fields, escaped
// names) goes to parseSlow, which accepts the camelCase and words Google's
// errors; FuzzFastMatchesSlow checks that whatever this takes, parseSlow
// takes alike.
func parseFast(body []byte) (*SendRequest, bool) {
	if !json.Valid(body) { // from here on the scanner may trust the syntax
		return nil, false
	}
	s := scanner{b: body}
	if !s.enter() {
		return nil, false
	}
	req := &SendRequest{}
	var seen uint8
	for k, more := s.next(); more; k, more = s.next() {
		var bit uint8
		switch string(k) {
		case "validate_only":
			bit = 1
			switch {
			case s.literal("true"):
				req.ValidateOnly = true
			case s.literal("false"):
			default:
				return nil, false
			}
		case "message":
			bit = 2
			if !s.message(&req.Message) {
				return nil, false
			}
		default:
			return nil, false
		}
		if seen&bit != 0 {
			return nil, false
		}
		seen |= bit
	}
	if s.bad || seen&2 == 0 {
		return nil, false
	}
	return req, true
}

// message reads message (an object) and finishes it.
func (s *scanner) message(m *Message) bool {
	if !s.enter() {
		return false
	}
	var (
		seen    uint16
		android []byte
		ok      bool
	)
	for k, more := s.next(); more; k, more = s.next() {
		var bit uint16
		switch string(k) {
		case "name": // accepted and not inspected: output only, other platforms, analytics label
			bit = 1
			ok = s.skip() != nil
		case "apns":
			bit = 1 << 1
			ok = s.skip() != nil
		case "webpush":
			bit = 1 << 2
			ok = s.skip() != nil
		case "fcm_options":
			bit = 1 << 3
			ok = s.skip() != nil
		case "token":
			bit = 1 << 4
			m.Token, ok = s.str()
		case "topic":
			bit = 1 << 5
			m.Topic, ok = s.str()
		case "condition":
			bit = 1 << 6
			m.Condition, ok = s.str()
		case "data":
			bit = 1 << 7
			ok = s.data(&m.Data)
		case "notification":
			bit = 1 << 8
			m.Notification, ok = s.notification(m)
		case "android":
			bit = 1 << 9
			android, ok = s.android(m)
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	if s.bad {
		return false
	}
	targets := count(m.Token) + count(m.Topic) + count(m.Condition)
	return finish(m, targets, android) == nil // parseSlow words the error
}

// notification reads message.notification: title, body and image strings.
func (s *scanner) notification(m *Message) (json.RawMessage, bool) {
	start := s.ws()
	if !s.enter() {
		return nil, false
	}
	var seen uint8
	for k, more := s.next(); more; k, more = s.next() {
		var bit uint8
		switch string(k) {
		case "title":
			bit = 1
		case "body":
			bit = 2
		case "image":
			bit = 4
		default:
			return nil, false
		}
		v, ok := s.str()
		if !ok || seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		if bit != 4 {
			m.Size += len(v)
		}
	}
	if s.bad {
		return nil, false
	}
	return s.b[start:s.i], true
}

// android reads message.android; its data is merged after message.data,
// which it overrides, wherever it stands.
func (s *scanner) android(m *Message) (json.RawMessage, bool) {
	start := s.ws()
	if !s.enter() {
		return nil, false
	}
	var (
		seen uint16
		data []byte
	)
	for k, more := s.next(); more; k, more = s.next() {
		var bit uint16
		ok := true
		switch string(k) {
		case "collapse_key":
			bit = 1
			m.CollapseKey, ok = s.str()
		case "restricted_package_name":
			bit = 1 << 1
			m.RestrictedPackageName, ok = s.str()
		case "priority":
			bit = 1 << 2
			var err *Error
			m.Priority, err = parsePriority(s.skip())
			ok = err == nil
		case "ttl":
			bit = 1 << 3
			var ttl string
			if ttl, ok = s.str(); ok && ttl != "" {
				var err *Error
				m.TTL, err = ParseTTL(ttl)
				ok, m.HasTTL = err == nil, err == nil
			}
		case "data":
			bit = 1 << 4
			if c := s.peek(); c != '{' {
				return nil, false
			}
			data = s.skip()
		case "notification":
			bit = 1 << 5
			ok = s.objectOrNull()
		case "fcm_options":
			bit = 1 << 6
			ok = s.objectOrNull()
		case "direct_boot_ok":
			bit = 1 << 7
			ok = s.boolean()
		case "bandwidth_constrained_ok":
			bit = 1 << 8
			ok = s.boolean()
		case "restricted_satellite_ok":
			bit = 1 << 9
			ok = s.boolean()
		default:
			return nil, false
		}
		if !ok || seen&bit != 0 {
			return nil, false
		}
		seen |= bit
	}
	if s.bad {
		return nil, false
	}
	raw := s.b[start:s.i]
	if data != nil {
		d := scanner{b: data}
		if !d.data(&m.Data) {
			return nil, false
		}
	}
	return raw, true
}

// data reads an object of strings into *into (made on the first entry; a
// later key wins, as in encoding/json).
func (s *scanner) data(into *map[string]string) bool {
	if !s.enter() {
		return false
	}
	for {
		k, done, ok := s.anyKey()
		if !ok {
			return false
		}
		if done {
			return true
		}
		v, ok := s.str()
		if !ok {
			return false
		}
		if *into == nil {
			*into = make(map[string]string, 8)
		}
		(*into)[k] = v
	}
}

// scanner walks JSON that json.Valid accepted: it checks which kind of value
// stands where, never the syntax.
type scanner struct {
	b   []byte
	i   int
	bad bool // a name no field of ours has
}

// ws skips white space and returns the position.
func (s *scanner) ws() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

// peek is the first byte of the next value (0 at the end).
func (s *scanner) peek() byte {
	if s.ws() < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// enter consumes the '{' of an object, or says the value is no object.
func (s *scanner) enter() bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	return true
}

// key reads the next member name of an object, and its ':'; done at the
// closing '}'. A name with escapes or non-ASCII is not ok (no field of ours
// is spelt so).
func (s *scanner) key() (k []byte, done, ok bool) {
	if s.member() {
		return nil, true, true
	}
	raw, plain := s.quoted()
	s.colon()
	return raw, false, plain
}

// next is key for a loop over an object's members: false at the closing '}',
// or on a name that is not ok, which sets bad.
func (s *scanner) next() ([]byte, bool) {
	k, done, ok := s.key()
	s.bad = s.bad || !ok
	return k, ok && !done
}

// anyKey is key for names of the sender's choosing, unescaped.
func (s *scanner) anyKey() (k string, done, ok bool) {
	if s.member() {
		return "", true, true
	}
	k, ok = s.unquote()
	s.colon()
	return k, false, ok
}

// member steps over the ',' before a member, or the '}' after the last one
// (then it reports true).
func (s *scanner) member() bool {
	switch s.peek() {
	case '}':
		s.i++
		return true
	case ',':
		s.i++
		s.ws()
	}
	return false
}

func (s *scanner) colon() {
	s.ws()
	s.i++
}

// literal consumes lit (true, false, null) if it is the next value.
func (s *scanner) literal(lit string) bool {
	s.ws()
	if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.i += len(lit)
		return true
	}
	return false
}

// objectOrNull consumes an object or null; any other kind is not ok.
func (s *scanner) objectOrNull() bool {
	if c := s.peek(); c != '{' && c != 'n' {
		return false
	}
	s.skip()
	return true
}

func (s *scanner) boolean() bool { return s.literal("true") || s.literal("false") }

// str reads a string value; any other kind is not ok.
func (s *scanner) str() (string, bool) {
	if s.peek() != '"' {
		return "", false
	}
	return s.unquote()
}

// unquote reads the string at s.i: plain ones directly, the others (escapes,
// non-ASCII) through encoding/json, for its very treatment of them.
func (s *scanner) unquote() (string, bool) {
	start := s.i
	raw, plain := s.quoted()
	if plain {
		return string(raw), true
	}
	if !bytes.ContainsRune(raw, '\\') && utf8.Valid(raw) {
		return string(raw), true
	}
	var v string
	if json.Unmarshal(s.b[start:s.i], &v) != nil {
		return "", false
	}
	return v, true
}

// quoted consumes the string at s.i and returns what is between the quotes;
// plain means printable ASCII without escapes.
func (s *scanner) quoted() (raw []byte, plain bool) {
	s.i++ // '"'
	start := s.i
	plain = true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, plain
		case c == '\\':
			plain = false
			s.i++ // the escaped byte cannot end the string
		case c < 0x20 || c >= utf8.RuneSelf:
			plain = false
		}
	}
	return s.b[start:], false
}

// skip consumes one value and returns it.
func (s *scanner) skip() []byte {
	start := s.ws()
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.quoted()
			if depth == 0 {
				return s.b[start:s.i]
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the enclosing value: a scalar ended here
				return s.b[start:s.i]
			}
			depth--
			if depth == 0 {
				s.i++
				return s.b[start:s.i]
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return s.b[start:s.i]
			}
		}
		s.i++
	}
	return s.b[start:s.i]
}

// marshalPayload is json.Marshal of the payload struct finish builds, written
// out by hand for the usual contents (the sorted data keys, the raw objects
// compacted) and left to encoding/json for anything it would escape.
func marshalPayload(data map[string]string, notification, android json.RawMessage) ([]byte, error) {
	if b, ok := appendPayload(data, notification, android); ok {
		return b, nil
	}
	return json.Marshal(struct {
		Data         map[string]string `json:"data,omitempty"`
		Notification json.RawMessage   `json:"notification,omitempty"`
		Android      json.RawMessage   `json:"android,omitempty"`
	}{data, notification, android})
}

func appendPayload(data map[string]string, notification, android json.RawMessage) ([]byte, bool) {
	n := 2 + len(notification) + len(android) + 32
	var arr [16]string
	keys := arr[:0]
	for k, v := range data {
		if !plainJSON(k) || !plainJSON(v) {
			return nil, false
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	slices.Sort(keys) // as encoding/json orders map keys
	b := make([]byte, 0, n)
	b = append(b, '{')
	if len(data) > 0 {
		b = append(b, `"data":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, k...)
			b = append(b, `":"`...)
			b = append(b, data[k]...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	for _, f := range [2]struct {
		name string
		raw  json.RawMessage
	}{{`"notification":`, notification}, {`"android":`, android}} {
		if len(f.raw) == 0 {
			continue
		}
		if bytes.ContainsAny(f.raw, "<>&\u2028\u2029") { // encoding/json escapes these
			return nil, false
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, f.name...)
		buf := bytes.NewBuffer(b)
		if json.Compact(buf, f.raw) != nil {
			return nil, false
		}
		b = buf.Bytes()
	}
	return append(b, '}'), true
}

// plainJSON: s encodes as itself between quotes, HTML-safe.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
