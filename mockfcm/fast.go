package mockfcm

import (
	"bytes"
	"encoding/json"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/pushlab/pushlab/internal/jsonscan"
)

// parseFast reads the usual request — snake_case names as the SDKs write
// them, each member once — with one json.Decoder over the body, its values
// decoded straight into typed fields: it is most of what a send costs the
// mock. Anything else (camelCase names, unknown fields, a name twice, wrong
// types) goes to parseSlow, which accepts the camelCase and words Google's
// errors; FuzzFastMatchesSlow checks that whatever this takes, parseSlow
// takes alike. Names are compared exactly here, not with encoding/json's
// case folding, so that no spelling parseSlow refuses gets through.
func parseFast(body []byte, text string, req *SendRequest) bool {
	if !jsonscan.Valid(body) { // one value and nothing after it (json.Valid), or parseSlow words why not
		return false
	}
	d := &fastDecoder{body: body, text: text}
	var android json.RawMessage
	hasMessage := false
	_, ok := d.object(fastRequest, func(i int) bool {
		if i == 0 {
			return d.Decode(&req.ValidateOnly) == nil
		}
		hasMessage = true
		var read bool
		android, read = d.message(&req.Message)
		return read
	})
	if !ok || !hasMessage {
		return false
	}
	// Finished here rather than where the message was read: the handler's
	// stack stays shorter (growing it costs more than a send's parsing).
	m := &req.Message
	targets := count(m.Token) + count(m.Topic) + count(m.Condition)
	return finish(m, targets, android) == nil // or parseSlow words the error
}

var (
	fastRequest      = []string{"validate_only", "message"}
	fastMessage      = []string{"token", "topic", "condition", "data", "notification", "android", "name", "apns", "webpush", "fcm_options"}
	fastNotification = []string{"title", "body", "image"}
	fastAndroid      = []string{"collapse_key", "restricted_package_name", "priority", "ttl", "data", "notification", "fcm_options",
		"direct_boot_ok", "bandwidth_constrained_ok", "restricted_satellite_ok"}
)

// message reads message; it returns message.android as sent.
func (d *fastDecoder) message(m *Message) (json.RawMessage, bool) {
	var android json.RawMessage
	var androidData map[string]string
	_, ok := d.object(fastMessage, func(i int) bool {
		switch i {
		case 0:
			return d.Decode(&m.Token) == nil
		case 1:
			return d.Decode(&m.Topic) == nil
		case 2:
			return d.Decode(&m.Condition) == nil
		case 3:
			if data, ok := d.sortedData(); ok {
				m.sortedData = data
				return true
			}
			return d.Decode(&m.Data) == nil
		case 4:
			var ok bool
			m.Notification, ok = d.notification(m)
			return ok
		case 5:
			var ok bool
			android, ok = d.android(m, &androidData)
			return ok
		default: // accepted and not inspected: output-only name, other platforms, analytics label
			d.raw()
			return true
		}
	})
	if !ok {
		return nil, false
	}
	if len(androidData) > 0 { // android.data overrides message.data, wherever it stands
		m.fillData()
		if m.Data == nil {
			m.Data = make(map[string]string, len(androidData))
		}
		maps.Copy(m.Data, androidData)
	}
	if len(m.Data) == 0 {
		m.Data = nil // as parseSlow leaves an empty data
	}
	return android, true
}

// notification reads message.notification: title, body and image strings.
func (d *fastDecoder) notification(m *Message) (json.RawMessage, bool) {
	return d.object(fastNotification, func(i int) bool {
		var s string
		if d.Decode(&s) != nil {
			return false
		}
		if i != 2 { // the image URL does not count
			m.Size += len(s)
		}
		return true
	})
}

// android reads message.android, its data into *data.
func (d *fastDecoder) android(m *Message, data *map[string]string) (json.RawMessage, bool) {
	return d.object(fastAndroid, func(i int) bool {
		switch i {
		case 0:
			return d.Decode(&m.CollapseKey) == nil
		case 1:
			return d.Decode(&m.RestrictedPackageName) == nil
		case 2:
			var err *Error
			m.Priority, err = parsePriority(d.raw())
			return err == nil
		case 3:
			var ttl string
			if d.Decode(&ttl) != nil {
				return false
			}
			if ttl == "" {
				return true
			}
			var err *Error
			m.TTL, err = ParseTTL(ttl)
			m.HasTTL = err == nil
			return err == nil
		case 4:
			var ok bool
			*data, ok = d.stringMap() // not Decode(data): data would go to the heap
			return ok
		case 5, 6: // notification, fcm_options: objects passed through
			raw := d.raw()
			return raw[0] == '{' || raw[0] == 'n'
		default: // the *_ok flags
			var b bool
			return d.Decode(&b) == nil
		}
	})
}

// fastDecoder reads one body that json.Valid accepted: member names and
// the usual values (plain strings, booleans, string maps, raw objects)
// straight from the bytes, anything else with encoding/json. The strings
// it reads are slices of text, the body as a string: none is copied.
type fastDecoder struct {
	body []byte
	text string // string(body)
	i    int    // the next byte to read
}

// object reads an object whose member names are all in names, each at most
// once, and has value read the value of names[i]. It returns the object as
// sent.
func (d *fastDecoder) object(names []string, value func(i int) bool) (json.RawMessage, bool) {
	d.i = jsonscan.SkipSpace(d.body, d.i)
	if d.i >= len(d.body) || d.body[d.i] != '{' {
		return nil, false
	}
	start := d.i
	d.i++
	var seen uint16
	for {
		d.i = jsonscan.SkipSpace(d.body, d.i)
		if d.body[d.i] == '}' {
			break
		}
		i := slices.Index(names, d.name())
		if i < 0 || seen&(1<<i) != 0 || !value(i) {
			return nil, false
		}
		seen |= 1 << i
		if d.i = jsonscan.SkipSpace(d.body, d.i); d.body[d.i] == ',' {
			d.i++
		}
	}
	d.i++
	return d.body[start:d.i], true
}

// name reads a member name and the colon after it.
func (d *fastDecoder) name() string {
	start, end := d.i, jsonscan.ValueEnd(d.body, d.i)
	d.i = jsonscan.SkipSpace(d.body, end) + 1
	if s, ok := d.plain(start, end); ok {
		return s
	}
	var s string
	json.Unmarshal(d.body[start:end], &s) // valid JSON: cannot fail
	return s
}

// plain returns the string literal body[start:end] as a slice of text when
// nothing in it needs decoding (jsonscan.PlainString).
func (d *fastDecoder) plain(start, end int) (string, bool) {
	if !jsonscan.IsPlainString(d.body[start:end]) {
		return "", false
	}
	return d.text[start+1 : end-1], true
}

// raw reads the next value as sent.
func (d *fastDecoder) raw() []byte {
	start := jsonscan.SkipSpace(d.body, d.i)
	d.i = jsonscan.ValueEnd(d.body, start)
	return d.body[start:d.i]
}

// Decode reads the next value into v as json.Unmarshal would.
func (d *fastDecoder) Decode(v any) error {
	start := jsonscan.SkipSpace(d.body, d.i)
	end := jsonscan.ValueEnd(d.body, start)
	raw := d.body[start:end]
	d.i = end
	switch p := v.(type) {
	case *string:
		if s, ok := d.plain(start, end); ok {
			*p = s
			return nil
		}
	case *bool:
		switch string(raw) {
		case "true":
			*p = true
			return nil
		case "false":
			*p = false
			return nil
		}
	case *json.RawMessage:
		*p = append((*p)[:0], raw...)
		return nil
	case *map[string]string:
		if *p == nil {
			if m, ok := d.plainStringMap(start); ok {
				*p = m
				return nil
			}
		}
	}
	return json.Unmarshal(raw, v)
}

// sortedData reads the next value as sent if it is an object laid out as
// json.Marshal writes a map[string]string — no white space, the names in
// ascending order, names and values printable ASCII that needs no escapes
// (jsonscan.NeedsNoEscape) — as the firebase SDKs send message.data.
// Anything else is left unread. An empty object is "".
func (d *fastDecoder) sortedData() (string, bool) {
	start := jsonscan.SkipSpace(d.body, d.i)
	if d.body[start] != '{' {
		return "", false
	}
	end := jsonscan.ValueEnd(d.body, start)
	s := d.text[start:end]
	if s != "{}" && !isSortedData(s) {
		return "", false
	}
	d.i = end
	return strings.TrimSuffix(s, "{}"), true
}

// isSortedData reports whether the object s (valid JSON, not empty) is laid
// out as sortedData wants it.
func isSortedData(s string) bool {
	prev := ""
	for i, first := 1, true; ; first = false {
		name, next, ok := sortedString(s, i)
		if !ok || !first && name <= prev || s[next] != ':' {
			return false
		}
		if _, i, ok = sortedString(s, next+1); !ok {
			return false
		}
		switch {
		case s[i] == '}':
			return i == len(s)-1
		case s[i] != ',':
			return false
		}
		prev, i = name, i+1
	}
}

// sortedString reads the string literal at s[i] if it needs no escapes; it
// returns what is between the quotes and the index after them.
func sortedString(s string, i int) (string, int, bool) {
	if s[i] != '"' {
		return "", 0, false
	}
	n := strings.IndexByte(s[i+1:], '"')
	if n < 0 || !jsonscan.NeedsNoEscape(s[i+1:i+1+n]) {
		return "", 0, false
	}
	return s[i+1 : i+1+n], i + n + 2, true
}

// sortedMembers iterates over the members of an object sortedData took:
// each name and value lies between two quotes.
func sortedMembers(s string) iter.Seq2[string, string] {
	return func(yield func(k, v string) bool) {
		for len(s) > 2 { // at {" or ," of the next member
			k, rest, _ := strings.Cut(s[2:], `":"`)
			v, rest, _ := strings.Cut(rest, `"`)
			if !yield(k, v) {
				return
			}
			s = rest
		}
	}
}

// dataValue is the message's data value for key, from Data or sortedData.
func (m *Message) dataValue(key string) string {
	for k, v := range sortedMembers(m.sortedData) {
		if k == key {
			return v
		}
	}
	return m.Data[key]
}

// fillData makes Data of sortedData.
func (m *Message) fillData() {
	if m.sortedData != "" {
		m.Data = maps.Collect(sortedMembers(m.sortedData))
		m.sortedData = ""
	}
}

// stringMap reads a string map, as Decode of a nil map does.
func (d *fastDecoder) stringMap() (map[string]string, bool) {
	start := jsonscan.SkipSpace(d.body, d.i)
	d.i = jsonscan.ValueEnd(d.body, start)
	if m, ok := d.plainStringMap(start); ok {
		return m, true
	}
	var m map[string]string
	return m, json.Unmarshal(d.body[start:d.i], &m) == nil
}

// plainStringMap reads the object at body[start:] if its members are all
// plain strings (jsonscan.PlainString); ok is false for anything else.
func (d *fastDecoder) plainStringMap(start int) (map[string]string, bool) {
	b := d.body
	if b[start] != '{' {
		return nil, false
	}
	m := map[string]string{}
	for i := jsonscan.SkipSpace(b, start+1); b[i] != '}'; {
		end := jsonscan.ValueEnd(b, i)
		k, ok := d.plain(i, end)
		if !ok {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, jsonscan.SkipSpace(b, end)+1)
		end = jsonscan.ValueEnd(b, i)
		v, ok := d.plain(i, end)
		if !ok {
			return nil, false
		}
		m[k] = v
		if i = jsonscan.SkipSpace(b, end); b[i] == ',' {
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	return m, true
}

// marshalPayload is json.Marshal of the payload struct finish builds, written
// out by hand for the usual contents (the sorted data keys, the raw objects
// compacted) and left to encoding/json for anything it would escape.
// The data is either the map or sorted, the data object as sent if
// sortedData took it: json.Marshal's layout of that map already.
func marshalPayload(data map[string]string, sorted string, notification, android json.RawMessage) ([]byte, error) {
	if b, ok := appendPayload(data, sorted, notification, android); ok {
		return b, nil
	}
	if sorted != "" { // a raw object encoding/json writes otherwise
		data = maps.Collect(sortedMembers(sorted))
	}
	return json.Marshal(struct {
		Data         map[string]string `json:"data,omitempty"`
		Notification json.RawMessage   `json:"notification,omitempty"`
		Android      json.RawMessage   `json:"android,omitempty"`
	}{data, notification, android})
}

func appendPayload(data map[string]string, sorted string, notification, android json.RawMessage) ([]byte, bool) {
	n := 2 + len(sorted) + len(notification) + len(android) + 32
	var arr [8]string // the usual data fits; more go to the heap
	keys := arr[:0]
	for k, v := range data {
		if !jsonscan.NeedsNoEscape(k) || !jsonscan.NeedsNoEscape(v) {
			return nil, false
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	slices.Sort(keys) // as encoding/json orders map keys
	b := make([]byte, 0, n)
	b = append(b, '{')
	if sorted != "" {
		b = append(b, `"data":`...)
		b = append(b, sorted...)
	}
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
	b, ok := appendRaw(b, `"notification":`, notification)
	if !ok {
		return nil, false
	}
	if b, ok = appendRaw(b, `"android":`, android); !ok {
		return nil, false
	}
	return append(b, '}'), true
}

// rawTraits reports, in one pass, whether raw holds a character
// encoding/json escapes in a RawMessage (<, >, &, U+2028, U+2029) and
// whether it holds white space (which json.Compact may drop).
func rawTraits(raw []byte) (escapes, space bool) {
	for i, c := range raw {
		switch c {
		case '<', '>', '&':
			return true, space
		case ' ', '\t', '\r', '\n':
			space = true
		case 0xe2: // U+2028 and U+2029 are e2 80 a8 and e2 80 a9
			if i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xa8 {
				return true, space
			}
		}
	}
	return false, space
}

// appendRaw appends a raw object member, compacted, unless it is empty.
func appendRaw(b []byte, name string, raw json.RawMessage) ([]byte, bool) {
	if len(raw) == 0 {
		return b, true
	}
	escapes, space := rawTraits(raw)
	if escapes {
		return nil, false
	}
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = append(b, name...)
	if !space { // compact already, as the SDKs send it
		return append(b, raw...), true
	}
	buf := bytes.NewBuffer(b)
	if json.Compact(buf, raw) != nil {
		return nil, false
	}
	return buf.Bytes(), true
}
