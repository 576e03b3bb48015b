package examples

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/mockfcm/mockfcmtest"
)

const packageName = "com.example.app"

func messagingClient(t *testing.T, s *mockfcmtest.Server) *messaging.Client {
	t.Helper()
	ctx := testCtx(t)
	app, err := firebase.NewApp(ctx, nil, s.ClientOptions(s.NewServiceAccountJSON())...)
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// The README's eight lines for FCM: the real SDK, its real OAuth2 flow against
// the mock's token endpoint, and what the phone received.
func TestFCMSend(t *testing.T) {
	s := mockfcmtest.NewServer(t)
	client := messagingClient(t, s)
	phone := s.RegisterDevice(packageName, s.ProjectID, "pixel")
	id, err := client.Send(testCtx(t), &messaging.Message{Token: phone.Token, Data: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := phone.Next(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Data map[string]string `json:"data"`
	}
	// The SDK returns the message's resource name; the device sees its id.
	if err := json.Unmarshal(got.Payload, &msg); err != nil || msg.Data["k"] != "v" || !strings.HasSuffix(id, "/messages/"+got.ID) || got.App != packageName {
		t.Errorf("received %+v (%v), want data k=v, id %s, app %s", got, err, id, packageName)
	}
	// The token request and the send, both recorded; never a raw credential.
	var sends int
	for _, r := range s.Requests(0) {
		if r.Method == http.MethodPost && r.Status == http.StatusOK && r.Token == phone.Token {
			sends++
		}
	}
	if sends != 1 {
		t.Errorf("recorded %d successful sends to the phone, want 1: %+v", sends, s.Requests(0))
	}
}

// The SDK's own predicates answer as with Google: a scripted UNAVAILABLE, an
// uninstalled app, and a phone that was offline gets what FCM stored.
func TestFCMErrorsAndOffline(t *testing.T) {
	s := mockfcmtest.NewServer(t)
	client := messagingClient(t, s)
	phone := s.RegisterDevice(packageName, s.ProjectID, "pixel")
	send := func(v string) error {
		_, err := client.Send(testCtx(t), &messaging.Message{Token: phone.Token, Data: map[string]string{"v": v}})
		return err
	}

	// The SDK retries a 503 by itself, so a one-shot UNAVAILABLE would
	// not reach this test: script an answer it does not retry.
	s.AddFault(mockfcmtest.Fault{Token: phone.Token, Count: 1, Reason: "THIRD_PARTY_AUTH_ERROR"})
	if err := send("x"); !messaging.IsThirdPartyAuthError(err) {
		t.Errorf("with a THIRD_PARTY_AUTH_ERROR fault: %v, want messaging.IsThirdPartyAuthError", err)
	}
	if f := s.Faults(); len(f) != 0 {
		t.Errorf("a Count 1 fault is spent after one hit; script = %+v", f)
	}

	phone.Offline()
	for _, v := range []string{"1", "2"} {
		if err := send(v); err != nil {
			t.Fatal(err)
		}
	}
	if p := s.Pending(phone.Token); len(p) != 2 {
		t.Fatalf("pending = %d, want 2 (FCM stores up to 100)", len(p))
	}
	if n := phone.Online(); n != 2 {
		t.Errorf("Online handed over %d, want 2", n)
	}
	for _, want := range []string{"1", "2"} {
		got, err := phone.Next(testCtx(t))
		var msg struct {
			Data map[string]string `json:"data"`
		}
		if err != nil || json.Unmarshal(got.Payload, &msg) != nil || msg.Data["v"] != want || !got.Stored {
			t.Errorf("after coming online: %+v, %v; want stored v=%s", got, err, want)
		}
	}

	s.Uninstall(phone.Token)
	if err := send("gone"); !messaging.IsUnregistered(err) {
		t.Errorf("after uninstall: %v, want messaging.IsUnregistered", err)
	}
}

// Topics through the SDK: SubscribeToTopic goes to Google's fixed IID host,
// which ClientOptions' transport dials at the mock; a topic message reaches
// the subscriber and not the other phone.
func TestFCMTopic(t *testing.T) {
	s := mockfcmtest.NewServer(t)
	client := messagingClient(t, s)
	fan := s.RegisterDevice(packageName, s.ProjectID, "pixel")
	other := s.RegisterDevice(packageName, s.ProjectID, "tablet")
	ctx := testCtx(t)
	res, err := client.SubscribeToTopic(ctx, []string{fan.Token}, "news")
	if err != nil || res.SuccessCount != 1 {
		t.Fatalf("subscribe: %+v, %v", res, err)
	}
	if _, err := client.Send(ctx, &messaging.Message{Topic: "news", Data: map[string]string{"k": "topic"}}); err != nil {
		t.Fatal(err)
	}
	got, err := fan.Next(ctx)
	if err != nil || got.Headers["from"] != "/topics/news" {
		t.Errorf("subscriber received %+v, %v; want the message from /topics/news", got, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if d, err := other.Next(short); err == nil {
		t.Errorf("the phone that did not subscribe received %+v", d)
	}
}
