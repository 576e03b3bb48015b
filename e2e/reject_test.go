package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// Each attack or mistake is refused by the device with the event that names it.
func TestRejections(t *testing.T) {
	l := startLab(t, Options{Contents: serversim.ContentsFull})
	for _, app := range []devicesim.App{l.IOSToken, l.Android} {
		app := app
		p := string(app.Platform)
		victim, err := l.Fleet.Add(testCtx(t), "victim-"+p, "v-"+p, app)
		if err != nil {
			t.Fatal(err)
		}
		other, err := l.Fleet.Add(testCtx(t), "other-"+p, "o-"+p, app)
		if err != nil {
			t.Fatal(err)
		}
		msg := serversim.Message{UserID: victim.User, ChannelName: "secret", SenderName: "eve", Message: "the secret"}

		t.Run(p+"/forged signature", func(t *testing.T) {
			// A server holding another key under the pinned kid, posting
			// through the same proxy with the victim's token.
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			forger, err := serversim.New(serversim.Config{ID: l.Server.ID(), ProxyURL: l.ProxyURL,
				ProxyClient: l.Server.ProxyClient(), SigningKey: key, SigningKeyID: l.Set.SigningKeyID,
				Contents: serversim.ContentsFull, Bus: l.Bus})
			if err != nil {
				t.Fatal(err)
			}
			sess, err := forger.AttachDevice(devicesim.SessionRequest{UserID: "x", DeviceID: app.ProxyType + ":" + victim.Token()})
			if err != nil {
				t.Fatal(err)
			}
			res, err := forger.Send(testCtx(t), serversim.Message{SessionID: sess.SessionID, ChannelName: "x", Message: "click here"})
			if err != nil || res[0].Status != serversim.StatusOK {
				t.Fatalf("forged send: %v %+v", err, res)
			}
			l.Fleet.Wait()
			expectRejected(t, l, victim, res[0].AckID, events.DeviceSignatureBad, devicesim.ReasonBadSignature)
		})

		t.Run(p+"/replayed to another device", func(t *testing.T) {
			del, ack := capture(t, l, victim, msg)
			del.Token = other.Token()
			push(l, other, del)
			expectRejected(t, l, other, ack, events.DeviceSignatureBad, devicesim.ReasonWrongDevice)
		})

		t.Run(p+"/replayed to the same device", func(t *testing.T) {
			delSeen, ack := capture(t, l, victim, msg)
			push(l, victim, delSeen) // first time: accepted
			requireHops(t, l, ack, events.DeviceDisplayed)
			push(l, victim, delSeen) // second time: a replay
			got := l.Bus.Trace(ack)
			last := got[len(got)-1]
			// iOS replaces the shown notification of the same apns-collapse-id
			// before the app runs; an Android app drops the known ack_id.
			wantHop, wantStatus := events.DeviceRejected, string(devicesim.ReasonDuplicate)
			if app.Platform == devicesim.IOS {
				wantHop, wantStatus = events.DeviceReplaced, "replaced"
			}
			if last.Hop != wantHop || last.Status != wantStatus {
				t.Errorf("replay: last event %s %s, want %s %s", last.Hop, last.Status, wantHop, wantStatus)
			}
		})

		t.Run(p+"/tampered ciphertext", func(t *testing.T) {
			del, ack := capture(t, l, victim, msg)
			del.Payload = tamper(t, del.Payload)
			push(l, victim, del)
			h := expectRejected(t, l, victim, ack, events.DeviceDecryptFailed, devicesim.ReasonTampered)
			if _, ok := h[events.DeviceSignatureOK]; !ok {
				t.Error("the signature (over ids, not contents) should still verify")
			}
		})

		t.Run(p+"/wrong app identity", func(t *testing.T) {
			del, ack := capture(t, l, victim, msg)
			del.App = "com.example.other"
			push(l, victim, del)
			expectRejected(t, l, victim, ack, events.DeviceRejected, devicesim.ReasonWrongApp)
		})

		t.Run(p+"/clock skew", func(t *testing.T) {
			victim.SetClockSkew(-time.Hour) // the phone is an hour behind: the push is from its future
			defer victim.SetClockSkew(0)
			r := send(t, l, msg)
			expectRejected(t, l, victim, r.AckID, events.DeviceSignatureBad, devicesim.ReasonNotYetValid)
		})
	}
}

// expectRejected checks the refusal event and that nothing after it
// happened: not decrypted (unless the failure is decryption), not acked, and
// on screen at most the generic alert.
func expectRejected(t *testing.T, l *Lab, d *devicesim.Device, ack string, hop events.Hop, reason devicesim.Reason) map[events.Hop]events.Event {
	t.Helper()
	h := requireHops(t, l, ack, hop)
	if e := h[hop]; e.Status != string(reason) || e.Actor != "device:"+d.Name {
		t.Errorf("%s: status %q by %s, want %q by device:%s (%s)", hop, e.Status, e.Actor, reason, d.Name, e.Detail)
	}
	forbidHops(t, l, ack, events.DeviceAcked, events.ProxyAcked)
	if hop != events.DeviceDecryptFailed {
		forbidHops(t, l, ack, events.DeviceDecrypted)
	}
	if e, ok := h[events.DeviceDisplayed]; ok {
		n, _ := d.Last()
		if d.App.Platform != devicesim.IOS || e.Status != "fallback" || n.Body != devicesim.GenericMessage || !n.Fallback {
			t.Errorf("after %s the device showed %+v (%s)", reason, n, e.Detail)
		}
	}
	return h
}

// Uninstall: the provider answers Unregistered / UNREGISTERED, the proxy says
// REMOVE, and the server deletes the session. A reinstall gets a new token
// and works again.
func TestUninstallRemovesSession(t *testing.T) {
	l := startLab(t, Options{})
	for _, app := range []devicesim.App{l.IOSToken, l.IOSCert, l.Android} {
		t.Run(app.Name, func(t *testing.T) {
			d, err := l.Fleet.Add(testCtx(t), "u-"+app.Name, "user-"+app.Name, app)
			if err != nil {
				t.Fatal(err)
			}
			sess, oldToken := d.SessionID(), d.Token()
			if err := d.Uninstall(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			r := send(t, l, serversim.Message{UserID: d.User, Message: "anyone there?"})
			if r.Status != serversim.StatusRemove || !r.Removed {
				t.Fatalf("result %+v, want REMOVE and the session removed\n%s", r, dump(l, r.AckID))
			}
			h := requireHops(t, l, r.AckID, events.ProviderRejected, events.ServerRemoved)
			wantReason := map[devicesim.Platform]string{devicesim.IOS: "Unregistered", devicesim.Android: "UNREGISTERED"}[app.Platform]
			if e := h[events.ProviderRejected]; e.Status != wantReason {
				t.Errorf("provider said %q, want %q", e.Status, wantReason)
			}
			forbidHops(t, l, r.AckID, events.DeviceDelivered)
			if _, ok := l.Server.Session(sess); ok {
				t.Error("session still there")
			}
			if err := d.Install(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if d.Token() == oldToken {
				t.Error("reinstall kept the token")
			}
			r = send(t, l, serversim.Message{UserID: d.User, Message: "welcome back"})
			if err := resultErr(r); err != nil {
				t.Fatal(err)
			}
			requireHops(t, l, r.AckID, events.DeviceDisplayed, events.ProxyAcked)
		})
	}
}

// Offline: the provider stores the push; back online, the device gets it.
func TestOfflineThenOnline(t *testing.T) {
	l := startLab(t, Options{Contents: serversim.ContentsFull})
	for _, app := range []devicesim.App{l.IOSToken, l.Android} {
		t.Run(app.Name, func(t *testing.T) {
			d, err := l.Fleet.Add(testCtx(t), "off-"+app.Name, "off-"+app.Name, app)
			if err != nil {
				t.Fatal(err)
			}
			d.GoOffline()
			r := send(t, l, serversim.Message{UserID: d.User, ChannelName: "c", Message: "while you were away"})
			requireHops(t, l, r.AckID, events.ProviderStored)
			forbidHops(t, l, r.AckID, events.DeviceDelivered)
			d.GoOnline()
			l.Fleet.Wait()
			requireHops(t, l, r.AckID, events.DeviceDelivered, events.DeviceDisplayed, events.ProxyAcked)
			if n, _ := d.Last(); n.Body != "while you were away" {
				t.Errorf("shown %+v", n)
			}
		})
	}
}

// An app whose identity does not match the proxy's credentials for its type:
// the provider refuses (DeviceTokenNotForTopic / SENDER_ID_MISMATCH), the
// proxy says REMOVE and the session goes.
func TestWrongAppIdentityAtProvider(t *testing.T) {
	l := startLab(t, Options{})
	ios := l.IOSToken
	// Announces the type whose topic is CertBundleID (development): the
	// sandbox token is fine, the topic is not the app's.
	ios.Name, ios.ProxyType, ios.Environment = "iOS announcing the other app's type", devicesim.TypeAppleRN, testpki.Development
	prod := l.IOSToken
	prod.Name, prod.ProxyType = "iOS production token sent to the sandbox", devicesim.TypeAppleRN
	droid := l.Android
	droid.Name, droid.ProjectID = "Android of another Firebase project", "someone-elses-project"
	tests := []struct {
		app    devicesim.App
		reason string
	}{
		{ios, "DeviceTokenNotForTopic"},
		{prod, "BadDeviceToken"},
		{droid, "SENDER_ID_MISMATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.app.Name, func(t *testing.T) {
			d, err := l.Fleet.Add(testCtx(t), tt.app.Name, tt.app.Name, tt.app)
			if err != nil {
				t.Fatal(err)
			}
			r := send(t, l, serversim.Message{UserID: d.User, Message: "x"})
			if r.Status != serversim.StatusRemove || !r.Removed {
				t.Fatalf("result %+v\n%s", r, dump(l, r.AckID))
			}
			h := requireHops(t, l, r.AckID, events.ProviderRejected, events.ServerRemoved)
			if got := h[events.ProviderRejected].Status; got != tt.reason {
				t.Errorf("provider said %q, want %q", got, tt.reason)
			}
			forbidHops(t, l, r.AckID, events.DeviceDelivered)
		})
	}
}
