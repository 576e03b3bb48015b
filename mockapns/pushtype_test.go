package mockapns

import (
	"testing"

	"github.com/pushlab/pushlab/events"

	"github.com/pushlab/pushlab/testpki"
	"github.com/sideshow/apns2"
)

// TestPushTypesAndTopics: every push type Apple documents is accepted with
// the topic suffix it requires and refused (InvalidPushType) with the bare
// bundle id or another type's suffix; MDM pushes carry {"mdm":…}, not aps.
func TestPushTypesAndTopics(t *testing.T) {
	f := newFixture(t)
	client := f.tokenClient(f.set.APNsKey, testpki.Production)
	bundle := f.set.BundleID
	la := `{"aps":{"timestamp":1700000000,"event":"update","content-state":{"s":"1-0"}}}`
	tests := []struct {
		pushType apns2.EPushType
		topic    string
		payload  string
		priority int
		status   int
		reason   string
	}{
		{apns2.PushTypeLiveActivity, bundle + ".push-type.liveactivity", la, 10, 200, ""},
		{apns2.PushTypeLiveActivity, bundle, la, 10, 400, ReasonInvalidPushType},
		{apns2.PushTypePushToTalk, bundle + ".voip-ptt", `{"aps":{}}`, 10, 200, ""},
		{apns2.PushTypePushToTalk, bundle + ".voip", `{"aps":{}}`, 10, 400, ReasonInvalidPushType},
		{apns2.PushTypeLocation, bundle + ".location-query", `{"aps":{}}`, 10, 200, ""},
		{apns2.PushTypeLocation, bundle, `{"aps":{}}`, 10, 400, ReasonInvalidPushType},
		{"widgets", bundle + ".push-type.widgets", `{"aps":{"content-changed":true}}`, 5, 200, ""},
		{"widgets", bundle, `{"aps":{"content-changed":true}}`, 5, 400, ReasonInvalidPushType},
		{apns2.PushTypeComplication, bundle + ".complication", `{"aps":{}}`, 10, 200, ""},
		{apns2.PushTypeFileProvider, bundle + ".pushkit.fileprovider", `{"aps":{}}`, 10, 200, ""},
		{apns2.PushTypeFileProvider, bundle + ".fileprovider", `{"aps":{}}`, 10, 400, ReasonInvalidPushType},
		{apns2.PushTypeVOIP, bundle + ".voip", `{"aps":{}}`, 10, 200, ""},
		{apns2.PushTypeAlert, bundle + ".voip", `{"aps":{}}`, 10, 400, ReasonInvalidPushType},
	}
	for _, tt := range tests {
		t.Run(string(tt.pushType)+" "+tt.topic, func(t *testing.T) {
			n := &apns2.Notification{DeviceToken: f.prod, Topic: tt.topic, PushType: tt.pushType, Payload: tt.payload, Priority: tt.priority}
			res := push(t, client, n)
			if res.StatusCode != tt.status || res.Reason != tt.reason {
				t.Fatalf("%d %q, want %d %q", res.StatusCode, res.Reason, tt.status, tt.reason)
			}
		})
	}
	found := false
	for _, e := range f.bus.History() {
		if e.Hop == events.ProviderAccepted && e.Attrs["push_type"] == "liveactivity" {
			found = e.Attrs["activity_event"] == "update" && e.Detail == "accepted: Live Activity update"
		}
	}
	if !found {
		t.Error("the accepted Live Activity push's event does not name its event")
	}
	t.Run("token auth only", func(t *testing.T) {
		cert := f.certClient(f.set.APNsProd, testpki.Production)
		for _, tt := range []struct {
			pushType apns2.EPushType
			suffix   string
		}{{apns2.PushTypeLiveActivity, ".push-type.liveactivity"}, {apns2.PushTypeLocation, ".location-query"}} {
			n := &apns2.Notification{DeviceToken: f.cprod, Topic: f.set.CertBundleID + tt.suffix, PushType: tt.pushType, Payload: la, Priority: 10}
			if res := push(t, cert, n); res.StatusCode != 400 || res.Reason != ReasonTopicDisallowed {
				t.Errorf("%s with a certificate: %d %s", tt.pushType, res.StatusCode, res.Reason)
			}
		}
		n := &apns2.Notification{DeviceToken: f.cprod, Topic: f.set.CertBundleID + ".voip", PushType: apns2.PushTypeVOIP, Payload: `{"aps":{}}`, Priority: 10}
		if res := push(t, cert, n); res.StatusCode != 200 {
			t.Errorf("voip with a certificate: %d %s", res.StatusCode, res.Reason)
		}
	})
	t.Run("mdm", func(t *testing.T) {
		const topic = "com.apple.mgmt.External.6b1f2c1e-1b0a-4a57-9a4b-7d0f5a1c2b3d"
		reg, err := f.s.RegisterDevice(topic, testpki.Production, "managed-iphone")
		if err != nil {
			t.Fatal(err)
		}
		n := &apns2.Notification{DeviceToken: reg.Token, Topic: topic, PushType: apns2.PushTypeMDM, Payload: `{"mdm":"e3b0c442-push-magic"}`, Priority: 10}
		if res := push(t, client, n); res.StatusCode != 200 {
			t.Fatalf("mdm: %d %s", res.StatusCode, res.Reason)
		}
		n.Payload = `{"aps":{"alert":"hi"}}`
		if res := push(t, client, n); res.StatusCode != 400 || res.Reason != ReasonPayloadEmpty {
			t.Fatalf("mdm without PushMagic: %d %s", res.StatusCode, res.Reason)
		}
	})
}
