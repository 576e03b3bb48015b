package proxy

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/pushlab/pushlab/internal/jsonscan"
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
	if !jsonscan.NeedsNoEscape(s) {
		q, _ := json.Marshal(s) // a string always marshals
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// apnsPayload is an APNs payload as apns2's payload.Payload lays it out
// (keys sorted, "aps" among them), written without encoding/json's
// reflection over a map of interfaces: aps is the aps dictionary, custom the
// top-level keys (string or bool values).
type apnsPayload struct {
	aps    apsDict
	custom []apnsCustom
}

type apnsCustom struct {
	key string
	str string
	b   bool
	isB bool
}

// apsDict is the part of apns2's aps dictionary the layouts use, set by
// methods of payload.Payload's names and meaning, and marshalled as
// encoding/json marshals apns2's aps struct: its fields in their order,
// empty ones left out, an alert that is a string or a dictionary of body
// and title, a badge that is left out only when never set.
type apsDict struct {
	alert            string
	alertDict        bool // the alert is {"body","title"}, not alert
	alertBody        string
	alertTitle       string
	alertSet         bool
	badge            int
	badgeSet         bool
	category         string
	contentAvailable bool
	mutableContent   bool
	sound            string
	soundSet         bool // a sound is an interface in apns2: "" is kept
	threadID         string
}

// Alert sets the alert to a string, as payload.Payload.Alert(string).
func (d *apsDict) Alert(alert string) *apsDict {
	d.alert, d.alertDict, d.alertBody, d.alertTitle, d.alertSet = alert, false, "", "", true
	return d
}

// AlertBody and AlertTitle make the alert a dictionary (dropping a string
// alert), as payload.Payload's do.
func (d *apsDict) AlertBody(body string) *apsDict {
	d.dict()
	d.alertBody = body
	return d
}

func (d *apsDict) AlertTitle(title string) *apsDict {
	d.dict()
	d.alertTitle = title
	return d
}

func (d *apsDict) dict() {
	if !d.alertDict {
		d.alert, d.alertDict, d.alertSet = "", true, true
	}
}

func (d *apsDict) Badge(b int) *apsDict              { d.badge, d.badgeSet = b, true; return d }
func (d *apsDict) Category(c string) *apsDict        { d.category = c; return d }
func (d *apsDict) ContentAvailable() *apsDict        { d.contentAvailable = true; return d }
func (d *apsDict) MutableContent() *apsDict          { d.mutableContent = true; return d }
func (d *apsDict) Sound(sound string) *apsDict       { d.sound, d.soundSet = sound, true; return d }
func (d *apsDict) ThreadID(threadID string) *apsDict { d.threadID = threadID; return d }

// appendJSON appends the dictionary as a JSON object.
func (d *apsDict) appendJSON(b []byte) []byte {
	b = append(b, '{')
	start := len(b)
	key := func(b []byte, k string) []byte {
		if len(b) > start {
			b = append(b, ',')
		}
		return append(append(append(b, '"'), k...), `":`...)
	}
	if d.alertSet {
		b = key(b, "alert")
		if d.alertDict {
			b = append(b, '{')
			if d.alertBody != "" {
				b = appendJSONString(append(b, `"body":`...), d.alertBody)
			}
			if d.alertTitle != "" {
				if d.alertBody != "" {
					b = append(b, ',')
				}
				b = appendJSONString(append(b, `"title":`...), d.alertTitle)
			}
			b = append(b, '}')
		} else {
			b = appendJSONString(b, d.alert)
		}
	}
	if d.badgeSet {
		b = strconv.AppendInt(key(b, "badge"), int64(d.badge), 10)
	}
	if d.category != "" {
		b = appendJSONString(key(b, "category"), d.category)
	}
	if d.contentAvailable {
		b = append(key(b, "content-available"), '1')
	}
	if d.mutableContent {
		b = append(key(b, "mutable-content"), '1')
	}
	if d.soundSet {
		b = appendJSONString(key(b, "sound"), d.sound)
	}
	if d.threadID != "" {
		b = appendJSONString(key(b, "thread-id"), d.threadID)
	}
	return append(b, '}')
}

func newAPNsPayload() *apnsPayload {
	return &apnsPayload{custom: make([]apnsCustom, 0, 20)}
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
	// Sorted by an index of the keys, not in place: moving the entries
	// (strings: pointers) costs a write barrier each while the GC runs.
	var inline [24]int
	order := inline[:0]
	size := 160 + len(p.aps.alert) + len(p.aps.alertBody) + len(p.aps.alertTitle) + len(p.aps.threadID)
	for i, c := range p.custom {
		size += len(c.key) + len(c.str) + 8
		order = append(order, i)
		for j := len(order) - 1; j > 0 && p.custom[order[j-1]].key > c.key; j-- {
			order[j-1], order[j] = order[j], order[j-1]
		}
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	apsDone := false
	for _, i := range order {
		c := &p.custom[i]
		if !apsDone && c.key > "aps" {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = p.aps.appendJSON(append(b, `"aps":`...))
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
		b = p.aps.appendJSON(append(b, `"aps":`...))
	}
	return append(b, '}'), nil
}
