package mockfcm_test

import (
	"strings"
	"testing"

	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/testpki"
)

// A service-account file, as the console ships it, is all the mock needs to
// serve the SDK an account it has not seen otherwise (sending before it is
// registered would only show the SDK retrying the refused token for 7 s).
func TestRegisterServiceAccountJSON(t *testing.T) {
	f := newFixture(t, false)
	sa, err := testpki.NewServiceAccount("project-c", "")
	if err != nil {
		t.Fatal(err)
	}
	client := f.sdk(t, sa, false)
	reg, err := f.s.RegisterDevice("com.example.c", "project-c", "pixel")
	if err != nil {
		t.Fatal(err)
	}
	msg := &messaging.Message{Token: reg.Token, Data: map[string]string{"k": "v"}}
	if err := f.s.RegisterServiceAccountJSON(sa.JSON()); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(f.ctx, msg); err != nil {
		t.Fatalf("send after: %v", err)
	}

	for _, bad := range []string{`{}`, `not JSON`, `{"type":"authorized_user"}`, `{"type":"service_account","private_key":"nope"}`} {
		if err := f.s.RegisterServiceAccountJSON([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "mockfcm: ") {
			t.Errorf("RegisterServiceAccountJSON(%s) = %v, want a mockfcm: error", bad, err)
		}
	}
}
