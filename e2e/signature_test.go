package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/serversim"
)

// The devices judge a push's signature as the Mattermost apps do
// (PROTOCOLS.md §4); each rule ends in an event that names it.
func TestSignatureRules(t *testing.T) {
	l := startLab(t, Options{Contents: serversim.ContentsFull})
	for _, app := range []devicesim.App{l.IOSToken, l.Android} {
		p := string(app.Platform)
		d, err := l.Fleet.Add(testCtx(t), "sig-"+p, "sig-"+p, app)
		if err != nil {
			t.Fatal(err)
		}
		msg := serversim.Message{UserID: d.User, ChannelName: "town-square", SenderName: "bob", Message: "hello"}

		t.Run(p+"/ES256 by the pinned key, ack_id and bare token match", func(t *testing.T) {
			r := send(t, l, msg)
			expectAccepted(t, l, d, r.AckID, devicesim.SignatureVerified, true)
		})

		t.Run(p+"/device_id is the token without the platform: prefix", func(t *testing.T) {
			// A correct signature, but over the stored device id as the
			// server keeps it ("android_rn-v2:<token>"), prefix included.
			del, ack := capture(t, l, d, msg)
			sig, err := pushcrypto.NewSigner(l.Set.Signing, l.Set.SigningKeyID).Sign(ack, app.ProxyType+"-v2:"+d.Token(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			del.Payload = withSignature(t, del.Payload, &sig)
			push(l, d, del)
			expectRejected(t, l, d, ack, events.DeviceSignatureBad, devicesim.ReasonWrongDevice)
		})

		t.Run(p+"/ack_id must match", func(t *testing.T) {
			del, ack := capture(t, l, d, msg)
			sig, err := pushcrypto.NewSigner(l.Set.Signing, l.Set.SigningKeyID).Sign("another-ack", d.Token(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			del.Payload = withSignature(t, del.Payload, &sig)
			push(l, d, del)
			expectRejected(t, l, d, ack, events.DeviceSignatureBad, devicesim.ReasonWrongNotification)
		})

		t.Run(p+"/no signature at all: a legacy proxy, accepted", func(t *testing.T) {
			del, ack := capture(t, l, d, msg)
			del.Payload = withSignature(t, del.Payload, nil)
			push(l, d, del)
			expectAccepted(t, l, d, ack, devicesim.SignatureLegacyProxy, false)
		})

		t.Run(p+"/NO_SIGNATURE from a release that signs", func(t *testing.T) {
			m := msg
			m.Signature = serversim.SignatureNone
			r := send(t, l, m)
			expectRejected(t, l, d, r.AckID, events.DeviceSignatureBad, devicesim.ReasonUnsigned)
		})
	}

	ios, err := l.Fleet.Add(testCtx(t), "sig-voip", "sig-voip", l.IOSCert)
	if err != nil {
		t.Fatal(err)
	}
	call := serversim.Message{UserID: ios.User, Transport: mmpush.TransportVoIP, SubType: mmpush.SubTypeCalls,
		ChannelName: "bob", SenderName: "bob", Message: "bob is calling"}

	t.Run("VoIP/signed: the call rings", func(t *testing.T) {
		r := send(t, l, call)
		h := expectAccepted(t, l, ios, r.AckID, devicesim.SignatureVerified, true)
		if h[events.DeviceDisplayed].Status != "ringing" {
			t.Fatalf("displayed %+v", h[events.DeviceDisplayed])
		}
		n, _ := ios.Last()
		// The VoIP payload has no message, and a sealing profile keeps the
		// names out of it: the phone rings with what it has.
		if n.Type != devicesim.CallNotification || n.Body == "" || n.Plaintext {
			t.Fatalf("shown %+v", n)
		}
	})

	t.Run("VoIP/NO_SIGNATURE is refused", func(t *testing.T) {
		m := call
		m.Signature = serversim.SignatureNone
		r := send(t, l, m)
		expectRejected(t, l, ios, r.AckID, events.DeviceSignatureBad, devicesim.ReasonUnsignedVoIP)
	})

	t.Run("VoIP/no signature at all is refused", func(t *testing.T) {
		del, ack := capture(t, l, ios, call)
		if del.Headers["apns-push-type"] != "voip" {
			t.Fatalf("captured headers %v", del.Headers)
		}
		del.Payload = withSignature(t, del.Payload, nil)
		push(l, ios, del)
		expectRejected(t, l, ios, ack, events.DeviceSignatureBad, devicesim.ReasonUnsignedVoIP)
	})
}

// A server older than the signing releases sends no signature; the proxy
// writes NO_SIGNATURE and the apps accept it, except for VoIP.
func TestNoSignatureFromOldServer(t *testing.T) {
	for _, c := range []struct {
		version string
		accept  bool
	}{{"9.7.2", true}, {"8.1.13", true}, {"9.7.3", false}, {"9.8.0", false}} {
		t.Run(c.version, func(t *testing.T) {
			l := startLab(t, Options{Contents: serversim.ContentsFull, ServerVersion: c.version})
			d, err := l.Fleet.Add(testCtx(t), "old", "old", l.Android)
			if err != nil {
				t.Fatal(err)
			}
			m := serversim.Message{UserID: d.User, ChannelName: "town-square", Message: "hi"}
			if !c.accept {
				m.Signature = serversim.SignatureNone // a release that signs, made not to
			}
			r := send(t, l, m)
			if c.accept {
				expectAccepted(t, l, d, r.AckID, devicesim.SignatureOldServer, false)
			} else {
				expectRejected(t, l, d, r.AckID, events.DeviceSignatureBad, devicesim.ReasonUnsigned)
			}
		})
	}
	t.Run("VoIP from an old server", func(t *testing.T) {
		l := startLab(t, Options{ServerVersion: "9.5.4"})
		d, err := l.Fleet.Add(testCtx(t), "old-ios", "old-ios", l.IOSToken)
		if err != nil {
			t.Fatal(err)
		}
		r := send(t, l, serversim.Message{UserID: d.User, Transport: mmpush.TransportVoIP, SubType: mmpush.SubTypeCalls})
		expectRejected(t, l, d, r.AckID, events.DeviceSignatureBad, devicesim.ReasonUnsignedVoIP)
	})
}

// expectAccepted: the device accepted the push with status, showed it (with
// Verified as verified) and acked it to the server, which told the proxy.
func expectAccepted(t *testing.T, l *Lab, d *devicesim.Device, ack, status string, verified bool) map[events.Hop]events.Event {
	t.Helper()
	h := requireHops(t, l, ack, events.DeviceSignatureOK, events.DeviceDisplayed, events.DeviceAcked, events.ProxyAcked)
	if e := h[events.DeviceSignatureOK]; e.Status != status || e.Actor != "device:"+d.Name {
		t.Errorf("signature_ok status %q by %s, want %q (%s)", e.Status, e.Actor, status, e.Detail)
	}
	forbidHops(t, l, ack, events.DeviceSignatureBad)
	if n, _ := d.Last(); n.AckID != ack || n.Verified != verified {
		t.Errorf("shown %+v, want ack %s verified %v", n, ack, verified)
	}
	return h
}

// withSignature sets the signature of an APNs payload (top level) or an FCM
// message (data), or removes the key when sig is nil.
func withSignature(t *testing.T, payload []byte, sig *string) []byte {
	t.Helper()
	var top map[string]any
	if err := json.Unmarshal(payload, &top); err != nil {
		t.Fatal(err)
	}
	m := top
	if data, ok := top["data"].(map[string]any); ok {
		m = data
	}
	if sig == nil {
		delete(m, "signature")
	} else {
		m["signature"] = *sig
	}
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The mattermost profile sends what a real Mattermost server sends: no
// sealing, the signature, contents as the admin setting allows.
func TestMattermostProfile(t *testing.T) {
	for _, c := range []struct {
		contents    serversim.Contents
		body, title string
		fetched     bool
	}{
		{serversim.ContentsFull, "bob: hello", "town-square", false},
		{serversim.ContentsGeneric, devicesim.GenericMessage, "town-square", false},
		{serversim.ContentsIDLoaded, "hello", "town-square", true},
	} {
		t.Run(string(c.contents), func(t *testing.T) {
			l := startLab(t, Options{Profile: serversim.ProfileMattermost, Contents: c.contents})
			d, err := l.Fleet.Add(testCtx(t), "mm", "mm", l.Android)
			if err != nil {
				t.Fatal(err)
			}
			r := send(t, l, serversim.Message{UserID: d.User, ChannelName: "town-square", SenderName: "bob", Message: "hello"})
			h := requireHops(t, l, r.AckID, events.DeviceSignatureOK, events.DeviceDisplayed)
			forbidHops(t, l, r.AckID, events.DeviceDecrypted)
			if h[events.DeviceSignatureOK].Status != devicesim.SignatureVerified {
				t.Fatalf("signature %+v", h[events.DeviceSignatureOK])
			}
			n, _ := d.Last()
			if n.Body != c.body || n.Title != c.title || !n.Verified || n.Decrypted || n.Fetched != c.fetched {
				t.Fatalf("shown %+v, want body %q title %q fetched %v", n, c.body, c.title, c.fetched)
			}
			// Nothing sealed went to the provider; full contents went readable.
			clear := false
			for _, req := range l.FCM.Requests(0) {
				if strings.Contains(string(req.Body), `"v1.`) {
					t.Fatalf("an envelope travelled: %s", req.Body)
				}
				clear = clear || strings.Contains(string(req.Body), "bob: hello")
			}
			if clear != (c.contents == serversim.ContentsFull) {
				t.Fatalf("message readable at the provider: %v", clear)
			}
		})
	}
}
