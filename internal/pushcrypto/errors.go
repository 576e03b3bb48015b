package pushcrypto

import (
	"errors"
	"fmt"
)

// Signature verdicts. A device that gets any of them must show the generic
// alert, never the payload as it arrived (PROTOCOLS.md §4).
var (
	// ErrNoSignature: the signature is empty or NoSignature, the server did
	// not sign. Whether that is acceptable (older servers) is the device's
	// policy, so it has its own error.
	ErrNoSignature = errors.New("pushcrypto: notification is not signed")
	// ErrMalformed: not a JWT, or one without the claims this scheme needs.
	ErrMalformed = errors.New("pushcrypto: malformed signature")
	// ErrWrongAlgorithm: alg is not ES256 (e.g. HS256 with the public key as
	// secret, or none); such a token is refused before any key is used.
	ErrWrongAlgorithm = errors.New("pushcrypto: wrong signature algorithm")
	// ErrUnknownKey: kid names no pinned key.
	ErrUnknownKey = errors.New("pushcrypto: unknown signing key")
	// ErrBadSignature: the ECDSA signature does not verify with the pinned key.
	ErrBadSignature = errors.New("pushcrypto: bad signature")
	// ErrClaimsMismatch: a valid signature, but for another ack id or device.
	ErrClaimsMismatch = errors.New("pushcrypto: signature is for another notification")
	// ErrExpired: iat older than the verifier's MaxAge, or exp passed (both
	// allowing for clock skew).
	ErrExpired = errors.New("pushcrypto: signature expired")
	// ErrNotYetValid: iat ahead of the device clock by more than the skew.
	ErrNotYetValid = errors.New("pushcrypto: signature issued in the future")
)

// Envelope verdicts.
var (
	// ErrUnsupportedVersion: the envelope's version is not v1.
	ErrUnsupportedVersion = errors.New("pushcrypto: unsupported envelope version")
	// ErrMalformedEnvelope: the envelope cannot be decoded, or the decrypted
	// record is not well formed.
	ErrMalformedEnvelope = errors.New("pushcrypto: malformed envelope")
	// ErrWrongKey: the envelope is sealed to a key id the device does not hold.
	ErrWrongKey = errors.New("pushcrypto: envelope is for another key")
	// ErrDecrypt: authentication failed: tampered, or sealed to another key
	// or auth secret under the same key id.
	ErrDecrypt = errors.New("pushcrypto: decryption failed")
	// ErrBadContents: the envelope opened, but its plaintext is not the
	// contents JSON (OpenContents). It is an ErrMalformedEnvelope too.
	ErrBadContents = fmt.Errorf("%w: contents are not a JSON object", ErrMalformedEnvelope)
	// ErrInvalidKey: a device key or recipient that cannot be used (wrong
	// curve, auth secret not 16 bytes, bad key id, bad encoding).
	ErrInvalidKey = errors.New("pushcrypto: invalid key")
)

// ClaimsError is an ErrClaimsMismatch with what the signature was made for,
// so that a device tells a signature replayed to another device from one
// moved to another notification without reading the token again.
type ClaimsError struct {
	AckID, DeviceID         string // the signed claims
	WantAckID, WantDeviceID string // the notification's
}

// Error names the first claim that differs, ack_id before device_id.
func (e *ClaimsError) Error() string {
	if e.AckID != e.WantAckID {
		return fmt.Sprintf("%v: ack_id %q, notification has %q", ErrClaimsMismatch, e.AckID, e.WantAckID)
	}
	return fmt.Sprintf("%v: device_id %q, notification has %q", ErrClaimsMismatch, e.DeviceID, e.WantDeviceID)
}

// Unwrap makes errors.Is(err, ErrClaimsMismatch) hold.
func (e *ClaimsError) Unwrap() error { return ErrClaimsMismatch }
