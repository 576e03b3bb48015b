package devicesim_test

import (
	"context"
	"testing"
	"time"

	. "github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/pushtest"
)

// Contents that decrypt but are not the contents JSON are bad_contents, not
// a malformed envelope: the device tells them apart by the typed error.
func TestDecryptedButNotContents(t *testing.T) {
	f, _, key := scaleFleet(t, 1)
	d, err := f.Add(context.Background(), "d", "u", scaleApp)
	if err != nil {
		t.Fatal(err)
	}
	rcpt := ContentKeyOf(d).Recipient()
	env, err := pushcrypto.Seal(rcpt, []byte("plain text"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := pushcrypto.NewSigner(key, "k").Sign("a1", d.Token(), time.Now())
	n, err := d.Handle(context.Background(), pushtest.Delivery{Provider: "apns", Token: d.Token(), App: scaleApp.BundleID,
		Payload: []byte(`{"aps":{"alert":"` + env + `","mutable-content":1},"ack_id":"a1","server_id":"srv","signature":"` + sig + `"}`)})
	if ReasonOf(err) != ReasonBadContents || !IsDecryptFailure(err) {
		t.Fatalf("err %v, want %s", err, ReasonBadContents)
	}
	if n == nil || !n.Fallback {
		t.Errorf("shown %+v, want the generic fallback alert", n)
	}
}
