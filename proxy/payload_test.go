package proxy

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sideshow/apns2"

	"github.com/pushlab/pushlab/mmpush"
)

// base is a message push as a Mattermost server sends it.
func base() mmpush.PushNotification {
	return mmpush.PushNotification{
		AckID: "ack1", Platform: "apple", ServerID: "srv", DeviceID: "tok", PostID: "post1",
		Category: "CAN_REPLY", Message: "hello :smile:", Badge: 3, TeamID: "team1", ChannelID: "chan1",
		ChannelName: "town-square", Type: mmpush.TypeMessage, SenderID: "u1", SenderName: "alice", Version: mmpush.MessageV2,
		Signature: "sig",
	}
}

// The APNs payloads, byte for byte, as upstream's AppleNotificationServer
// builds them with the apns2 payload builder (keys sorted, aps fields in
// apns2's order, :shortcodes: rendered by kyokomi/emoji with its trailing space).
func TestAPNsPayloadLayouts(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(n *mmpush.PushNotification)
		appVersion int
		want       string
	}{
		{"v2 message: title is the channel", func(n *mmpush.PushNotification) {}, 1,
			`{"ack_id":"ack1","aps":{"alert":{"body":"hello 😄 ","title":"town-square"},"badge":3,"category":"CAN_REPLY","content-available":1,"mutable-content":1,"sound":"default","thread-id":"chan1"},"channel_id":"chan1","channel_name":"town-square","is_crt_enabled":false,"post_id":"post1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"","team_id":"team1","type":"message","version":"v2"}`},
		{"v1 message: alert is a string", func(n *mmpush.PushNotification) { n.Version = ""; n.Message = "hi" }, 1,
			`{"ack_id":"ack1","aps":{"alert":"hi","badge":3,"category":"CAN_REPLY","content-available":1,"mutable-content":1,"sound":"default","thread-id":"chan1"},"channel_id":"chan1","channel_name":"town-square","is_crt_enabled":false,"post_id":"post1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"","team_id":"team1","type":"message","version":""}`},
		{"unsigned id-loaded: body only, no emoji, NO_SIGNATURE", func(n *mmpush.PushNotification) {
			n.IsIDLoaded, n.Signature, n.SenderName, n.ChannelName = true, "", "", ""
		}, 1,
			`{"ack_id":"ack1","aps":{"alert":{"body":"hello :smile:"},"badge":3,"category":"CAN_REPLY","content-available":1,"mutable-content":1,"sound":"default","thread-id":"chan1"},"channel_id":"chan1","id_loaded":true,"is_crt_enabled":false,"post_id":"post1","sender_id":"u1","server_id":"srv","signature":"NO_SIGNATURE","sub_type":"","team_id":"team1","type":"message","version":"v2"}`},
		{"CRT reply threads on the root", func(n *mmpush.PushNotification) { n.IsCRTEnabled, n.RootID = true, "root1"; n.Message = "re" }, 1,
			`{"ack_id":"ack1","aps":{"alert":{"body":"re","title":"town-square"},"badge":3,"category":"CAN_REPLY","content-available":1,"mutable-content":1,"sound":"default","thread-id":"root1"},"channel_id":"chan1","channel_name":"town-square","is_crt_enabled":true,"post_id":"post1","root_id":"root1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"","team_id":"team1","type":"message","version":"v2"}`},
		{"session: no content-available", func(n *mmpush.PushNotification) { n.Type = mmpush.TypeSession; n.Message = "expired"; n.AckID = "" }, 1,
			`{"aps":{"alert":{"body":"expired","title":"town-square"},"badge":3,"category":"CAN_REPLY","mutable-content":1,"sound":"default","thread-id":"chan1"},"channel_id":"chan1","channel_name":"town-square","is_crt_enabled":false,"post_id":"post1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"","team_id":"team1","type":"session","version":"v2"}`},
		{"clear, app v2, badge 0 becomes 1", func(n *mmpush.PushNotification) {
			*n = mmpush.PushNotification{ServerID: "srv", DeviceID: "tok", Type: mmpush.TypeClear, ChannelID: "chan1"}
		}, 2,
			`{"aps":{"badge":1,"content-available":1,"thread-id":"chan1"},"channel_id":"chan1","is_crt_enabled":false,"server_id":"srv","signature":"NO_SIGNATURE","sub_type":"","type":"clear"}`},
		{"clear, app v1, badge 0 stays 0", func(n *mmpush.PushNotification) {
			*n = mmpush.PushNotification{ServerID: "srv", DeviceID: "tok", Type: mmpush.TypeClear}
		}, 1,
			`{"aps":{"badge":0,"content-available":1},"is_crt_enabled":false,"server_id":"srv","signature":"NO_SIGNATURE","sub_type":"","type":"clear"}`},
		{"update_badge, badge -1: nothing in aps", func(n *mmpush.PushNotification) {
			*n = mmpush.PushNotification{ServerID: "srv", DeviceID: "tok", Type: mmpush.TypeUpdateBadge, Badge: -1, SubType: "calls"}
		}, 1,
			`{"aps":{},"is_crt_enabled":false,"server_id":"srv","signature":"NO_SIGNATURE","sub_type":"calls","type":"update_badge"}`},
		{"test push", func(n *mmpush.PushNotification) {
			*n = mmpush.PushNotification{ServerID: "srv", DeviceID: "tok", Type: mmpush.TypeTest, Badge: -1, AckID: "a"}
		}, 1,
			`{"ack_id":"a","aps":{"content-available":1},"is_crt_enabled":false,"server_id":"srv","signature":"NO_SIGNATURE","sub_type":"","type":"test"}`},
		{"webhook overrides and HTML characters", func(n *mmpush.PushNotification) {
			n.Version, n.Message, n.OverrideUsername, n.OverrideIconURL, n.FromWebhook = "", "a<b>&c", "bot", "https://i/x.png", "true"
		}, 1,
			`{"ack_id":"ack1","aps":{"alert":"a\u003cb\u003e\u0026c","badge":3,"category":"CAN_REPLY","content-available":1,"mutable-content":1,"sound":"default","thread-id":"chan1"},"channel_id":"chan1","channel_name":"town-square","from_webhook":"true","is_crt_enabled":false,"override_icon_url":"https://i/x.png","override_username":"bot","post_id":"post1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"","team_id":"team1","type":"message","version":""}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := base()
			c.edit(&n)
			notif := buildAPNs(&n, c.appVersion, "com.example.app")
			got, err := json.Marshal(notif.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("payload\n got %s\nwant %s", got, c.want)
			}
			if notif.Topic != "com.example.app" || notif.Priority != apns2.PriorityHigh || notif.PushType != "" || notif.DeviceToken != "tok" {
				t.Fatalf("headers: topic %q priority %d push type %q token %q", notif.Topic, notif.Priority, notif.PushType, notif.DeviceToken)
			}
		})
	}
}

func TestAPNsVoIPLayout(t *testing.T) {
	n := base()
	n.Transport, n.Type, n.SubType, n.RootID = mmpush.TransportVoIP, mmpush.TypeMessage, "calls", "root1"
	notif := buildVoIP(&n, "com.example.app")
	got, _ := json.Marshal(notif.Payload)
	want := `{"ack_id":"ack1","aps":{"content-available":1},"category":"CAN_REPLY","channel_id":"chan1","channel_name":"town-square","id_loaded":false,"post_id":"post1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"calls","thread_id":"root1","type":"message"}`
	if string(got) != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
	if notif.Topic != "com.example.app.voip" || notif.PushType != apns2.PushTypeVOIP || notif.Priority != apns2.PriorityHigh {
		t.Fatalf("headers: topic %q push type %q priority %d", notif.Topic, notif.PushType, notif.Priority)
	}

	// An id-loaded call: no names, no category, no ack id when the server sent none.
	n = mmpush.PushNotification{DeviceID: "tok", Type: mmpush.TypeMessage, SubType: mmpush.SubTypeCalls,
		Transport: mmpush.TransportVoIP, ChannelID: "c", ServerID: "s", IsIDLoaded: true}
	got, _ = json.Marshal(buildVoIP(&n, "com.example.app").Payload)
	want = `{"aps":{"content-available":1},"channel_id":"c","id_loaded":true,"post_id":"","sender_id":"","server_id":"s","signature":"NO_SIGNATURE","sub_type":"calls","thread_id":"","type":"message"}`
	if string(got) != want {
		t.Fatalf("id-loaded payload\n got %s\nwant %s", got, want)
	}
}

func TestVoIPPlatformAlias(t *testing.T) {
	for in, want := range map[string]string{
		"apple_voip_rn": "apple_rn", "apple_voip_rnbeta": "apple_rnbeta",
		"apple_rn": "apple_rn", "android_rn": "android_rn", "apple": "apple",
	} {
		if got := voipAlias(in); got != want {
			t.Errorf("voipAlias(%q) = %q, want %q", in, got, want)
		}
	}
}

// The FCM data maps, as upstream's AndroidNotificationServer builds them.
func TestFCMDataLayouts(t *testing.T) {
	cases := []struct {
		name string
		edit func(n *mmpush.PushNotification)
		want map[string]string
	}{
		{"message", func(n *mmpush.PushNotification) { n.RootID = "root1"; n.FromWebhook = "true" }, map[string]string{
			"ack_id": "ack1", "type": "message", "sub_type": "", "version": "v2", "channel_id": "chan1",
			"is_crt_enabled": "false", "server_id": "srv", "category": "CAN_REPLY", "badge": "3", "root_id": "root1",
			"signature": "sig", "team_id": "team1", "sender_id": "u1", "sender_name": "alice", "message": "hello 😄 ",
			"channel_name": "town-square", "post_id": "post1", "override_username": "", "override_icon_url": "",
			"from_webhook": "true",
		}},
		{"id-loaded, unsigned: sender hidden, no emoji", func(n *mmpush.PushNotification) { n.IsIDLoaded, n.Signature, n.Badge = true, "", -1 }, map[string]string{
			"ack_id": "ack1", "type": "message", "sub_type": "", "version": "v2", "channel_id": "chan1",
			"is_crt_enabled": "false", "server_id": "srv", "category": "CAN_REPLY", "signature": "NO_SIGNATURE",
			"post_id": "post1", "message": "hello :smile:", "id_loaded": "true", "sender_id": "u1",
			"sender_name": "Someone", "team_id": "team1",
		}},
		{"clear: routing fields only", func(n *mmpush.PushNotification) {
			*n = mmpush.PushNotification{ServerID: "srv", DeviceID: "tok", Type: mmpush.TypeClear, ChannelID: "chan1", Badge: 0, IsCRTEnabled: true}
		}, map[string]string{
			"ack_id": "", "type": "clear", "sub_type": "", "version": "", "channel_id": "chan1",
			"is_crt_enabled": "true", "server_id": "srv", "category": "", "badge": "0", "signature": "NO_SIGNATURE",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := base()
			c.edit(&n)
			if got := buildFCMData(&n); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("data\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

// What firebase-admin-go puts on the wire for a message push.
func TestFCMMessageBytes(t *testing.T) {
	n := base()
	n.Message = "hi"
	f := &fcmSender{}
	d := f.build(&n, 1, true)
	want := `{"data":{"ack_id":"ack1","badge":"3","category":"CAN_REPLY","channel_id":"chan1","channel_name":"town-square","from_webhook":"","is_crt_enabled":"false","message":"hi","override_icon_url":"","override_username":"","post_id":"post1","sender_id":"u1","sender_name":"alice","server_id":"srv","signature":"sig","sub_type":"","team_id":"team1","type":"message","version":"v2"},"android":{"priority":"high"},"token":"tok"}`
	if string(d.payload) != want {
		t.Fatalf("message\n got %s\nwant %s", d.payload, want)
	}
}
