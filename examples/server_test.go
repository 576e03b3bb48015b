package examples

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"

	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
)

// The Servers without the test helpers, as their package docs show them:
// credentials the test makes itself, a receiver of its own.
func TestMockAPNsServer(t *testing.T) {
	s, err := mockapns.New(mockapns.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p8, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterKey(mockapns.Key{ID: "ABC123DEFG", TeamID: "TEAM123456", Public: &p8.PublicKey}); err != nil {
		t.Fatal(err)
	}
	reg, err := s.RegisterDevice(bundleID, mockapns.Production, "iphone")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan mockapns.Delivery, 1)
	s.Attach(reg.Token, mockapns.ReceiverFunc(func(d mockapns.Delivery) { got <- d }))

	client := apns2.NewTokenClient(&token.Token{AuthKey: p8, KeyID: "ABC123DEFG", TeamID: "TEAM123456"})
	client.Host = s.URL
	client.HTTPClient = s.Client()
	res := push(t, client, &apns2.Notification{DeviceToken: reg.Token, Topic: bundleID, Payload: []byte(`{"aps":{"alert":"raw"}}`)})
	if !res.Sent() {
		t.Fatalf("push: %d %s", res.StatusCode, res.Reason)
	}
	select {
	case d := <-got:
		if alertOf(t, d.Payload) != "raw" {
			t.Errorf("received %s", d.Payload)
		}
	case <-testCtx(t).Done():
		t.Fatal("nothing received")
	}
}

// A service-account file made here, as the Firebase console would ship one,
// is accepted by the mock and by the real SDK alike.
func TestMockFCMServer(t *testing.T) {
	s, err := mockfcm.New(mockfcm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	saJSON := serviceAccountFile(t, "my-project", s.TokenURL())
	if err := s.RegisterServiceAccountJSON(saJSON); err != nil {
		t.Fatal(err)
	}
	reg, err := s.RegisterDevice(packageName, "my-project", "pixel")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan mockfcm.Delivery, 1)
	s.Attach(reg.Token, mockfcm.ReceiverFunc(func(d mockfcm.Delivery) { got <- d }))

	ctx, opts, err := s.SDKOptions(testCtx(t), saJSON)
	if err != nil {
		t.Fatal(err)
	}
	app, err := firebase.NewApp(ctx, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(ctx, &messaging.Message{Token: reg.Token, Data: map[string]string{"k": "raw"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if string(d.Payload) != `{"data":{"k":"raw"}}` {
			t.Errorf("received %s", d.Payload)
		}
	case <-ctx.Done():
		t.Fatal("nothing received")
	}
}

func serviceAccountFile(t *testing.T, project, tokenURI string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     project,
		"private_key_id": "0123456789abcdef0123456789abcdef01234567",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "firebase-adminsdk@" + project + ".iam.gserviceaccount.com",
		"client_id":      "123456789012345678901",
		"token_uri":      tokenURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
