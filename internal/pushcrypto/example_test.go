package pushcrypto_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pushlab/pushlab/internal/pushcrypto"
)

// The whole path: the device registers its key, the server signs and
// seals, the device verifies and opens.
func Example() {
	// Device, at install: a key pair and auth secret; the public part is
	// registered with the server as JSON.
	device, _ := pushcrypto.GenerateDeviceKey(nil)
	registration, _ := json.Marshal(device.Recipient())

	// Server: its signing key; the app pins the public half by kid.
	serverKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer := pushcrypto.NewSigner(serverKey, "server-2026")

	var rcpt pushcrypto.Recipient
	_ = json.Unmarshal(registration, &rcpt)
	now := time.Now()
	sig, _ := signer.Sign("ack-1", "apns-token-1", now)
	envelope, _ := pushcrypto.SealContents(rcpt, pushcrypto.Contents{Message: "Lunch?", SenderName: "alice"}, nil)

	// Device, on receipt (through the proxy and APNs, which see neither
	// the message nor a key).
	verifier, _ := pushcrypto.NewVerifier(map[string]*ecdsa.PublicKey{"server-2026": &serverKey.PublicKey})
	if err := verifier.Verify(sig, "ack-1", "apns-token-1", now); err != nil {
		fmt.Println("show the generic alert:", err)
		return
	}
	c, err := pushcrypto.OpenContents(device, envelope)
	if err != nil {
		fmt.Println("show the generic alert:", err)
		return
	}
	fmt.Printf("%s: %s\n", c.SenderName, c.Message)

	// The same signature on another device's notification is refused.
	err = verifier.Verify(sig, "ack-1", "apns-token-2", now)
	fmt.Println(errors.Is(err, pushcrypto.ErrClaimsMismatch))
	// Output:
	// alice: Lunch?
	// true
}
