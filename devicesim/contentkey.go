package devicesim

import (
	"crypto/ecdh"
	"fmt"

	"github.com/pushlab/pushlab/internal/pushcrypto"
)

// ContentKey is the public half of a device's content key, which the app
// registers with its server so that the server can seal contents only the
// device opens (RFC 8291: a P-256 point and a 16-byte auth secret, under an
// id the device chose). Its JSON is the registration form, named after the
// Web Push subscription keys it mirrors:
// {"key_id":…,"p256dh":<base64url point>,"auth":<base64url secret>}.
type ContentKey struct {
	ID         string
	PublicKey  *ecdh.PublicKey
	AuthSecret []byte
}

// MarshalJSON gives the registration form; an incomplete key is an error.
func (k ContentKey) MarshalJSON() ([]byte, error) { return k.recipient().MarshalJSON() }

// UnmarshalJSON reads the registration form and checks the key.
func (k *ContentKey) UnmarshalJSON(b []byte) error {
	var r pushcrypto.Recipient
	if err := r.UnmarshalJSON(b); err != nil {
		return err
	}
	*k = ContentKey{ID: r.KeyID, PublicKey: r.PublicKey, AuthSecret: r.AuthSecret}
	return nil
}

// Fingerprint identifies the public key in logs and events.
func (k ContentKey) Fingerprint() string { return pushcrypto.KeyFingerprint(k.PublicKey) }

// String shows the key id and fingerprint, never the auth secret.
func (k ContentKey) String() string {
	return fmt.Sprintf("ContentKey(id=%q, %s)", k.ID, k.Fingerprint())
}

// GoString keeps %#v from printing the auth secret too.
func (k ContentKey) GoString() string { return k.String() }

func (k ContentKey) recipient() pushcrypto.Recipient {
	return pushcrypto.Recipient{KeyID: k.ID, PublicKey: k.PublicKey, AuthSecret: k.AuthSecret}
}
