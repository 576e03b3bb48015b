package pushcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// NoSignature is what the push proxy puts in the signature field when the
// server sent none.
const NoSignature = "NO_SIGNATURE"

// Defaults for [NewVerifier].
const (
	// DefaultSkew tolerates a phone clock a few minutes off, the common case
	// on devices without network time.
	DefaultSkew = 5 * time.Minute
	// DefaultMaxAge covers the longest a notification can legitimately wait
	// in the carriers' offline storage (about 30 days at APNs, 28 at FCM):
	// a phone that was off that long must still accept it.
	DefaultMaxAge = 30 * 24 * time.Hour
)

const (
	algorithm = "ES256"
	// maxTokenLen bounds the work done on hostile input; a real token is
	// about 300 bytes and a push payload at most 4 KiB.
	maxTokenLen = 8 << 10
)

// claims is the JWT body: the notification's identity and the time.
type claims struct {
	AckID    string `json:"ack_id"`
	DeviceID string `json:"device_id"`
	jwt.RegisteredClaims
}

// Signer signs notifications as the Mattermost server does. Its fields may
// be changed between calls, not during one.
type Signer struct {
	Key   *ecdsa.PrivateKey // P-256
	KeyID string            // JWT kid: which pinned key the device must use
	// TTL, when positive, adds exp = iat + TTL. Zero (the default) leaves
	// the lifetime to the verifier's MaxAge, as the Mattermost server does.
	TTL time.Duration
}

// NewSigner returns a Signer that signs with key under the id keyID.
func NewSigner(key *ecdsa.PrivateKey, keyID string) *Signer {
	return &Signer{Key: key, KeyID: keyID}
}

// Sign returns the signature JWT for the notification (ackID, deviceID),
// issued at now.
func (s *Signer) Sign(ackID, deviceID string, now time.Time) (string, error) {
	if s.Key == nil || s.Key.Curve != elliptic.P256() {
		return "", fmt.Errorf("pushcrypto: signer key must be ECDSA P-256, have %s", curveName(s.Key))
	}
	if s.KeyID == "" {
		return "", errors.New("pushcrypto: signer has no key id")
	}
	c := claims{AckID: ackID, DeviceID: deviceID}
	c.IssuedAt = jwt.NewNumericDate(now)
	if s.TTL > 0 {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(s.TTL))
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = s.KeyID
	sig, err := t.SignedString(s.Key)
	if err != nil {
		return "", fmt.Errorf("pushcrypto: signing with kid %q: %w", s.KeyID, err)
	}
	return sig, nil
}

// String names the signer by kid and fingerprint, so that logging a Signer
// never prints its private key.
func (s *Signer) String() string {
	if s == nil || s.Key == nil {
		return fmt.Sprintf("Signer(kid=%q, no key)", s.keyID())
	}
	return fmt.Sprintf("Signer(kid=%q, %s)", s.KeyID, KeyFingerprint(&s.Key.PublicKey))
}

// GoString keeps %#v from printing the private key too.
func (s *Signer) GoString() string { return s.String() }

func (s *Signer) keyID() string {
	if s == nil {
		return ""
	}
	return s.KeyID
}

// Verifier checks notification signatures on a device against the server
// keys pinned in the app. It is safe for concurrent use as long as its
// fields are not changed meanwhile.
//
// The accepted window, on the device's clock now: iat may be at most Skew
// ahead of now (a server clock ahead, or a device clock behind) and at most
// MaxAge+Skew behind it; exp, if present, may have passed by at most Skew.
type Verifier struct {
	Skew   time.Duration // clock skew tolerated either way; negative means 0
	MaxAge time.Duration // oldest iat accepted; 0 or negative: no limit

	keys   map[string]*ecdsa.PublicKey
	parser *jwt.Parser
}

// NewVerifier pins keys (by kid) and uses DefaultSkew and DefaultMaxAge.
// Every key must be P-256: ES256 is the only algorithm accepted.
func NewVerifier(keys map[string]*ecdsa.PublicKey) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("pushcrypto: verifier needs at least one pinned key")
	}
	pinned := make(map[string]*ecdsa.PublicKey, len(keys))
	for kid, k := range keys {
		if k == nil || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("pushcrypto: pinned key %q must be ECDSA P-256, have %s", kid, curveNameOf(k))
		}
		pinned[kid] = k
	}
	return &Verifier{
		Skew:   DefaultSkew,
		MaxAge: DefaultMaxAge,
		keys:   pinned,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{algorithm}),
			// Strict base64 so that flipping the unused low bits of a
			// segment's last character is an error, not the same token.
			jwt.WithStrictDecoding(),
			// Time is checked below, against the device clock and window.
			jwt.WithoutClaimsValidation(),
		),
	}, nil
}

// Verify checks that sig is a signature by a pinned key over exactly this
// notification's ackID and deviceID, valid at now (the device's clock).
// The error wraps one of the signature errors of this package.
func (v *Verifier) Verify(sig, ackID, deviceID string, now time.Time) error {
	if v == nil || v.parser == nil {
		return fmt.Errorf("%w: verifier pins no keys (make it with NewVerifier)", ErrUnknownKey)
	}
	if sig == "" || sig == NoSignature {
		return fmt.Errorf("%w: signature %q", ErrNoSignature, sig)
	}
	if len(sig) > maxTokenLen {
		return fmt.Errorf("%w: %d bytes, over %d", ErrMalformed, len(sig), maxTokenLen)
	}
	// The base64 decoder skips CR and LF; refuse them so that one token has
	// one text.
	if i := strings.IndexAny(sig, "\r\n"); i >= 0 {
		return fmt.Errorf("%w: line break at byte %d of %.32q", ErrMalformed, i, sig)
	}
	var c claims
	tok, err := v.parser.ParseWithClaims(sig, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := v.keys[kid]; ok {
			return k, nil
		}
		return nil, ErrUnknownKey
	})
	if err != nil {
		return v.classify(sig, tok, err)
	}

	if c.AckID != ackID || c.DeviceID != deviceID {
		return &ClaimsError{AckID: c.AckID, DeviceID: c.DeviceID, WantAckID: ackID, WantDeviceID: deviceID}
	}

	if c.IssuedAt == nil {
		return fmt.Errorf("%w: no iat claim", ErrMalformed)
	}
	skew := max(v.Skew, 0)
	iat := c.IssuedAt.Time
	// Sub saturates, so absurd dates from a signed but buggy token cannot
	// overflow into the window.
	age := now.Sub(iat)
	if age < -skew {
		return fmt.Errorf("%w: iat %s is %s ahead of the device clock %s, skew allowed %s",
			ErrNotYetValid, stamp(iat), (-age).Round(time.Second), stamp(now), skew)
	}
	if v.MaxAge > 0 && age > v.MaxAge+skew {
		return fmt.Errorf("%w: iat %s is %s old at %s, max age %s + skew %s",
			ErrExpired, stamp(iat), age.Round(time.Second), stamp(now), v.MaxAge, skew)
	}
	if c.ExpiresAt != nil && now.Sub(c.ExpiresAt.Time) > skew {
		return fmt.Errorf("%w: exp %s passed at %s, skew allowed %s",
			ErrExpired, stamp(c.ExpiresAt.Time), stamp(now), skew)
	}
	return nil
}

// classify maps a jwt parse error onto this package's errors. The order
// matters: alg is judged before the key, and the key before the signature,
// so a token with a wrong alg is reported as such whatever its kid.
func (v *Verifier) classify(sig string, tok *jwt.Token, err error) error {
	if tok == nil || errors.Is(err, jwt.ErrTokenMalformed) {
		return fmt.Errorf("%w: %.32q: %v", ErrMalformed, sig, err)
	}
	if alg := tok.Header["alg"]; alg != algorithm {
		return fmt.Errorf("%w: alg %q, only %s is accepted", ErrWrongAlgorithm, fmt.Sprint(alg), algorithm)
	}
	kid, isString := tok.Header["kid"].(string)
	key, ok := v.keys[kid]
	if !ok {
		shown := fmt.Sprintf("%q", kid)
		if raw, present := tok.Header["kid"]; !present {
			shown = "missing"
		} else if !isString {
			shown = fmt.Sprintf("%v (%T)", raw, raw)
		}
		return fmt.Errorf("%w: kid %s, pinned: %s", ErrUnknownKey, shown, strings.Join(v.keyIDs(), ", "))
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		return fmt.Errorf("%w: kid %q (%s)", ErrBadSignature, kid, KeyFingerprint(key))
	}
	return fmt.Errorf("%w: %.32q: %v", ErrMalformed, sig, err)
}

func (v *Verifier) keyIDs() []string {
	ids := make([]string, 0, len(v.keys))
	for kid := range v.keys {
		ids = append(ids, fmt.Sprintf("%q", kid))
	}
	slices.Sort(ids)
	return ids
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func curveName(k *ecdsa.PrivateKey) string {
	if k == nil {
		return "no key"
	}
	return curveNameOf(&k.PublicKey)
}

func curveNameOf(k *ecdsa.PublicKey) string {
	if k == nil {
		return "no key"
	}
	if k.Curve == nil {
		return "no curve"
	}
	return k.Curve.Params().Name
}
