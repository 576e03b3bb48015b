package mockfcm

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"
)

// FuzzFastMatchesSlow: whatever the one-pass parser accepts, the
// field-by-field parser accepts with the same result.
func FuzzFastMatchesSlow(f *testing.F) {
	for _, s := range []string{
		`{"message":{"token":"abc","data":{"a":"b"},"android":{"priority":"high","ttl":"1.5s","data":{"c":"d"}}}}`,
		`{"validate_only":true,"message":{"topic":"news","notification":{"title":"t","body":"b"}}}`,
		`{"message":{"condition":"'a' in topics","android":{"priority":2,"collapse_key":"k","notification":{"x":1}}}}`,
		`{"message":{"token":"a","apns":{"payload":{}},"webpush":null,"fcm_options":{"analytics_label":"x"}}}`,
		` { "message" : { "tok\u0065n" : "a\u0062" , "data" : { "k" : "v" , "k" : "w\"}" , "\u006b2" : "x\u00e9" } ,
		  "android" : { "data" : { } , "direct_boot_ok" : false , "ttl" : "" } } , "validate_only" : null } `,
		`{"message":{"token":"a","data":{"k":1}}}`,
		`{"message":{"token":"a","data":null,"android":{"data":{"k":"v"}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := parseFast(body, string(body))
		if !ok {
			return
		}
		slow, err := parseSlow(body)
		if err != nil {
			t.Fatalf("fast took it, slow refused: %v", err)
		}
		a, b := fast.Message, slow.Message
		if fast.ValidateOnly != slow.ValidateOnly || a.Token != b.Token || a.Topic != b.Topic || a.Condition != b.Condition ||
			a.Priority != b.Priority || a.TTL != b.TTL || a.HasTTL != b.HasTTL || a.CollapseKey != b.CollapseKey ||
			a.RestrictedPackageName != b.RestrictedPackageName || a.Size != b.Size || !maps.Equal(a.Data, b.Data) {
			t.Fatalf("fast %+v\nslow %+v", a, b)
		}
		if !bytes.Equal(a.Payload, b.Payload) && !jsonEqual(a.Payload, b.Payload) {
			t.Fatalf("payloads differ:\n%s\n%s", a.Payload, b.Payload)
		}
	})
}

func jsonEqual(x, y []byte) bool {
	var a, b any
	if json.Unmarshal(x, &a) != nil || json.Unmarshal(y, &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestFastTakesTheUsual: the bodies the SDKs and the benchmark send stay on
// the fast path (the slow one would answer the same, only slower).
func TestFastTakesTheUsual(t *testing.T) {
	for name, body := range map[string]string{
		"bench":        `{"message":{"token":"abc","data":{"ack_id":"x","message":"hello","type":"message","server_id":"s1"},"android":{"priority":"high"}}}`,
		"sdk":          `{"message":{"android":{"priority":"high"},"data":{"ack_id":"x","message":"hello from the benchmark"},"token":"abc"}}`,
		"notification": `{"validate_only":true,"message":{"topic":"news","notification":{"title":"t","body":"b","image":"https://x/i.png"},"android":{"ttl":"3600s","collapse_key":"k","notification":{"icon":"i"}}}}`,
		"apns":         "{\n \"message\": {\"token\":\"abc\",\"apns\":{\"payload\":{\"aps\":{\"alert\":\"\\u003chi\\u003e\"}}},\"webpush\":{\"headers\":{}},\"fcm_options\":{\"analytics_label\":\"l\"}}}",
	} {
		if _, ok := parseFast([]byte(body), body); !ok {
			t.Errorf("%s: not taken by the fast path", name)
		}
	}
}

// FuzzPayload: the hand-written payload is what json.Marshal would write.
func FuzzPayload(f *testing.F) {
	f.Add("ack_id", "x", "k2", "héllo <b>", []byte(`{"title": "a"}`), []byte(` {"priority":"high", "data":{"a":"&"}}`))
	f.Add("", "", "a", "b", []byte(nil), []byte(`{}`))
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, notification, android []byte) {
		if (len(notification) > 0 && !json.Valid(notification)) || (len(android) > 0 && !json.Valid(android)) {
			return
		}
		data := map[string]string{k1: v1, k2: v2}
		if k1 == "" {
			data = nil
		}
		want, err := json.Marshal(struct {
			Data         map[string]string `json:"data,omitempty"`
			Notification json.RawMessage   `json:"notification,omitempty"`
			Android      json.RawMessage   `json:"android,omitempty"`
		}{data, notification, android})
		if err != nil {
			return
		}
		got, err := marshalPayload(data, notification, android)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s", got, err, want)
		}
	})
}
