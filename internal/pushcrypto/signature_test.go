package pushcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testKID    = "server-key-1"
	testAckID  = "ack-5f1c2d"
	testDevice = "apple_rn-v2:0f3e9a7c1b2d4e6f8a0b1c2d3e4f5a6b"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func newECDSAKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newVerifier(t testing.TB, keys map[string]*ecdsa.PublicKey) *Verifier {
	t.Helper()
	v, err := NewVerifier(keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rawJWT signs claims with any method and key, bypassing Signer, to build
// the tokens a Signer never makes.
func rawJWT(t testing.TB, m jwt.SigningMethod, header map[string]any, c jwt.Claims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func goodClaims(iat time.Time) jwt.MapClaims {
	return jwt.MapClaims{"ack_id": testAckID, "device_id": testDevice, "iat": iat.Unix()}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	tests := []struct {
		name            string
		ttl             time.Duration
		ackID, deviceID string
	}{
		{"plain", 0, testAckID, testDevice},
		{"with exp", time.Hour, testAckID, testDevice},
		{"unicode and quotes", 0, `ack "ü"`, "device\u2028ß"},
		{"empty ack id", 0, "", testDevice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSigner(key, testKID)
			s.TTL = tt.ttl
			sig, err := s.Sign(tt.ackID, tt.deviceID, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(sig, tt.ackID, tt.deviceID, testNow); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestSignerErrors(t *testing.T) {
	tests := []struct {
		name string
		s    *Signer
		want string
	}{
		{"no key", NewSigner(nil, testKID), "no key"},
		{"P-384 key", NewSigner(newECDSAKey(t, elliptic.P384()), testKID), "P-384"},
		{"no kid", NewSigner(newECDSAKey(t, elliptic.P256()), ""), "no key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.Sign(testAckID, testDevice, testNow)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Sign error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestNewVerifierRejectsKeys(t *testing.T) {
	tests := []struct {
		name string
		keys map[string]*ecdsa.PublicKey
	}{
		{"none", nil},
		{"nil key", map[string]*ecdsa.PublicKey{"a": nil}},
		{"P-384", map[string]*ecdsa.PublicKey{"a": &newECDSAKey(t, elliptic.P384()).PublicKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(tt.keys); err == nil {
				t.Fatal("NewVerifier accepted it")
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	other := newECDSAKey(t, elliptic.P256())
	p384 := newECDSAKey(t, elliptic.P384())
	v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	sign := func(s *Signer, ack, dev string, at time.Time) string {
		t.Helper()
		sig, err := s.Sign(ack, dev, at)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	signer := NewSigner(key, testKID)
	expiring := &Signer{Key: key, KeyID: testKID, TTL: time.Minute}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	kidHeader := map[string]any{"kid": testKID}
	good := sign(signer, testAckID, testDevice, testNow)
	parts := strings.Split(good, ".")

	tests := []struct {
		name string
		sig  string
		now  time.Time
		want error
		// shown is a value the message must carry.
		shown string
	}{
		{"empty", "", testNow, ErrNoSignature, `""`},
		{"NO_SIGNATURE", NoSignature, testNow, ErrNoSignature, NoSignature},
		{"not a JWT", "hello", testNow, ErrMalformed, "hello"},
		{"two segments", parts[0] + "." + parts[1], testNow, ErrMalformed, ""},
		{"four segments", good + ".x", testNow, ErrMalformed, ""},
		{"header not JSON", b64.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], testNow, ErrMalformed, ""},
		{"line break in the signature", good[:len(good)-4] + "\n" + good[len(good)-4:], testNow, ErrMalformed, fmt.Sprintf("line break at byte %d", len(good)-4)},
		{"padded signature", good + "==", testNow, ErrMalformed, ""},
		{"huge", strings.Repeat("a", maxTokenLen+1), testNow, ErrMalformed, fmt.Sprint(maxTokenLen + 1)},
		{"forged: other key, same kid", sign(NewSigner(other, testKID), testAckID, testDevice, testNow), testNow, ErrBadSignature, testKID},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(sign(signer, "x", testDevice, testNow), ".")[2], testNow, ErrBadSignature, KeyFingerprint(key)},
		{"unknown kid", sign(NewSigner(key, "server-key-2"), testAckID, testDevice, testNow), testNow, ErrUnknownKey, "server-key-2"},
		{"no kid", rawJWT(t, jwt.SigningMethodES256, nil, goodClaims(testNow), key), testNow, ErrUnknownKey, "kid missing"},
		{"numeric kid", rawJWT(t, jwt.SigningMethodES256, map[string]any{"kid": 7}, goodClaims(testNow), key), testNow, ErrUnknownKey, "7 (float64)"},
		{"HS256 with the public key DER as secret", rawJWT(t, jwt.SigningMethodHS256, kidHeader, goodClaims(testNow), pubDER), testNow, ErrWrongAlgorithm, "HS256"},
		{"HS256 with the public point as secret", rawJWT(t, jwt.SigningMethodHS256, kidHeader, goodClaims(testNow), mustBytes(t, key.PublicKey.Bytes)), testNow, ErrWrongAlgorithm, "HS256"},
		{"alg none", rawJWT(t, jwt.SigningMethodNone, kidHeader, goodClaims(testNow), jwt.UnsafeAllowNoneSignatureType), testNow, ErrWrongAlgorithm, "none"},
		{"ES384, same kid", rawJWT(t, jwt.SigningMethodES384, kidHeader, goodClaims(testNow), p384), testNow, ErrWrongAlgorithm, "ES384"},
		{"alg unknown", b64.EncodeToString([]byte(`{"alg":"XX256","kid":"server-key-1"}`)) + "." + parts[1] + "." + parts[2], testNow, ErrWrongAlgorithm, "XX256"},
		{"alg missing", b64.EncodeToString([]byte(`{"kid":"server-key-1"}`)) + "." + parts[1] + "." + parts[2], testNow, ErrWrongAlgorithm, ""},
		{"other ack id", sign(signer, "ack-other", testDevice, testNow), testNow, ErrClaimsMismatch, "ack-other"},
		{"other device", sign(signer, testAckID, "android_rn-v2:someone-else", testNow), testNow, ErrClaimsMismatch, "someone-else"},
		{"claims missing", rawJWT(t, jwt.SigningMethodES256, kidHeader, jwt.MapClaims{"iat": testNow.Unix()}, key), testNow, ErrClaimsMismatch, ""},
		{"claim of wrong type", rawJWT(t, jwt.SigningMethodES256, kidHeader, jwt.MapClaims{"ack_id": 1, "device_id": testDevice, "iat": testNow.Unix()}, key), testNow, ErrMalformed, ""},
		{"no iat", rawJWT(t, jwt.SigningMethodES256, kidHeader, jwt.MapClaims{"ack_id": testAckID, "device_id": testDevice}, key), testNow, ErrMalformed, "iat"},
		{"older than max age", sign(signer, testAckID, testDevice, testNow.Add(-DefaultMaxAge-DefaultSkew-time.Second)), testNow, ErrExpired, "2026-02-12T15:04:25Z"},
		{"exp passed beyond skew", sign(expiring, testAckID, testDevice, testNow), testNow.Add(time.Minute + DefaultSkew + time.Second), ErrExpired, "exp 2026-03-14T15:10:26Z"},
		{"issued in the future", sign(signer, testAckID, testDevice, testNow.Add(time.Hour)), testNow, ErrNotYetValid, "1h0m0s ahead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(tt.sig, testAckID, testDevice, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.shown) {
				t.Errorf("message %q does not show %q", err, tt.shown)
			}
			assertNoKeyMaterial(t, err.Error(), key, other)
		})
	}
}

// assertNoKeyMaterial fails if msg carries any encoding of a private scalar
// or a public key.
func assertNoKeyMaterial(t *testing.T, msg string, keys ...*ecdsa.PrivateKey) {
	t.Helper()
	for _, k := range keys {
		for _, secret := range [][]byte{mustBytes(t, k.Bytes), mustBytes(t, k.PublicKey.Bytes)} {
			for _, enc := range []string{
				fmt.Sprintf("%x", secret), base64.StdEncoding.EncodeToString(secret), b64.EncodeToString(secret),
			} {
				if strings.Contains(msg, enc[:16]) || strings.Contains(msg, enc[len(enc)-16:]) {
					t.Fatalf("message carries key material: %q", msg)
				}
			}
		}
	}
}

func mustBytes(t testing.TB, f func() ([]byte, error)) []byte {
	t.Helper()
	b, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestZeroVerifierRefuses(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	sig, _ := NewSigner(key, testKID).Sign(testAckID, testDevice, testNow)
	for _, v := range []*Verifier{nil, {}} {
		if err := v.Verify(sig, testAckID, testDevice, testNow); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("Verify = %v, want ErrUnknownKey", err)
		}
	}
}

// TestVerifyClockSkew drives the device clock away from the server's and
// checks the documented window: iat at most Skew ahead, at most
// MaxAge+Skew behind.
func TestVerifyClockSkew(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	sig, err := NewSigner(key, testKID).Sign(testAckID, testDevice, testNow)
	if err != nil {
		t.Fatal(err)
	}
	const day = 24 * time.Hour
	tests := []struct {
		name         string
		skew, maxAge time.Duration
		deviceOffset time.Duration // device clock minus server clock at signing
		want         error
	}{
		{"same clock", DefaultSkew, DefaultMaxAge, 0, nil},
		{"device behind within skew", DefaultSkew, DefaultMaxAge, -DefaultSkew, nil},
		{"device behind beyond skew", DefaultSkew, DefaultMaxAge, -DefaultSkew - time.Second, ErrNotYetValid},
		{"device an hour behind, skew 2h", 2 * time.Hour, DefaultMaxAge, -time.Hour, nil},
		{"device ahead a day", DefaultSkew, DefaultMaxAge, day, nil},
		{"delivered after 30 days offline", DefaultSkew, DefaultMaxAge, 30 * day, nil},
		{"at max age plus skew", DefaultSkew, DefaultMaxAge, DefaultMaxAge + DefaultSkew, nil},
		{"past max age plus skew", DefaultSkew, DefaultMaxAge, DefaultMaxAge + DefaultSkew + time.Second, ErrExpired},
		{"zero skew, 1s behind", 0, DefaultMaxAge, -time.Second, ErrNotYetValid},
		{"negative skew counts as zero", -time.Hour, DefaultMaxAge, -time.Second, ErrNotYetValid},
		{"no max age", DefaultSkew, 0, 10 * 365 * day, nil},
		{"short max age", DefaultSkew, time.Minute, 10 * time.Minute, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
			v.Skew, v.MaxAge = tt.skew, tt.maxAge
			err := v.Verify(sig, testAckID, testDevice, testNow.Add(tt.deviceOffset))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyKeyRotation: a device pinning two server keys accepts both;
// dropping the old one rejects its tokens by kid.
func TestVerifyKeyRotation(t *testing.T) {
	oldKey, newKey := newECDSAKey(t, elliptic.P256()), newECDSAKey(t, elliptic.P256())
	oldSig, _ := NewSigner(oldKey, "k1").Sign(testAckID, testDevice, testNow)
	newSig, _ := NewSigner(newKey, "k2").Sign(testAckID, testDevice, testNow)
	both := newVerifier(t, map[string]*ecdsa.PublicKey{"k1": &oldKey.PublicKey, "k2": &newKey.PublicKey})
	for _, sig := range []string{oldSig, newSig} {
		if err := both.Verify(sig, testAckID, testDevice, testNow); err != nil {
			t.Fatal(err)
		}
	}
	newOnly := newVerifier(t, map[string]*ecdsa.PublicKey{"k2": &newKey.PublicKey})
	if err := newOnly.Verify(oldSig, testAckID, testDevice, testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old key after rotation: %v, want ErrUnknownKey", err)
	}
	// Pinning the new key under the old kid: the old token no longer verifies.
	swapped := newVerifier(t, map[string]*ecdsa.PublicKey{"k1": &newKey.PublicKey})
	if err := swapped.Verify(oldSig, testAckID, testDevice, testNow); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("kid re-pinned to another key: %v, want ErrBadSignature", err)
	}
}

// TestVerifyTamperEveryBit flips each bit of the token text in turn, and
// each bit of the decoded signature (r||s) re-encoded: all must be refused,
// the latter as bad signatures.
func TestVerifyTamperEveryBit(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	sig, err := NewSigner(key, testKID).Sign(testAckID, testDevice, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(sig, testAckID, testDevice, testNow); err != nil {
		t.Fatal(err)
	}

	for i := range len(sig) {
		for bit := range 8 {
			b := []byte(sig)
			b[i] ^= 1 << bit
			if err := v.Verify(string(b), testAckID, testDevice, testNow); err == nil {
				t.Fatalf("token with bit %d of character %d flipped verified", bit, i)
			}
		}
	}

	dot := strings.LastIndexByte(sig, '.')
	raw, err := b64.DecodeString(sig[dot+1:])
	if err != nil || len(raw) != 64 {
		t.Fatalf("signature segment: %d bytes, %v", len(raw), err)
	}
	for i := range len(raw) * 8 {
		flipped := append([]byte(nil), raw...)
		flipped[i/8] ^= 1 << (i % 8)
		forged := sig[:dot+1] + b64.EncodeToString(flipped)
		if err := v.Verify(forged, testAckID, testDevice, testNow); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature bit %d flipped: %v, want ErrBadSignature", i, err)
		}
	}
}

func TestVerifyConcurrent(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	s := NewSigner(key, testKID)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				ack := fmt.Sprintf("ack-%d-%d", g, i)
				sig, err := s.Sign(ack, testDevice, testNow)
				if err != nil {
					t.Error(err)
					return
				}
				if err := v.Verify(sig, ack, testDevice, testNow); err != nil {
					t.Error(err)
				}
				if err := v.Verify(sig, "other", testDevice, testNow); !errors.Is(err, ErrClaimsMismatch) {
					t.Errorf("wrong ack: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyFingerprint(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	want := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	ecdhPub, err := key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	ecdhPriv, err := key.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]any{
		"ecdsa public": &key.PublicKey, "ecdsa private": key,
		"ecdh public": ecdhPub, "ecdh private": ecdhPriv,
	} {
		if got := KeyFingerprint(k); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if got := KeyFingerprint(&newECDSAKey(t, elliptic.P256()).PublicKey); got == want {
		t.Error("two keys share a fingerprint")
	}
	for name, k := range map[string]any{
		"nil": nil, "nil ecdsa": (*ecdsa.PublicKey)(nil), "nil ecdsa private": (*ecdsa.PrivateKey)(nil),
		"no curve": &ecdsa.PublicKey{}, "string": "key",
	} {
		if got := KeyFingerprint(k); !strings.HasPrefix(got, "SHA256:?(") {
			t.Errorf("%s: %q, want an invalid marker", name, got)
		}
	}
}

func TestSignerStringHidesKey(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	s := NewSigner(key, testKID)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, s)
		if !strings.Contains(out, KeyFingerprint(key)) {
			t.Errorf("%s: %q lacks the fingerprint", f, out)
		}
		assertNoKeyMaterial(t, out, key)
	}
}

func BenchmarkSign(b *testing.B) {
	s := NewSigner(newECDSAKey(b, elliptic.P256()), testKID)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(testAckID, testDevice, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	key := newECDSAKey(b, elliptic.P256())
	v := newVerifier(b, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	sig, err := NewSigner(key, testKID).Sign(testAckID, testDevice, testNow)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(sig, testAckID, testDevice, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// A claims mismatch says what the signature was made for, so that a device
// tells a replay to another device from a signature moved to another ack_id.
func TestClaimsErrorCarriesTheSignedClaims(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	signer := NewSigner(key, testKID)
	v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	tests := []struct {
		name, ack, device string
	}{
		{"other ack id", "ack-other", testDevice},
		{"other device", testAckID, "apple-v2:someone-else"},
		{"both", "ack-other", "apple-v2:someone-else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := signer.Sign(tt.ack, tt.device, testNow)
			if err != nil {
				t.Fatal(err)
			}
			err = v.Verify(sig, testAckID, testDevice, testNow)
			var ce *ClaimsError
			if !errors.As(err, &ce) || !errors.Is(err, ErrClaimsMismatch) {
				t.Fatalf("Verify = %v, want a *ClaimsError", err)
			}
			if ce.AckID != tt.ack || ce.DeviceID != tt.device || ce.WantAckID != testAckID || ce.WantDeviceID != testDevice {
				t.Errorf("claims %+v", ce)
			}
		})
	}
}
