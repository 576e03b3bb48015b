package devicesim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// parseAPNsDecoding is parseAPNs as it was, decoding into maps: the reference the walk is fuzzed against. It reads an APNs payload: the aps dictionary and Mattermost's
// top-level custom keys.
func parseAPNsDecoding(b []byte) (inbound, error) {
	in := inbound{Badge: -1}
	if len(b) > maxPayload {
		return in, fmt.Errorf("%w: %d bytes", errPayload, len(b))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return in, fmt.Errorf("%w: %v", errPayload, err)
	}
	apsRaw, ok := top["aps"]
	if !ok {
		return in, fmt.Errorf("%w: no aps dictionary", errPayload)
	}
	var aps map[string]json.RawMessage
	if err := json.Unmarshal(apsRaw, &aps); err != nil || aps == nil {
		return in, fmt.Errorf("%w: aps is not a dictionary", errPayload)
	}
	if raw, ok := aps["alert"]; ok {
		var s string
		if len(raw) > 0 && raw[0] != '{' && json.Unmarshal(raw, &s) == nil {
			in.Body = s
		} else {
			var a struct{ Title, Subtitle, Body string }
			if err := json.Unmarshal(raw, &a); err != nil {
				return in, fmt.Errorf("%w: aps.alert: %v", errPayload, err)
			}
			in.Title, in.Subtitle, in.Body = a.Title, a.Subtitle, a.Body
		}
		in.HasAlert = in.Title != "" || in.Subtitle != "" || in.Body != ""
	}
	if raw, ok := aps["badge"]; ok {
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return in, fmt.Errorf("%w: aps.badge: %v", errPayload, err)
		}
		in.Badge = n
	}
	if raw, ok := aps["sound"]; ok {
		var s string
		if len(raw) > 0 && raw[0] == '{' || json.Unmarshal(raw, &s) != nil { // critical alerts: {"name":…}
			var d struct{ Name string }
			json.Unmarshal(raw, &d)
			s = d.Name
		}
		in.Sound = s
	}
	in.Category = looseString(aps["category"])
	in.Thread = looseString(aps["thread-id"])
	in.MutableContent = looseString(aps["mutable-content"]) == "1"
	in.ContentAvailable = looseString(aps["content-available"]) == "1"
	in.custom(func(k string) string { return looseString(top[k]) })
	_, in.Signed = top["signature"]
	in.Message = looseString(top["message"])
	in.ChannelName = looseString(top["channel_name"])
	in.takeEnvelope()
	return in, nil
}

// parseFCMDecoding is parseFCM as it was: the reference. It reads an FCM message as the app receives it: the data map (every
// value a string) and the optional notification block.
func parseFCMDecoding(b []byte) (inbound, error) {
	in := inbound{Badge: -1}
	if len(b) > maxPayload {
		return in, fmt.Errorf("%w: %d bytes", errPayload, len(b))
	}
	var msg struct {
		Data         map[string]string `json:"data"`
		Notification *struct {
			Title string `json:"title"`
			Body  string `json:"body"`
		} `json:"notification"`
		Android *struct {
			Notification *struct {
				Tag string `json:"tag"`
			} `json:"notification"`
		} `json:"android"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		return in, fmt.Errorf("%w: %v", errPayload, err)
	}
	if msg.Notification != nil {
		in.SystemNotification = true
		in.Title, in.Body = msg.Notification.Title, msg.Notification.Body
	}
	if a := msg.Android; a != nil && a.Notification != nil {
		in.SystemNotification = true
		in.Tag = a.Notification.Tag
	}
	d := msg.Data
	in.custom(func(k string) string { return d[k] })
	_, in.Signed = d["signature"]
	if s := d["badge"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return in, fmt.Errorf("%w: data.badge %q", errPayload, s)
		}
		in.Badge = n
	}
	in.Sound, in.Category = d["sound"], d["category"]
	in.Message, in.ChannelName = d["message"], d["channel_name"]
	in.takeEnvelope()
	return in, nil
}

// The walk reads every document as decoding it did: the same push, or the
// same error in the same words.
func FuzzParseAPNsIsDecoding(f *testing.F) {
	for _, s := range apnsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseAPNs(b)
		want, wantErr := parseAPNsDecoding(b)
		sameParse(t, b, in, err, want, wantErr)
	})
}

func FuzzParseFCMIsDecoding(f *testing.F) {
	for _, s := range fcmSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseFCM(b)
		want, wantErr := parseFCMDecoding(b)
		sameParse(t, b, in, err, want, wantErr)
	})
}

func sameParse(t *testing.T, b []byte, in inbound, err error, want inbound, wantErr error) {
	t.Helper()
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%q: error %v, decoding says %v", b, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(in, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", b, in, want)
	}
}

var apnsSeeds = []string{
	`{"aps":{"alert":"hi","mutable-content":1},"ack_id":"a"}`,
	`{"aps":{"alert":{"title":"T","subtitle":"S","body":"B"},"badge":4,"thread-id":"th","category":"CAN_REPLY"}}`,
	`{"aps":{"sound":{"name":"ping.caf","critical":1}}}`,
	`{"aps":{"content-available":1},"type":"clear"}`,
	`{"aps":{},"id_loaded":true}`,
	` { "aps" : { "alert" : "` + envelope + `" , "mutable-content" : 1 } , "message":"x" } `,
	`{"aps":{"alert":"v1.2 is out"}}`,
	`{"aps":null}`, `{}`, `null`, `[`, `{"aps":[1,{"a":"}"}]}`, `{"aps":"x"}`,
	`{"aps":{"alert":"a\u00e9\n"},"ack_id":"x","ack_id":"y","\u0061ck_id":"z"}`,
	`{"aps":{"badge":"1"}}`, `{"aps":{"badge":1.5}}`, `{"aps":{"badge":-0}}`, `{"aps":{"badge":1e2}}`, `{"aps":{"badge":99999999999999999999}}`, `{"aps":{"alert":null,"sound":null}}`,
	`{"aps":{"alert":"\ud800"},"signature":null,"type":1e3,"channel_name":{"x":[]}}`,
	`{"aps":{"alert":"x"},"aps":{"alert":"y"}}`, "{\"aps\":{},\"ack_id\xff\":\"a\"}",
}

var fcmSeeds = []string{
	`{"data":{"ack_id":"a","message":"m","channel_name":"c","badge":"2","id_loaded":"true"},"android":{"priority":"high"}}`,
	`{"notification":{"title":"T","body":"B"}}`,
	`{"data":{"message":"` + envelope + `"}}`,
	`{"data":{"badge":"two"}}`, `{"data":{"badge":2}}`, `[`, `null`, `{"data":null}`, `"x"`,
	`{"Data":{"a":"b"}}`, `{"data":{"a":"1"},"data":{"b":"2"}}`, `{"DATA":{"signature":""},"data":{}}`,
	`{"android":{"notification":{"tag":"t"}},"notification":null}`, `{"android":{"notification":{"tag":1}}}`,
	`{"notification":{"title":"a"},"notification":{"body":"b"}}`, `{"data":{"message":"a\"b\u00e9","k\u0065y":"v"}}`,
	`{"data":"x"}`, `{"data":{"x":null}}`, "{\"data\":{\"message\":\"\xff\"}}", ` {"data" : { "ack_id" : "a" } } `,
}

// BenchmarkParse reads pushes laid out as the proxy lays them out (full
// contents sealed), by the walk and by the decoding it replaced.
func BenchmarkParse(b *testing.B) {
	sig := "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0." + strings.Repeat("eyJhY2tfaWQiOiJ4In0", 6) + "." + strings.Repeat("MEUCIQ", 14)
	apns := []byte(`{"ack_id":"9x3hg8a1qfbt7kz6yyd5jcwqae","aps":{"alert":"` + envelope + `","badge":3,"category":"CAN_REPLY","content-available":1,"mutable-content":1,"sound":"default","thread-id":"k8o7dn3yqbfy3mx5hhwz1e4gsw"},"channel_id":"k8o7dn3yqbfy3mx5hhwz1e4gsw","is_crt_enabled":false,"post_id":"p3rqt7yq8jdmbx5ur1oa4hg6ne","server_id":"srv","signature":"` + sig + `","sub_type":"","type":"message","version":"v2"}`)
	fcm := []byte(`{"token":"t","data":{"ack_id":"9x3hg8a1qfbt7kz6yyd5jcwqae","badge":"3","category":"CAN_REPLY","channel_id":"k8o7dn3yqbfy3mx5hhwz1e4gsw","message":"` + envelope + `","post_id":"p3rqt7yq8jdmbx5ur1oa4hg6ne","server_id":"srv","signature":"` + sig + `","type":"message","version":"v2"},"android":{"priority":"high"}}`)
	for _, c := range []struct {
		name    string
		payload []byte
		parse   func([]byte) (inbound, error)
	}{
		{"apns/walk", apns, parseAPNs}, {"apns/decoding", apns, parseAPNsDecoding},
		{"fcm/walk", fcm, parseFCM}, {"fcm/decoding", fcm, parseFCMDecoding},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if in, err := c.parse(c.payload); err != nil || in.Encrypted == "" {
					b.Fatal(err, in)
				}
			}
		})
	}
}
