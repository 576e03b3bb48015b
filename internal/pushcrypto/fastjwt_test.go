package pushcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The signer's tokens are golang-jwt's, byte for byte up to the signature,
// and the verifier's fast path takes exactly those; anything else goes to
// golang-jwt, which still accepts a valid token it did not make.
func TestFastJWTMatchesGolangJWT(t *testing.T) {
	key := newECDSAKey(t, elliptic.P256())
	v := newVerifier(t, map[string]*ecdsa.PublicKey{testKID: &key.PublicKey})
	for _, ttl := range []time.Duration{0, time.Hour} {
		s := &Signer{Key: key, KeyID: testKID, TTL: ttl}
		ours, err := s.Sign(testAckID, testDevice, testNow)
		if err != nil {
			t.Fatal(err)
		}
		c := claims{AckID: testAckID, DeviceID: testDevice}
		c.IssuedAt = jwt.NewNumericDate(testNow)
		if ttl > 0 {
			c.ExpiresAt = jwt.NewNumericDate(testNow.Add(ttl))
		}
		theirs := rawJWT(t, jwt.SigningMethodES256, map[string]any{"kid": testKID}, c, key)
		cut := func(tok string) string { return tok[:strings.LastIndexByte(tok, '.')] }
		if cut(ours) != cut(theirs) {
			t.Errorf("ttl %s: signed\n%s\ngolang-jwt signs\n%s", ttl, cut(ours), cut(theirs))
		}
		for _, tok := range []string{ours, theirs} {
			if _, fast := v.verifyFast(tok); !fast {
				t.Errorf("ttl %s: fast path refused %s", ttl, tok)
			}
			if err := v.Verify(tok, testAckID, testDevice, testNow); err != nil {
				t.Errorf("ttl %s: %v", ttl, err)
			}
		}
	}
	// An extra claim: not the fast path's shape, still a valid signature.
	extra := jwt.MapClaims{"ack_id": testAckID, "device_id": testDevice, "iat": testNow.Unix(), "iss": "server"}
	tok := rawJWT(t, jwt.SigningMethodES256, map[string]any{"kid": testKID}, extra, key)
	if _, fast := v.verifyFast(tok); fast {
		t.Error("fast path took a token with an unknown claim")
	}
	if err := v.Verify(tok, testAckID, testDevice, testNow); err != nil {
		t.Errorf("extra claim: %v", err)
	}
	// A signature by another key under the pinned kid: refused by both paths.
	other := newECDSAKey(t, elliptic.P256())
	forged, _ := NewSigner(other, testKID).Sign(testAckID, testDevice, testNow)
	if _, fast := v.verifyFast(forged); fast {
		t.Error("fast path took a forged token")
	}
	if err := v.Verify(forged, testAckID, testDevice, testNow); !isAny(err, ErrBadSignature) {
		t.Errorf("forged: %v", err)
	}
}
