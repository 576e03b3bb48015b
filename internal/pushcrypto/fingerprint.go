package pushcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"reflect"
)

// KeyFingerprint names a key in logs and UIs, where the key itself must
// never appear: "SHA256:" and the unpadded standard base64 of the SHA-256 of
// the key's SubjectPublicKeyInfo DER (the HPKP pin-sha256 value), i.e.
//
//	openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64 | tr -d =
//
// The same P-256 point gives the same fingerprint as *ecdsa.PublicKey or
// *ecdh.PublicKey. A private key is fingerprinted by its public half, so
// passing one by mistake still logs nothing secret. A nil or unsupported
// value gives "SHA256:?(type)".
func KeyFingerprint(pub crypto.PublicKey) string {
	invalid := fmt.Sprintf("SHA256:?(%T)", pub)
	if v := reflect.ValueOf(pub); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return invalid
	}
	switch k := pub.(type) {
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case interface{ Public() crypto.PublicKey }:
		pub = k.Public()
	}
	// x509 dereferences the curve of an ECDSA key without checking it.
	if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve == nil {
		return invalid
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return invalid
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
