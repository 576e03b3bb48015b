package devicesim

import (
	"errors"
	"fmt"

	"github.com/pushlab/pushlab/internal/pushcrypto"
)

// ErrNoDevice: no device of that name in the fleet.
var ErrNoDevice = errors.New("devicesim: no such device")

// Reason is why a device refused a push, or what went wrong with it. It is the
// Status of the device.rejected, device.signature_bad and device.decrypt_failed
// events.
type Reason string

// Rejections before any cryptography.
const (
	ReasonMalformedPayload Reason = "malformed_payload" // the payload is not the provider's JSON shape
	ReasonWrongApp         Reason = "wrong_app"         // topic / package is not the app's compiled identity
	ReasonWrongServer      Reason = "wrong_server"      // server_id is not the server the app is logged into
	ReasonDuplicate        Reason = "duplicate"         // this ack_id was already handled (a replay)
	ReasonNotInstalled     Reason = "not_installed"     // the app was uninstalled; nothing runs to take it
	ReasonNoSession        Reason = "no_session"        // the app has no session with its server
)

// Signature verdicts (device.signature_bad). An accepted push gets
// device.signature_ok with status SignatureVerified, or, unverified,
// SignatureLegacyProxy or SignatureOldServer.
const (
	ReasonUnsigned          Reason = "unsigned"            // NO_SIGNATURE from a server release that signs
	ReasonUnsignedVoIP      Reason = "unsigned_voip"       // a VoIP push without a real signature
	ReasonNoServerVersion   Reason = "no_server_version"   // NO_SIGNATURE, and the app does not know the server's release
	ReasonMalformedSig      Reason = "malformed_signature" // not a JWT of the expected shape
	ReasonWrongAlgorithm    Reason = "wrong_algorithm"     // alg is not ES256
	ReasonUnknownKey        Reason = "unknown_key"         // kid names no key the app pins
	ReasonBadSignature      Reason = "bad_signature"       // signed by another key (forged)
	ReasonWrongDevice       Reason = "wrong_device"        // a valid signature for another device: replayed
	ReasonWrongNotification Reason = "wrong_notification"  // a valid signature for another ack_id
	ReasonExpired           Reason = "expired"             // iat too old for the device's clock
	ReasonNotYetValid       Reason = "not_yet_valid"       // iat in the device's future (clock skew)
)

// Decryption verdicts (device.decrypt_failed).
const (
	ReasonWrongKey          Reason = "wrong_key"          // sealed to a key id the device does not hold
	ReasonTampered          Reason = "tampered"           // AES-GCM did not authenticate
	ReasonMalformedEnvelope Reason = "malformed_envelope" // not a v1 envelope
	ReasonBadContents       Reason = "bad_contents"       // decrypted, but not the contents JSON
)

// RejectError is a device's refusal of one push. Test it with ReasonOf or the
// Is… predicates; Unwrap gives the underlying pushcrypto error, if any.
type RejectError struct {
	Device string
	AckID  string
	Reason Reason
	Err    error // cause, may be nil
}

func (e *RejectError) Error() string {
	msg := fmt.Sprintf("devicesim: device %s rejected push %q: %s", e.Device, e.AckID, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *RejectError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of a RejectError in err's chain, or "".
func ReasonOf(err error) Reason {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ""
}

// IsWrongApp reports a push for another app identity.
func IsWrongApp(err error) bool { return ReasonOf(err) == ReasonWrongApp }

// IsReplay reports a push replayed to this device: another device's
// notification, or one already handled.
func IsReplay(err error) bool {
	r := ReasonOf(err)
	return r == ReasonWrongDevice || r == ReasonDuplicate || r == ReasonWrongNotification
}

// Statuses of device.signature_ok: why the app accepted the push.
const (
	SignatureVerified    = "OK"           // ES256 by the pinned key, ack_id and device_id match
	SignatureLegacyProxy = "legacy_proxy" // no signature key at all: a proxy older than signatures
	SignatureOldServer   = "old_server"   // NO_SIGNATURE from a release older than the signing ones
)

// IsSignatureFailure reports any signature verdict other than success.
func IsSignatureFailure(err error) bool { return signatureReasons[ReasonOf(err)] }

// IsDecryptFailure reports contents that could not be opened.
func IsDecryptFailure(err error) bool { return decryptReasons[ReasonOf(err)] }

var signatureReasons = map[Reason]bool{
	ReasonUnsigned: true, ReasonUnsignedVoIP: true, ReasonNoServerVersion: true, ReasonMalformedSig: true, ReasonWrongAlgorithm: true, ReasonUnknownKey: true,
	ReasonBadSignature: true, ReasonWrongDevice: true, ReasonWrongNotification: true, ReasonExpired: true,
	ReasonNotYetValid: true,
}

var decryptReasons = map[Reason]bool{
	ReasonWrongKey: true, ReasonTampered: true, ReasonMalformedEnvelope: true, ReasonBadContents: true,
}

// signatureReason maps a pushcrypto verdict. A valid signature made for
// another device is a replay to this one, whatever its ack_id; one for this
// device and another ack_id was moved from another notification.
func signatureReason(err error) Reason {
	var claims *pushcrypto.ClaimsError
	switch {
	case errors.As(err, &claims) && claims.DeviceID != claims.WantDeviceID:
		return ReasonWrongDevice
	case errors.Is(err, pushcrypto.ErrNoSignature):
		return ReasonUnsigned
	case errors.Is(err, pushcrypto.ErrWrongAlgorithm):
		return ReasonWrongAlgorithm
	case errors.Is(err, pushcrypto.ErrUnknownKey):
		return ReasonUnknownKey
	case errors.Is(err, pushcrypto.ErrBadSignature):
		return ReasonBadSignature
	case errors.Is(err, pushcrypto.ErrClaimsMismatch):
		return ReasonWrongNotification
	case errors.Is(err, pushcrypto.ErrExpired):
		return ReasonExpired
	case errors.Is(err, pushcrypto.ErrNotYetValid):
		return ReasonNotYetValid
	default:
		return ReasonMalformedSig
	}
}

func decryptReason(err error) Reason {
	switch {
	case errors.Is(err, pushcrypto.ErrBadContents): // opened: the envelope was fine
		return ReasonBadContents
	case errors.Is(err, pushcrypto.ErrWrongKey):
		return ReasonWrongKey
	case errors.Is(err, pushcrypto.ErrDecrypt):
		return ReasonTampered
	default: // malformed, or a version this app does not know

		return ReasonMalformedEnvelope
	}
}
