package pushcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	signatureErrors = []error{ErrNoSignature, ErrMalformed, ErrWrongAlgorithm, ErrUnknownKey,
		ErrBadSignature, ErrClaimsMismatch, ErrExpired, ErrNotYetValid}
	envelopeErrors = []error{ErrUnsupportedVersion, ErrMalformedEnvelope, ErrWrongKey, ErrDecrypt, ErrInvalidKey}
)

// FuzzOpen: Open never panics, every refusal is one of the envelope errors,
// and only the one authentic text opens (no second encoding of it).
func FuzzOpen(f *testing.F) {
	k := newDeviceKey(f, "fuzz", "device-key-1")
	plaintext := []byte(`{"message":"fuzz me"}`)
	env, err := Seal(k.Recipient(), plaintext, newStream("fuzz-seal"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{env, env[:len(env)-1], "", "v1.", "v2.AQ", "v1.AQ", "v1.AgAAAAAAAAAAAAAAAAAAAAAA", "v1.====", env + "\n"} {
		f.Add(s)
	}
	// The checked-in vectors, sealed to other keys, make more seeds.
	var vs envelopeVectors
	if data, err := os.ReadFile(envelopeVectorsFile); err == nil {
		if err := json.Unmarshal(data, &vs); err != nil {
			f.Fatal(err)
		}
	}
	for _, v := range vs.Vectors {
		f.Add(v.Envelope)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Keyring{k}.Open(s)
		if err != nil {
			if !isAny(err, envelopeErrors...) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if s != env || string(got) != string(plaintext) {
			t.Fatalf("%q opened to %q", s, got)
		}
	})
}

// FuzzVerify: Verify never panics, every refusal is one of the signature
// errors, and nothing verifies but the seed's own claims (ECDSA cannot be
// forged by mutation).
func FuzzVerify(f *testing.F) {
	scalar := make([]byte, 32)
	newStream("fuzz-signing-key").Read(scalar)
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		f.Fatal(err)
	}
	v := newVerifier(f, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	sig, err := NewSigner(key, testKID).Sign(testAckID, testDevice, testNow)
	if err != nil {
		f.Fatal(err)
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	hs := rawJWT(f, jwt.SigningMethodHS256, map[string]any{"kid": testKID}, goodClaims(testNow), pub)
	none := rawJWT(f, jwt.SigningMethodNone, map[string]any{"kid": testKID}, goodClaims(testNow), jwt.UnsafeAllowNoneSignatureType)
	for _, s := range []string{sig, hs, none, "", NoSignature, "a.b.c", "..", sig + "."} {
		f.Add(s, testAckID, testDevice, int64(0))
	}
	f.Add(sig, testAckID, testDevice, int64(-3600))
	f.Add(sig, "other", testDevice, int64(40*24*3600))
	f.Fuzz(func(t *testing.T, s, ackID, deviceID string, offsetSeconds int64) {
		err := v.Verify(s, ackID, deviceID, testNow.Add(time.Duration(offsetSeconds)*time.Second))
		if err != nil {
			if !isAny(err, signatureErrors...) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if ackID != testAckID || deviceID != testDevice {
			t.Fatalf("verified for ack %q device %q: %q", ackID, deviceID, s)
		}
	})
}
