// Package liveactivity reads ActivityKit push payloads (apns-push-type
// liveactivity) the way iOS does, and keeps the state of Live Activities
// on a simulated device. mockapns uses it to describe what it accepts;
// devicesim to start, update and end activities from pushes.
//
// The payload, per Apple's "Starting and updating Live Activities with
// ActivityKit push notifications":
//
//	{"aps":{
//	  "timestamp": 1700000000,           // unix seconds, required
//	  "event": "start"|"update"|"end",   // required
//	  "content-state": {…},              // the ContentState; required for start and update
//	  "stale-date": 1700003600,          // optional: the activity turns stale then
//	  "dismissal-date": 1700007200,      // optional, end only: removed then (default: up to 4 hours after end)
//	  "relevance-score": 100,            // optional number: order among the app's activities
//	  "attributes-type": "MatchAttributes", // start only, required
//	  "attributes": {…},                 // start only, required
//	  "input-push-token": 1,             // start: ask for an update token (iOS 17.2)
//	  "input-push-channel": "…",         // start: subscribe to a broadcast channel (iOS 18)
//	  "alert": {…}                       // optional: shown with the update
//	}}
//
// iOS discards an update whose timestamp is not newer than the last one it
// applied (Apple's forum answer: also one more than 8 hours ahead), and an
// activity lives at most 8 hours active, then up to 4 hours ended on the
// Lock Screen.
package liveactivity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Events of a Live Activity push.
const (
	EventStart  = "start"
	EventUpdate = "update"
	EventEnd    = "end"
)

// Lifetimes iOS gives an activity.
const (
	MaxActive      = 8 * time.Hour // "A Live Activity can be active for up to eight hours"
	MaxEndedShown  = 4 * time.Hour // then "up to four hours" on the Lock Screen once ended
	MaxFutureSkew  = 8 * time.Hour // timestamps further ahead are dropped
	MaxPayloadSize = 4096          // bytes, as every push type but voip
)

// Payload is a parsed Live Activity push.
type Payload struct {
	Timestamp      int64           `json:"timestamp"`
	Event          string          `json:"event"`
	ContentState   json.RawMessage `json:"content_state,omitempty"`
	StaleDate      int64           `json:"stale_date,omitempty"`
	DismissalDate  int64           `json:"dismissal_date,omitempty"`
	RelevanceScore *float64        `json:"relevance_score,omitempty"`
	AttributesType string          `json:"attributes_type,omitempty"`
	Attributes     json.RawMessage `json:"attributes,omitempty"`
	InputPushToken bool            `json:"input_push_token,omitempty"`
	InputChannel   string          `json:"input_push_channel,omitempty"`
	Alert          json.RawMessage `json:"alert,omitempty"`
}

// ErrPayload wraps every reason a payload is not a Live Activity push iOS would apply.
var ErrPayload = errors.New("liveactivity: bad payload")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPayload, fmt.Sprintf(format, args...))
}

// Parse reads a Live Activity push payload and checks it as iOS does.
func Parse(payload []byte) (Payload, error) {
	var top struct {
		APS map[string]json.RawMessage `json:"aps"`
	}
	if err := json.Unmarshal(payload, &top); err != nil {
		return Payload{}, bad("not JSON: %v", err)
	}
	if top.APS == nil {
		return Payload{}, bad("no aps dictionary")
	}
	aps := top.APS
	var p Payload
	var err error
	if p.Timestamp, err = unixField(aps, "timestamp", true); err != nil {
		return Payload{}, err
	}
	if raw, ok := aps["event"]; !ok || json.Unmarshal(raw, &p.Event) != nil {
		return Payload{}, bad("aps.event must be a string")
	}
	switch p.Event {
	case EventStart, EventUpdate, EventEnd:
	default:
		return Payload{}, bad("aps.event %q is not start, update or end", p.Event)
	}
	if raw, ok := aps["content-state"]; ok {
		if !isObject(raw) {
			return Payload{}, bad("aps.content-state must be a dictionary")
		}
		p.ContentState = compact(raw)
	} else if p.Event != EventEnd {
		return Payload{}, bad("aps.content-state is required for %s", p.Event)
	}
	if p.StaleDate, err = unixField(aps, "stale-date", false); err != nil {
		return Payload{}, err
	}
	if p.DismissalDate, err = unixField(aps, "dismissal-date", false); err != nil {
		return Payload{}, err
	}
	if p.DismissalDate != 0 && p.Event != EventEnd {
		return Payload{}, bad("aps.dismissal-date only goes with end")
	}
	if raw, ok := aps["relevance-score"]; ok {
		var v float64
		if json.Unmarshal(raw, &v) != nil {
			return Payload{}, bad("aps.relevance-score must be a number")
		}
		p.RelevanceScore = &v
	}
	_, hasType := aps["attributes-type"]
	_, hasAttrs := aps["attributes"]
	if p.Event == EventStart {
		if json.Unmarshal(aps["attributes-type"], &p.AttributesType) != nil || p.AttributesType == "" {
			return Payload{}, bad("start needs aps.attributes-type, a string")
		}
		if !isObject(aps["attributes"]) {
			return Payload{}, bad("start needs aps.attributes, a dictionary")
		}
		p.Attributes = compact(aps["attributes"])
		if raw, ok := aps["input-push-token"]; ok {
			var v int
			if json.Unmarshal(raw, &v) != nil || v != 1 {
				return Payload{}, bad("aps.input-push-token must be 1")
			}
			p.InputPushToken = true
		}
		if raw, ok := aps["input-push-channel"]; ok {
			if json.Unmarshal(raw, &p.InputChannel) != nil || p.InputChannel == "" {
				return Payload{}, bad("aps.input-push-channel must be a channel id")
			}
		}
	} else if hasType || hasAttrs {
		return Payload{}, bad("aps.attributes-type and aps.attributes only go with start")
	}
	if raw, ok := aps["alert"]; ok {
		p.Alert = compact(raw)
	}
	return p, nil
}

// unixField reads aps[name] as integer unix seconds.
func unixField(aps map[string]json.RawMessage, name string, required bool) (int64, error) {
	raw, ok := aps[name]
	if !ok {
		if required {
			return 0, bad("aps.%s is required", name)
		}
		return 0, nil
	}
	var v int64
	if err := json.Unmarshal(raw, &v); err != nil || v <= 0 {
		return 0, bad("aps.%s must be unix seconds, a positive integer", name)
	}
	return v, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}
