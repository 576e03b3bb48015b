package pushcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Envelope format constants; the layout is in the package documentation.
const (
	envelopePrefix = "v1."
	version1       = 0x01

	saltLen       = 16
	authSecretLen = 16 // RFC 8291 §3.2
	pointLen      = 65 // uncompressed P-256 point, 0x04 || X || Y
	tagLen        = 16
	maxKeyIDLen   = 255

	// padBlock is the bucket the padded record length is rounded up to.
	padBlock = 32
	// recordDelimiter ends the last (here: only) RFC 8188 record.
	recordDelimiter = 0x02

	// MaxPlaintext is the most Seal accepts: ample for a push payload (APNs
	// takes 4 KiB in all) and small enough that a device can bound the work
	// hostile input costs it.
	MaxPlaintext = 32 << 10
	// maxEnvelopeLen is the longest envelope text Open decodes: the text of
	// a MaxPlaintext message with the longest key id, and a little more.
	maxEnvelopeLen = 4*(1+saltLen+1+maxKeyIDLen+pointLen+MaxPlaintext+padBlock+tagLen)/3 + 64
)

// b64 is unpadded base64url, strict so that the unused low bits of the last
// character must be zero: every character change is then a byte change.
var b64 = base64.RawURLEncoding.Strict()

// Recipient is what a device registers with the server: where to seal.
type Recipient struct {
	KeyID      string          // 1 to 255 bytes, chosen by the device
	PublicKey  *ecdh.PublicKey // P-256
	AuthSecret []byte          // 16 bytes, RFC 8291 §3.2
}

// recipientJSON is the registration form, named after the Web Push
// subscription keys (p256dh, auth) it mirrors.
type recipientJSON struct {
	KeyID  string `json:"key_id"`
	P256DH string `json:"p256dh"` // base64url, uncompressed point
	Auth   string `json:"auth"`   // base64url, 16 bytes
}

// ParseRecipient decodes a registration: keyID, the base64url uncompressed
// P-256 point and the base64url auth secret (padding tolerated, as Web Push
// clients differ).
func ParseRecipient(keyID, p256dh, auth string) (Recipient, error) {
	point, err := decodeKeyPart(p256dh)
	if err != nil {
		return Recipient{}, fmt.Errorf("%w: p256dh %.16q…: %v", ErrInvalidKey, p256dh, err)
	}
	pub, err := ecdh.P256().NewPublicKey(point)
	if err != nil {
		return Recipient{}, fmt.Errorf("%w: p256dh %.16q… is not a P-256 point: %v", ErrInvalidKey, p256dh, err)
	}
	secret, err := decodeKeyPart(auth)
	if err != nil {
		return Recipient{}, fmt.Errorf("%w: auth: %v", ErrInvalidKey, err)
	}
	r := Recipient{KeyID: keyID, PublicKey: pub, AuthSecret: secret}
	if err := r.validate(); err != nil {
		return Recipient{}, err
	}
	return r, nil
}

func decodeKeyPart(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}

// MarshalJSON gives the registration form
// {"key_id":…,"p256dh":<base64url point>,"auth":<base64url secret>}.
func (r Recipient) MarshalJSON() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(recipientJSON{
		KeyID:  r.KeyID,
		P256DH: b64.EncodeToString(r.PublicKey.Bytes()),
		Auth:   b64.EncodeToString(r.AuthSecret),
	})
}

// UnmarshalJSON reads the registration form, checking it as ParseRecipient.
func (r *Recipient) UnmarshalJSON(data []byte) error {
	var j recipientJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	parsed, err := ParseRecipient(j.KeyID, j.P256DH, j.Auth)
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}

// String shows the key id and fingerprint, not the auth secret.
func (r Recipient) String() string {
	return fmt.Sprintf("Recipient(id=%q, %s)", r.KeyID, KeyFingerprint(r.PublicKey))
}

// GoString keeps %#v from printing the auth secret too.
func (r Recipient) GoString() string { return r.String() }

func (r Recipient) validate() error {
	if err := validKeyID(r.KeyID); err != nil {
		return err
	}
	if r.PublicKey == nil || r.PublicKey.Curve() != ecdh.P256() {
		return fmt.Errorf("%w: key %q: public key must be P-256", ErrInvalidKey, r.KeyID)
	}
	if len(r.AuthSecret) != authSecretLen {
		return fmt.Errorf("%w: key %q: auth secret is %d bytes, want %d", ErrInvalidKey, r.KeyID, len(r.AuthSecret), authSecretLen)
	}
	return nil
}

func validKeyID(id string) error {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return fmt.Errorf("%w: key id %.32q is %d bytes, want 1 to %d", ErrInvalidKey, id, len(id), maxKeyIDLen)
	}
	return nil
}

// Seal encrypts plaintext to rcpt and returns the envelope text. rand
// supplies the salt and the ephemeral key, in that order (nil means
// crypto/rand); a fixed reader gives a fixed envelope, for test vectors.
func Seal(rcpt Recipient, plaintext []byte, rand io.Reader) (string, error) {
	if err := rcpt.validate(); err != nil {
		return "", err
	}
	if len(plaintext) > MaxPlaintext {
		return "", fmt.Errorf("pushcrypto: plaintext is %d bytes, over %d", len(plaintext), MaxPlaintext)
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("pushcrypto: reading salt: %w", err)
	}
	eph, err := newP256Key(rand)
	if err != nil {
		return "", err
	}

	header := make([]byte, 0, 1+saltLen+1+len(rcpt.KeyID)+pointLen)
	header = append(header, version1)
	header = append(header, salt...)
	header = append(header, byte(len(rcpt.KeyID)))
	header = append(header, rcpt.KeyID...)
	header = append(header, eph.PublicKey().Bytes()...)

	// Pad to the bucket: the delimiter, then zeros (RFC 8188 §2).
	record := make([]byte, (len(plaintext)+1+padBlock-1)/padBlock*padBlock)
	copy(record, plaintext)
	record[len(plaintext)] = recordDelimiter

	sealed, err := encryptRecord(eph, rcpt.PublicKey, rcpt.AuthSecret, salt, record, header)
	if err != nil {
		return "", err
	}
	return envelopePrefix + b64.EncodeToString(append(header, sealed...)), nil
}

// newP256Key draws a P-256 private key from r by rejection sampling:
// 32-byte candidates until one is in [1, n-1]. A uniform candidate is out of
// range with probability below 2^-32. Reading the scalar here, rather than
// calling ecdh.GenerateKey, keeps r meaningful: since Go 1.26 GenerateKey
// ignores its reader.
func newP256Key(r io.Reader) (*ecdh.PrivateKey, error) {
	var candidate [32]byte
	for range 64 {
		if _, err := io.ReadFull(r, candidate[:]); err != nil {
			return nil, fmt.Errorf("pushcrypto: reading key: %w", err)
		}
		if k, err := ecdh.P256().NewPrivateKey(candidate[:]); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("pushcrypto: random source gave no valid P-256 scalar in 64 tries")
}

// DeviceKey is a device's decryption key. ID, Private and AuthSecret are
// exported so that a device simulator can store and restore it; the public
// part goes to the server as Recipient().
type DeviceKey struct {
	ID         string           // 1 to 255 bytes, sent in every envelope
	Private    *ecdh.PrivateKey // P-256
	AuthSecret []byte           // 16 bytes
}

// GenerateDeviceKey draws a key pair and auth secret from rand (the scalar,
// then the secret; nil means crypto/rand). The ID defaults to 12 base64url
// characters of the SHA-256 of the public point, short and stable; a device
// that wants a rotation counter or a name may set its own before
// registering.
func GenerateDeviceKey(rand io.Reader) (*DeviceKey, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	priv, err := newP256Key(rand)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, authSecretLen)
	if _, err := io.ReadFull(rand, secret); err != nil {
		return nil, fmt.Errorf("pushcrypto: reading auth secret: %w", err)
	}
	sum := sha256.Sum256(priv.PublicKey().Bytes())
	return &DeviceKey{ID: b64.EncodeToString(sum[:9]), Private: priv, AuthSecret: secret}, nil
}

// Recipient is the public part, to register with the server.
func (k *DeviceKey) Recipient() Recipient {
	if k.Private == nil {
		return Recipient{KeyID: k.ID} // Seal will say what is missing
	}
	return Recipient{
		KeyID:      k.ID,
		PublicKey:  k.Private.PublicKey(),
		AuthSecret: append([]byte(nil), k.AuthSecret...),
	}
}

// Open decrypts an envelope sealed to this key.
func (k *DeviceKey) Open(envelope string) ([]byte, error) {
	return Keyring{k}.Open(envelope)
}

// String shows the key id and public fingerprint, so that logging a
// DeviceKey never prints its private scalar or auth secret.
func (k *DeviceKey) String() string {
	if k == nil || k.Private == nil {
		return "DeviceKey(none)"
	}
	return fmt.Sprintf("DeviceKey(id=%q, %s)", k.ID, KeyFingerprint(k.Private.PublicKey()))
}

// GoString keeps %#v from printing the key material too.
func (k *DeviceKey) GoString() string { return k.String() }

func (k *DeviceKey) validate() error {
	if err := validKeyID(k.ID); err != nil {
		return err
	}
	if k.Private == nil || k.Private.Curve() != ecdh.P256() {
		return fmt.Errorf("%w: key %q: private key must be P-256", ErrInvalidKey, k.ID)
	}
	if len(k.AuthSecret) != authSecretLen {
		return fmt.Errorf("%w: key %q: auth secret is %d bytes, want %d", ErrInvalidKey, k.ID, len(k.AuthSecret), authSecretLen)
	}
	return nil
}

// Keyring is the keys a device holds at once, e.g. during a rotation, while
// notifications sealed to the old key are still in flight. Open picks the
// key by the envelope's key id; ids should be unique, the first match is
// used.
type Keyring []*DeviceKey

// Opener is a DeviceKey or a Keyring.
type Opener interface {
	Open(envelope string) ([]byte, error)
}

// Open decrypts an envelope sealed to one of the keys.
func (kr Keyring) Open(envelope string) ([]byte, error) {
	env, err := parseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	var key *DeviceKey
	for _, k := range kr {
		if k != nil && k.ID == env.keyID {
			key = k
			break
		}
	}
	if key == nil {
		return nil, fmt.Errorf("%w: envelope key id %q, device holds %s", ErrWrongKey, env.keyID, kr.ids())
	}
	if err := key.validate(); err != nil {
		return nil, err
	}
	record, err := decryptRecord(key.Private, env.ephemeral, key.AuthSecret, env.salt, env.sealed, env.header)
	if err != nil {
		return nil, err
	}
	// Unpad: zeros, then the last-record delimiter (RFC 8188 §2).
	end := len(record) - 1
	for end >= 0 && record[end] == 0 {
		end--
	}
	if end < 0 || record[end] != recordDelimiter {
		return nil, fmt.Errorf("%w: record for key id %q has no last-record delimiter", ErrMalformedEnvelope, env.keyID)
	}
	return record[:end], nil
}

func (kr Keyring) ids() string {
	ids := make([]string, 0, len(kr))
	for _, k := range kr {
		if k != nil {
			ids = append(ids, fmt.Sprintf("%q", k.ID))
		}
	}
	if len(ids) == 0 {
		return "no keys"
	}
	return strings.Join(ids, ", ")
}

// envelope is a decoded, not yet authenticated, envelope.
type envelope struct {
	header    []byte // version through ephemeral key: the AAD
	salt      []byte
	keyID     string
	ephemeral *ecdh.PublicKey
	sealed    []byte // ciphertext || tag
}

func parseEnvelope(s string) (*envelope, error) {
	if len(s) > maxEnvelopeLen {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrMalformedEnvelope, len(s), maxEnvelopeLen)
	}
	version, body, ok := strings.Cut(s, ".")
	if !ok {
		return nil, fmt.Errorf("%w: no version prefix in %.16q", ErrMalformedEnvelope, s)
	}
	if version+"." != envelopePrefix {
		return nil, fmt.Errorf("%w: %.16q", ErrUnsupportedVersion, version)
	}
	// The decoder skips CR and LF; refuse them so that one envelope has one
	// text.
	if i := strings.IndexAny(body, "\r\n"); i >= 0 {
		return nil, fmt.Errorf("%w: line break at byte %d", ErrMalformedEnvelope, len(version)+1+i)
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedEnvelope, err)
	}
	const fixed = 1 + saltLen + 1
	if len(raw) < fixed {
		return nil, fmt.Errorf("%w: %d bytes, too short for a header", ErrMalformedEnvelope, len(raw))
	}
	if raw[0] != version1 {
		return nil, fmt.Errorf("%w: header version %d under prefix %q", ErrUnsupportedVersion, raw[0], envelopePrefix)
	}
	n := int(raw[fixed-1])
	if n == 0 {
		return nil, fmt.Errorf("%w: empty key id", ErrMalformedEnvelope)
	}
	headerLen := fixed + n + pointLen
	if len(raw) < headerLen+1+tagLen {
		return nil, fmt.Errorf("%w: %d bytes, too short for key id length %d", ErrMalformedEnvelope, len(raw), n)
	}
	eph, err := ecdh.P256().NewPublicKey(raw[fixed+n : headerLen])
	if err != nil {
		return nil, fmt.Errorf("%w: ephemeral key is not a P-256 point (key id %q)", ErrMalformedEnvelope, raw[fixed:fixed+n])
	}
	return &envelope{
		header:    raw[:headerLen],
		salt:      raw[1 : 1+saltLen],
		keyID:     string(raw[fixed : fixed+n]),
		ephemeral: eph,
		sealed:    raw[headerLen:],
	}, nil
}

// encryptRecord and decryptRecord are the RFC 8291 key schedule and one
// AES-128-GCM record; with aad nil they are exactly RFC 8291.
func encryptRecord(eph *ecdh.PrivateKey, device *ecdh.PublicKey, auth, salt, record, aad []byte) ([]byte, error) {
	shared, err := eph.ECDH(device)
	if err != nil {
		return nil, fmt.Errorf("pushcrypto: ECDH: %w", err)
	}
	aead, nonce, err := contentKey(shared, auth, device.Bytes(), eph.PublicKey().Bytes(), salt)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nonce, record, aad), nil
}

func decryptRecord(device *ecdh.PrivateKey, eph *ecdh.PublicKey, auth, salt, sealed, aad []byte) ([]byte, error) {
	shared, err := device.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("%w: ECDH: %v", ErrDecrypt, err)
	}
	aead, nonce, err := contentKey(shared, auth, device.PublicKey().Bytes(), eph.Bytes(), salt)
	if err != nil {
		return nil, err
	}
	record, err := aead.Open(nil, nonce, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %d-byte record did not authenticate", ErrDecrypt, len(sealed))
	}
	return record, nil
}

// contentKey derives the AES-128-GCM key and nonce: RFC 8291 §3.3–3.4 for
// the input keying material, RFC 8188 §2.2–2.3 for the key and nonce (the
// nonce is used as is: one record, sequence number 0).
func contentKey(shared, auth, devicePub, ephemeralPub, salt []byte) (cipher.AEAD, []byte, error) {
	// HKDF-SHA256 whose outputs are at most one hash long: Extract is
	// HMAC(salt, secret) and Expand is HMAC(PRK, info || 0x01) cut to length
	// (RFC 5869 §2.2–2.3), computed in place rather than through crypto/hkdf's
	// fresh HMAC and buffers per call.
	var prkKey, ikm, prk, cek [sha256.Size]byte
	mac := hmac.New(sha256.New, auth)
	mac.Write(shared)
	mac.Sum(prkKey[:0])
	mac = hmac.New(sha256.New, prkKey[:])
	mac.Write([]byte("WebPush: info\x00"))
	mac.Write(devicePub)
	mac.Write(ephemeralPub)
	mac.Write([]byte{1})
	mac.Sum(ikm[:0])
	mac = hmac.New(sha256.New, salt)
	mac.Write(ikm[:])
	mac.Sum(prk[:0])
	mac = hmac.New(sha256.New, prk[:])
	mac.Write([]byte("Content-Encoding: aes128gcm\x00\x01"))
	mac.Sum(cek[:0])
	mac.Reset()
	mac.Write([]byte("Content-Encoding: nonce\x00\x01"))
	nonce := mac.Sum(make([]byte, 0, sha256.Size))[:12] // RFC 8188: a 96-bit nonce
	block, err := aes.NewCipher(cek[:16])
	if err != nil {
		return nil, nil, fmt.Errorf("pushcrypto: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, fmt.Errorf("pushcrypto: %w", err)
	}
	return aead, nonce, nil
}
