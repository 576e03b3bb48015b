package proxy

import (
	"bytes"
	"encoding/json"
	"testing"

	"firebase.google.com/go/v4/messaging"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/payload"

	"github.com/pushlab/pushlab/mmpush"
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
	b.Run("apns", func(b *testing.B) {
		a := &apnsSender{settings: ApplePushSettings{ApplePushTopic: "com.example.app"}}
		n := msg(typeAppleToken, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ack-bench")
		n.Signature = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJhY2tfaWQiOiJhY2stYmVuY2gifQ.c2lnbmF0dXJl"
		b.ReportAllocs()
		for b.Loop() {
			if d := a.build(&n, 2, true); len(d.payload) == 0 {
				b.Fatal("empty payload")
			}
		}
	})
}

// apnsOracle is the same payload as apns2's payload.Payload marshals it:
// p's aps dictionary set again through apns2's payload builder, then p's
// custom keys.
func apnsOracle(t testing.TB, p *apnsPayload) []byte {
	pp := p.aps.builder()
	for _, c := range p.custom {
		if c.isB {
			pp.Custom(c.key, c.b)
		} else {
			pp.Custom(c.key, c.str)
		}
	}
	b, err := json.Marshal(pp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// builder sets d again through apns2's payload builder, with its setters.
func (d *apsDict) builder() *payload.Payload {
	p := payload.NewPayload()
	switch {
	case d.alertDict:
		if d.alertBody != "" {
			p.AlertBody(d.alertBody)
		}
		if d.alertTitle != "" {
			p.AlertTitle(d.alertTitle)
		}
		if d.alertBody == "" && d.alertTitle == "" {
			p.AlertBody("")
		}
	case d.alertSet:
		p.Alert(d.alert)
	}
	if d.badgeSet {
		p.Badge(d.badge)
	}
	if d.category != "" {
		p.Category(d.category)
	}
	if d.contentAvailable {
		p.ContentAvailable()
	}
	if d.mutableContent {
		p.MutableContent()
	}
	if d.soundSet {
		p.Sound(d.sound)
	}
	if d.threadID != "" {
		p.ThreadID(d.threadID)
	}
	return p
}

// An APNs payload is byte for byte what apns2's payload builder gives, for
// every layout and whatever the strings hold.
func TestAPNsPayloadIsPayloadBuilder(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\x00\x1f",
		"héllo 🙂 :smile:", "\u2028", "bad utf8 \xff"} {
		for _, typ := range []string{mmpush.TypeMessage, mmpush.TypeClear, mmpush.TypeUpdateBadge, mmpush.TypeSession, mmpush.TypeTest} {
			for _, variant := range []string{"", "id_loaded", "voip", "v1", "crt", "empty"} {
				n := msg(typeAppleToken, "token"+s, "ack"+s)
				n.Type, n.Message, n.ChannelName, n.SenderName, n.RootID = typ, s, s, s, s
				n.OverrideUsername, n.FromWebhook = s, s
				var notif *apns2.Notification
				switch variant {
				case "id_loaded":
					n.IsIDLoaded = true
				case "v1":
					n.Version = ""
				case "crt":
					n.IsCRTEnabled = true
				case "empty":
					n = mmpush.PushNotification{Type: typ, Badge: -1}
				}
				if variant == "voip" {
					notif = buildVoIP(&n, "topic")
				} else {
					notif = buildAPNs(&n, 2, "topic")
				}
				p := notif.Payload.(*apnsPayload)
				got, err := p.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				viaJSON, _ := json.Marshal(p)
				if want := apnsOracle(t, p); !bytes.Equal(got, want) || !bytes.Equal(viaJSON, want) {
					t.Errorf("%s %s %q:\n got %s\nwant %s", typ, variant, s, got, want)
				}
			}
		}
	}
}

func FuzzAPNsPayload(f *testing.F) {
	f.Add("k", "v", true)
	f.Add("aps", "\xff<", false)
	f.Add("", "", false)
	f.Fuzz(func(t *testing.T, k, v string, b bool) {
		if k == "aps" {
			return // the aps dictionary's own key, never custom
		}
		p := newAPNsPayload()
		p.aps.AlertBody(v).Badge(1)
		p.Custom(k, v).Custom(k+"_b", b).Custom("ack_id", v)
		got, _ := p.MarshalJSON()
		if want := apnsOracle(t, p); !bytes.Equal(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// The aps dictionary marshals as apns2's builder does after the same calls,
// in the same order, whatever the strings and the calls.
func FuzzAPSDict(f *testing.F) {
	f.Add("alert", "body", "title", "cat", "default", "thread", 3, uint16(0xffff))
	f.Add("", "", "", "", "", "", 0, uint16(0x3))
	f.Add("<&>", "\xff\u2028", "\"\\", "é", "🙂", "\x00", -7, uint16(0x155))
	f.Fuzz(func(t *testing.T, alert, body, title, category, sound, thread string, badge int, calls uint16) {
		var d apsDict
		p := payload.NewPayload()
		for i := range 10 {
			if calls&(1<<i) == 0 {
				continue
			}
			switch i {
			case 0:
				d.Alert(alert)
				p.Alert(alert)
			case 1:
				d.AlertBody(body)
				p.AlertBody(body)
			case 2:
				d.AlertTitle(title)
				p.AlertTitle(title)
			case 3:
				d.Badge(badge)
				p.Badge(badge)
			case 4:
				d.Category(category)
				p.Category(category)
			case 5:
				d.ContentAvailable()
				p.ContentAvailable()
			case 6:
				d.MutableContent()
				p.MutableContent()
			case 7:
				d.Sound(sound)
				p.Sound(sound)
			case 8:
				d.ThreadID(thread)
				p.ThreadID(thread)
			case 9: // a string alert after a dictionary one
				d.Alert(body)
				p.Alert(body)
			}
		}
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := append(append([]byte(`{"aps":`), d.appendJSON(nil)...), '}'); !bytes.Equal(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}
