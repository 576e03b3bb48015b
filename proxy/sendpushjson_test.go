package proxy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/mmpush"
)

// FuzzDecodePlain: whatever the body, a body decodePlain takes is what
// json.Unmarshal makes of it, field for field.
func FuzzDecodePlain(f *testing.F) {
	full, _ := json.Marshal(mmpush.PushNotification{AckID: "a", Platform: "apple_rn-v2", ServerID: "s", DeviceID: "d", PostID: "p",
		Category: "CAN_REPLY", Sound: "default", Message: "héllo", Badge: -1, ContentAvailable: 1, TeamID: "t", ChannelID: "c",
		RootID: "r", ChannelName: "town-square", Type: "message", SubType: "calls", SenderID: "u", SenderName: "bob",
		OverrideUsername: "o", OverrideIconURL: "https://x/y.png", FromWebhook: "true", Version: "v2", IsCRTEnabled: true,
		IsIDLoaded: true, Signature: "e.y.j", Transport: "voip"})
	for _, seed := range []string{
		string(full),
		` {"ack_id":"a","ack_id":"b","badge":0,"badge":-12,"is_id_loaded":false} `,
		`{"Ack_ID":"a"}`, `{"ack\u005fid":"a"}`, `{"ack_id":"a\"b"}`, `{"ack_id":null}`, `{"badge":1.0}`, `{"badge":1e2}`,
		`{"badge":9223372036854775808}`, `{"badge":"1"}`, `{"is_crt_enabled":"true"}`, `{"unknown":{"ack_id":"x"}}`,
		`{}`, `[]`, `null`, ``, `{`, `{"ack_id":"a"} {}`, "{\"message\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got mmpush.PushNotification
		if !decodePlain(body, &got) {
			return
		}
		var want mmpush.PushNotification
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("decodePlain took %q, json.Unmarshal refused it: %v", body, err)
		}
		if got != want {
			t.Fatalf("%q:\ndecodePlain    %+v\njson.Unmarshal %+v", body, got, want)
		}
	})
}

// The bodies servers send, every field set or few, take the fast path; the
// unusual ones go to encoding/json, and ParseSendPush answers the same.
func TestDecodePlainPaths(t *testing.T) {
	typical, _ := json.Marshal(msg(typeAppleToken+"-v2", "0123456789abcdef", "ack-1"))
	for _, c := range []struct {
		body  string
		plain bool
	}{
		{string(typical), true},
		{`{"platform":"apple","server_id":"s","device_id":"d","badge":-1,"is_id_loaded":true}`, true},
		{`{"platform":"apple","server_id":"s","device_id":"d","Badge":3}`, false},         // another case
		{`{"platform":"apple","server_id":"s","device_id":"d","message":"a\nb"}`, false},  // an escape
		{`{"platform":"apple","server_id":"s","device_id":"d","post_type":"x"}`, false},   // unknown
		{`{"platform":"apple","server_id":"s","device_id":"d","badge":null}`, false},      // null
		{`{"platform":"apple","server_id":"s","device_id":"d"} {"server_id":"x"}`, false}, // a second value
	} {
		var n mmpush.PushNotification
		if got := decodePlain([]byte(c.body), &n); got != c.plain {
			t.Errorf("decodePlain(%s) = %v, want %v", c.body, got, c.plain)
		}
		var want mmpush.PushNotification
		wantErr := json.NewDecoder(strings.NewReader(c.body)).Decode(&want)
		var got mmpush.PushNotification
		err := decodeFirst(strings.NewReader(c.body), &got)
		if (err == nil) != (wantErr == nil) || got != want {
			t.Errorf("decodeFirst(%s) = %+v, %v; want %+v, %v", c.body, got, err, want, wantErr)
		}
	}
}

// A field added to PushNotification must be read in place too: with every
// field set, decodePlain takes the body and agrees with json.Unmarshal.
func TestDecodePlainEveryField(t *testing.T) {
	var full mmpush.PushNotification
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("v" + v.Type().Field(i).Name)
		case reflect.Int:
			f.SetInt(int64(i + 1))
		case reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("PushNotification.%s: a %s, which decodePlain does not read", v.Type().Field(i).Name, f.Kind())
		}
	}
	body, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var got mmpush.PushNotification
	if !decodePlain(body, &got) {
		t.Fatalf("decodePlain refused %s: a field it does not know?", body)
	}
	if got != full {
		t.Fatalf("decodePlain read\n%+v\nfrom %s", got, body)
	}
}
