package pushcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync/atomic"
	"time"
)

// The signature JWT is made here without golang-jwt's maps and reflection
// (a notification is signed and verified on every hop of every push); the
// bytes are exactly what golang-jwt makes, and golang-jwt still judges every
// token the fast path does not accept whole.

var jwtB64 = base64.RawURLEncoding

// jwtHeader is golang-jwt's ES256 header with a kid, fields in its (sorted) order.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// encodedHeader is the first segment of a token signed under kid.
func encodedHeader(kid string) string {
	b, _ := json.Marshal(jwtHeader{Alg: algorithm, Kid: kid, Typ: "JWT"}) // strings only: cannot fail
	return jwtB64.EncodeToString(b)
}

// fastClaims is claims as golang-jwt writes them: RegisteredClaims' exp
// before iat, whole seconds.
type fastClaims struct {
	AckID    string `json:"ack_id"`
	DeviceID string `json:"device_id"`
	Exp      *int64 `json:"exp,omitempty"`
	Iat      *int64 `json:"iat,omitempty"`
}

type signerHeader struct{ kid, encoded string }

// headerFor caches the encoded header of the signer's current kid.
func (s *Signer) headerFor(cache *atomic.Pointer[signerHeader]) string {
	if h := cache.Load(); h != nil && h.kid == s.KeyID {
		return h.encoded
	}
	h := &signerHeader{kid: s.KeyID, encoded: encodedHeader(s.KeyID)}
	cache.Store(h)
	return h.encoded
}

// signFast makes the token: header.claims.signature, the signature r || s
// over SHA-256 of the first two, 32 bytes each.
func (s *Signer) signFast(ackID, deviceID string, now time.Time) (string, error) {
	iat := now.Unix()
	c := fastClaims{AckID: ackID, DeviceID: deviceID, Iat: &iat}
	if s.TTL > 0 {
		exp := now.Add(s.TTL).Unix()
		c.Exp = &exp
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("pushcrypto: encoding claims: %w", err)
	}
	header := s.headerFor(&s.header)
	n := len(header) + 1 + jwtB64.EncodedLen(len(body))
	buf := make([]byte, n, n+1+jwtB64.EncodedLen(64))
	copy(buf, header)
	buf[len(header)] = '.'
	jwtB64.Encode(buf[len(header)+1:], body)
	digest := sha256.Sum256(buf)
	r, ss, err := ecdsa.Sign(rand.Reader, s.Key, digest[:])
	if err != nil {
		return "", fmt.Errorf("pushcrypto: signing with kid %q: %w", s.KeyID, err)
	}
	var raw [64]byte
	r.FillBytes(raw[:32])
	ss.FillBytes(raw[32:])
	buf = append(buf, '.')
	buf = jwtB64.AppendEncode(buf, raw[:])
	return string(buf), nil
}

// verifyFast accepts a token only if it is exactly what signFast makes for
// a pinned kid: the canonical header, strictly encoded claims of the known
// fields in whole seconds, and a good signature. ok false means "not
// judged": the caller asks golang-jwt, which gives the reason.
func (v *Verifier) verifyFast(sig string) (c fastClaims, ok bool) {
	h, rest, found := strings.Cut(sig, ".")
	if !found {
		return c, false
	}
	key := v.byHeader[h]
	if key == nil {
		return c, false
	}
	body, sigPart, found := strings.Cut(rest, ".")
	if !found || strings.IndexByte(sigPart, '.') >= 0 || len(sigPart) != jwtB64.EncodedLen(64) {
		return c, false
	}
	var claimBuf [512]byte
	if jwtB64.DecodedLen(len(body)) > len(claimBuf) {
		return c, false
	}
	n, err := jwtB64.Strict().Decode(claimBuf[:], []byte(body))
	if err != nil {
		return c, false
	}
	dec := json.NewDecoder(bytes.NewReader(claimBuf[:n]))
	dec.DisallowUnknownFields()
	if dec.Decode(&c) != nil || dec.More() || c.Iat == nil {
		return c, false
	}
	var raw [64]byte
	if m, err := jwtB64.Strict().Decode(raw[:], []byte(sigPart)); err != nil || m != 64 {
		return c, false
	}
	digest := sha256.Sum256([]byte(sig[:len(h)+1+len(body)]))
	r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return c, false
	}
	return c, true
}
