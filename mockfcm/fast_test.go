package mockfcm

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
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
		fast, slow := &SendRequest{}, &SendRequest{}
		if !parseFast(body, string(body), fast) {
			return
		}
		if err := parseSlow(body, slow); err != nil {
			t.Fatalf("fast took it, slow refused: %v", err)
		}
		fast.Message.fillData()
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
		if !parseFast([]byte(body), body, &SendRequest{}) {
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
		got, err := marshalPayload(data, "", notification, android)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s", got, err, want)
		}
	})
}

// FuzzSortedData: what sortedData takes is a string map laid out as
// json.Marshal writes it, members as encoding/json decodes them, and the
// payload made of it as sent is the one made of the decoded map, byte for
// byte.
func FuzzSortedData(f *testing.F) {
	for _, s := range []string{
		`{"ack_id":"x","message":"benchmark notification","type":"message"}`, `{}`, ` {"a":"b"} `, `{"":"","a":""}`,
		`{"b":"1","a":"2"}`, `{"a":"1","a":"2"}`, `{"a":"<"}`, `{"a":"\u0062"}`, `{"a":"é"}`, `{ "a":"b"}`, `{"a":1}`,
		`{"a":"b","c":{"d":"e"}}`, `[]`, `"{}"`,
	} {
		f.Add(s, []byte(`{"title":"t"}`), []byte(`{"priority":"high"}`))
	}
	f.Add(`{"k":"v"}`, []byte(nil), []byte(`{"notification":{"body":"<b>"}}`))
	f.Fuzz(func(t *testing.T, data string, notification, android []byte) {
		if !json.Valid([]byte(data)) {
			return // sortedData reads a value of a body jsonscan.Valid took
		}
		d := &fastDecoder{body: []byte(data), text: data}
		sorted, ok := d.sortedData()
		if !ok {
			if d.i != 0 {
				t.Fatalf("refused %s and read it", data)
			}
			return
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("took %s: %v", data, err)
		}
		if got := maps.Collect(sortedMembers(sorted)); !maps.Equal(got, m) && len(m) > 0 {
			t.Fatalf("members %v, decoded %v", got, m)
		}
		if want, _ := json.Marshal(m); len(m) > 0 && string(want) != sorted || len(m) == 0 && sorted != "" {
			t.Fatalf("took %q as %q; json.Marshal writes %s", data, sorted, want)
		}
		if (len(notification) > 0 && !json.Valid(notification)) || (len(android) > 0 && !json.Valid(android)) {
			return
		}
		want, err := marshalPayload(m, "", notification, android)
		got, gerr := marshalPayload(nil, sorted, notification, android)
		if (err == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("payload %s (%v)\nwant %s (%v)", got, gerr, want, err)
		}
	})
}

// TestSDKDataInPlace: the data the firebase SDKs send (json.Marshal of a
// string map) goes to the device as sent, without a map on the send path;
// ParseSendRequest still gives it as Data.
func TestSDKDataInPlace(t *testing.T) {
	body := `{"message":{"data":{"ack_id":"x","message":"benchmark notification","type":"message"},"android":{"priority":"high"},"token":"abc"}}`
	req := &SendRequest{}
	if !parseFast([]byte(body), body, req) {
		t.Fatal("not taken by the fast path")
	}
	m := &req.Message
	if m.Data != nil || m.sortedData == "" {
		t.Fatalf("data decoded into a map: %v", m.Data)
	}
	if got := m.dataValue("ack_id"); got != "x" {
		t.Errorf("ack_id %q", got)
	}
	const payload = `{"data":{"ack_id":"x","message":"benchmark notification","type":"message"},"android":{"priority":"high"}}`
	if string(m.Payload) != payload || m.Size != len("ack_idxmessagebenchmark notificationtypemessage") {
		t.Errorf("payload %s size %d", m.Payload, m.Size)
	}
	pub, err := ParseSendRequest([]byte(body))
	if err != nil || !maps.Equal(pub.Message.Data, map[string]string{"ack_id": "x", "message": "benchmark notification", "type": "message"}) {
		t.Fatalf("ParseSendRequest: %v %v", pub, err)
	}
}

// TestRawTraits: rawTraits finds what bytes.ContainsAny finds, at any place.
func TestRawTraits(t *testing.T) {
	for _, raw := range []string{`{}`, `{"a":"<"}`, `{"a":">"}`, `{"a":"&"}`, "{\"a\":\"\u2028\"}", "{\"a\":\"x\u2029\"}",
		"{\"a\":\"\u2027\u202a\"}", `{"a": "b"}`, "{\"a\":\t1}", "{\"a\":\"\xe2\x80\"}", "\xe2", `{"é":"ü"}`} {
		escapes, space := rawTraits([]byte(raw))
		if escapes != strings.ContainsAny(raw, "<>&\u2028\u2029") || space != strings.ContainsAny(raw, " \t\r\n") && !escapes {
			t.Errorf("%q: escapes %v space %v", raw, escapes, space)
		}
	}
}
