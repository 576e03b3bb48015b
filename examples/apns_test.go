package examples

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sideshow/apns2"

	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockapns/mockapnstest"
	"github.com/pushlab/pushlab/pushtest"
)

const bundleID = "com.example.app"

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// alertOf reads aps.alert from a payload the device received.
func alertOf(t *testing.T, payload []byte) string {
	t.Helper()
	var p struct {
		APS struct {
			Alert string `json:"alert"`
		} `json:"aps"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	return p.APS.Alert
}

func push(t *testing.T, c *apns2.Client, n *apns2.Notification) *apns2.Response {
	t.Helper()
	res, err := c.PushWithContext(testCtx(t), n)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return res
}

// Token auth, the README's eight lines: apns2 signs an ES256 JWT with the key
// the mock made, the phone gets the payload as sent.
func TestAPNsTokenAuth(t *testing.T) {
	s := mockapnstest.NewServer(t)
	client := s.Trust(apns2.NewTokenClient(s.NewKey()))
	phone := s.RegisterDevice(bundleID, mockapnstest.Development, "iphone")
	res := push(t, client, &apns2.Notification{DeviceToken: phone.Token, Topic: bundleID,
		Payload: []byte(`{"aps":{"alert":"hi"}}`)})
	if !res.Sent() {
		t.Fatalf("push: %d %s, want 200", res.StatusCode, res.Reason)
	}
	got, err := phone.Next(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if alertOf(t, got.Payload) != "hi" || got.ID != res.ApnsID || got.App != bundleID {
		t.Errorf("received %+v, want alert hi, id %s, app %s", got, res.ApnsID, bundleID)
	}
	reqs := s.Requests(0)
	if len(reqs) != 1 || reqs[0].Status != http.StatusOK || reqs[0].Token != phone.Token {
		t.Errorf("requests = %+v, want one 200 for the phone", reqs)
	}
}

// Certificate auth: apns2.NewClient with a client certificate the mock's CA
// issued; a certificate for one environment is refused in the other.
func TestAPNsCertificateAuth(t *testing.T) {
	s := mockapnstest.NewServer(t)
	cert := s.NewCertificate(bundleID, mockapnstest.Production)
	phone := s.RegisterDevice(bundleID, mockapnstest.Production, "iphone")
	n := &apns2.Notification{DeviceToken: phone.Token, Topic: bundleID, Payload: []byte(`{"aps":{"alert":"cert"}}`)}

	if res := push(t, s.Trust(apns2.NewClient(cert).Production()), n); !res.Sent() {
		t.Fatalf("production: %d %s, want 200", res.StatusCode, res.Reason)
	}
	got, err := phone.Next(testCtx(t))
	if err != nil || alertOf(t, got.Payload) != "cert" {
		t.Fatalf("received %+v, %v", got, err)
	}
	res := push(t, s.Trust(apns2.NewClient(cert).Development()), n)
	if res.StatusCode != http.StatusForbidden || res.Reason != apns2.ReasonBadCertificateEnvironment {
		t.Errorf("development: %d %s, want 403 %s", res.StatusCode, res.Reason, apns2.ReasonBadCertificateEnvironment)
	}
}

// What a provider must handle: an uninstalled app (410 with its time), a
// scripted fault, and an offline phone that gets only the last notification.
func TestAPNsUninstallFaultsOffline(t *testing.T) {
	s := mockapnstest.NewServer(t, func(c *mockapns.Config) { c.Seed = 7 })
	client := s.Trust(apns2.NewTokenClient(s.NewKey()).Production())
	phone := s.RegisterDevice(bundleID, mockapnstest.Production, "iphone")
	note := func(alert string) *apns2.Notification {
		return &apns2.Notification{DeviceToken: phone.Token, Topic: bundleID, Payload: []byte(`{"aps":{"alert":"` + alert + `"}}`)}
	}

	f := s.AddFault(mockapnstest.Fault{Token: phone.Token, Count: 1, Status: http.StatusServiceUnavailable})
	if res := push(t, client, note("a")); res.StatusCode != http.StatusServiceUnavailable || res.Reason != apns2.ReasonServiceUnavailable {
		t.Errorf("with fault %s: %d %s, want 503 %s", f.ID, res.StatusCode, res.Reason, apns2.ReasonServiceUnavailable)
	}
	if left := s.Faults(); len(left) != 0 {
		t.Errorf("a Count 1 fault is spent after one hit; script = %+v", left)
	}

	phone.Offline()
	for _, a := range []string{"first", "second"} {
		if res := push(t, client, note(a)); !res.Sent() {
			t.Fatalf("offline push %s: %d %s", a, res.StatusCode, res.Reason)
		}
	}
	if p := s.Pending(phone.Token); len(p) != 1 || alertOf(t, p[0].Payload) != "second" {
		t.Fatalf("pending = %+v, want the second only (APNs keeps the last)", p)
	}
	if n := phone.Online(); n != 1 {
		t.Errorf("Online handed over %d, want 1", n)
	}
	got, err := phone.Next(testCtx(t))
	if err != nil || alertOf(t, got.Payload) != "second" || !got.Stored {
		t.Errorf("after coming online: %+v, %v; want the stored second", got, err)
	}

	at := s.Uninstall(phone.Token) // Apple sends milliseconds; apns2 keeps whole seconds
	res := push(t, client, note("gone"))
	if res.StatusCode != http.StatusGone || res.Reason != apns2.ReasonUnregistered || !res.Timestamp.Time.Equal(at.Truncate(time.Second)) {
		t.Errorf("after uninstall: %d %s at %v, want 410 %s at %v", res.StatusCode, res.Reason, res.Timestamp.Time, apns2.ReasonUnregistered, at)
	}
}

// The ambiguous case a provider must survive: APNs has the push (the phone
// shows it) but the connection resets before the answer, so apns2 reports
// an error for a notification that was delivered.
func TestAPNsAcceptedButAnswerLost(t *testing.T) {
	s := mockapnstest.NewServer(t)
	client := s.Trust(apns2.NewTokenClient(s.NewKey()))
	phone := s.RegisterDevice(bundleID, mockapnstest.Development, "iphone")
	s.AddFault(mockapnstest.Fault{Token: phone.Token, Count: 1, Action: pushtest.AcceptReset})
	_, err := client.PushWithContext(testCtx(t), &apns2.Notification{DeviceToken: phone.Token, Topic: bundleID,
		Payload: []byte(`{"aps":{"alert":"twice?"}}`)})
	if err == nil {
		t.Fatal("push through an accept_reset fault: no error, want the reset")
	}
	got, err := phone.Next(testCtx(t))
	if err != nil || alertOf(t, got.Payload) != "twice?" {
		t.Errorf("the phone got %+v, %v; want the push the client thinks failed", got, err)
	}
}
