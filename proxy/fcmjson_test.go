package proxy

import (
	"bytes"
	"encoding/json"
	"testing"

	"firebase.google.com/go/v4/messaging"
)

// The event excerpt of an FCM push is the bytes json.Marshal gives the
// SDK's message, whatever the strings hold.
func TestFCMDataMessageJSONIsJSONMarshal(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\r\x00\x1f\b\f",
		"héllo 🙂 :smile:", "\u2028\u2029", "bad utf8 \xff\xfe", "\x7f del"} {
		n := msg(typeAndroid, "token-"+s, "ack-"+s)
		n.Message, n.ChannelName, n.SenderName, n.OverrideUsername = s, s, s, s
		for _, idLoaded := range []bool{false, true} {
			n.IsIDLoaded = idLoaded
			data := buildFCMData(&n)
			for _, tok := range []string{n.DeviceID, ""} {
				want, err := json.Marshal(&messaging.Message{Token: tok, Data: data, Android: &messaging.AndroidConfig{Priority: "high"}})
				if err != nil {
					t.Fatal(err)
				}
				if got := fcmDataMessageJSON(data, tok); !bytes.Equal(got, want) {
					t.Errorf("%q:\n got %s\nwant %s", s, got, want)
				}
			}
		}
	}
	want, _ := json.Marshal(&messaging.Message{Android: &messaging.AndroidConfig{Priority: "high"}})
	if got := fcmDataMessageJSON(nil, ""); !bytes.Equal(got, want) {
		t.Errorf("empty: got %s, want %s", got, want)
	}
}

func FuzzFCMDataMessageJSON(f *testing.F) {
	f.Add("k", "v", "token")
	f.Add("<key>", "\xff\u2028\"", "")
	f.Fuzz(func(t *testing.T, k, v, tok string) {
		data := map[string]string{k: v, "ack_id": v + k}
		want, _ := json.Marshal(&messaging.Message{Token: tok, Data: data, Android: &messaging.AndroidConfig{Priority: "high"}})
		if got := fcmDataMessageJSON(data, tok); !bytes.Equal(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// BenchmarkBuild is one send_push's provider layout (the event excerpt
// included), per provider.
func BenchmarkBuild(b *testing.B) {
	n := msg(typeAndroid, "fcm-token-0123456789abcdef0123456789abcdef", "ack-bench")
	n.Signature = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJhY2tfaWQiOiJhY2stYmVuY2gifQ.c2lnbmF0dXJl"
	b.Run("fcm", func(b *testing.B) {
		f := &fcmSender{}
		b.ReportAllocs()
		for b.Loop() {
			if d := f.build(&n, 2, true); len(d.payload) == 0 {
				b.Fatal("empty payload")
			}
		}
	})
}
