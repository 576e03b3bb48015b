package mmpush

import (
	"encoding/json"
	"testing"
)

// A zero notification carries exactly the fields model.PushNotification
// writes without omitempty.
func TestZeroPushNotificationJSON(t *testing.T) {
	b, err := json.Marshal(PushNotification{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ack_id":"","platform":"","server_id":"","device_id":"","post_id":"","is_crt_enabled":false,"is_id_loaded":false,"signature":""}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// Every field round-trips under its Mattermost JSON name.
func TestPushNotificationNames(t *testing.T) {
	in := `{"ack_id":"a","platform":"apple_rn-v2","server_id":"s","device_id":"d","post_id":"p","category":"CAN_REPLY",` +
		`"sound":"none","message":"m","badge":3,"cont_ava":1,"team_id":"t","channel_id":"c","root_id":"r","channel_name":"n",` +
		`"type":"message","sub_type":"calls","sender_id":"u","sender_name":"x","override_username":"o","override_icon_url":"i",` +
		`"from_webhook":"true","version":"v2","is_crt_enabled":true,"is_id_loaded":true,"signature":"sig","transport":"voip"}`
	var n PushNotification
	if err := json.Unmarshal([]byte(in), &n); err != nil {
		t.Fatal(err)
	}
	if n.SubType != SubTypeCalls || n.Transport != TransportVoIP || n.ContentAvailable != 1 || !n.IsIDLoaded {
		t.Fatalf("decoded %+v", n)
	}
	out, _ := json.Marshal(n)
	if string(out) != in {
		t.Fatalf("re-encoded\n%s\nwant\n%s", out, in)
	}
}

func TestAckJSON(t *testing.T) {
	b, _ := json.Marshal(Ack{ID: "a", ReceivedAt: 5, Platform: "ios", Type: TypeMessage})
	if want := `{"id":"a","received_at":5,"platform":"ios","type":"message","is_id_loaded":false}`; string(b) != want {
		t.Fatalf("got %s", b)
	}
}

// Upstream encodes a map: "error" sorts before "status".
func TestResponseJSON(t *testing.T) {
	for _, c := range []struct {
		r    Response
		want string
	}{
		{OK(), `{"status":"OK"}`},
		{Remove(), `{"status":"REMOVE"}`},
		{Fail("unknown transport error"), `{"error":"unknown transport error","status":"FAIL"}`},
	} {
		if got := c.r.String(); got != c.want {
			t.Errorf("got %s want %s", got, c.want)
		}
	}
}

func TestSplitDeviceID(t *testing.T) {
	for _, c := range []struct{ in, platform, token string }{
		{"apple_rn:abc", "apple_rn", "abc"},
		{"android_rn:x:y", "android_rn", "x:y"},
		{"abc", "", "abc"},
	} {
		if p, tok := SplitDeviceID(c.in); p != c.platform || tok != c.token {
			t.Errorf("%q: got %q %q", c.in, p, tok)
		}
	}
}
