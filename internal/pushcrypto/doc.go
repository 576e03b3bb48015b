// Package pushcrypto holds the two pieces of cryptography on pushlab's push
// path: the notification signature and the end-to-end encryption of the
// notification contents. The server simulator signs and seals; simulated
// devices verify and open. The push proxy and the mock APNs/FCM only ever
// carry the results, which is the point: none of them can forge a
// notification or read its contents.
//
// # Signature
//
// PushNotification.signature is a JWT (RFC 7519) signed ES256 (ECDSA P-256
// with SHA-256, RFC 7518 §3.4):
//
//	header  {"alg":"ES256","kid":<server signing key id>,"typ":"JWT"}
//	claims  {"ack_id":…,"device_id":…,"iat":<unix s>[,"exp":<unix s>]}
//
// A device pins the server's public keys by kid (as the app compiles them in),
// accepts ES256 and nothing else, and requires ack_id and device_id to equal
// the notification's own, so a signature cannot be moved to another
// notification or device. iat is checked against the device's own clock,
// which may be wrong: see [Verifier] for the window. When the server did not
// sign, the proxy forwards [NoSignature].
//
// # Content encryption
//
// Contents are sealed to a device key as in RFC 8291 (Message Encryption for
// Web Push), single record, on an RFC 8188 style key schedule:
//
//	ecdh_secret = ECDH(ephemeral private, device public)               P-256
//	PRK_key     = HKDF-Extract(salt=auth_secret, IKM=ecdh_secret)      SHA-256
//	IKM         = HKDF-Expand(PRK_key, "WebPush: info" 0x00 device_pub ephemeral_pub, 32)
//	PRK         = HKDF-Extract(salt=salt, IKM)
//	CEK         = HKDF-Expand(PRK, "Content-Encoding: aes128gcm" 0x00, 16)
//	NONCE       = HKDF-Expand(PRK, "Content-Encoding: nonce" 0x00, 12)
//	ciphertext  = AES-128-GCM(CEK, NONCE, plaintext 0x02 0x00…, AAD = header)
//
// The envelope is the text "v1." followed by the unpadded base64url
// (RFC 4648 §5) of header || ciphertext, where the header is:
//
//	offset  length  field
//	0       1       version, 0x01 (must agree with the "v1." prefix)
//	1       16      salt, random for each message
//	17      1       n, length of the device key id, 1 to 255
//	18      n       device key id, so a device with several keys (a
//	                rotation) knows which one to use
//	18+n    65      ephemeral public key, uncompressed P-256 point
//	83+n    32k+16  ciphertext of the padded record (k ≥ 1), then the
//	                16-byte GCM tag
//
// Where this differs from RFC 8291: the header is pushlab's own (a version
// byte and the device key id; RFC 8188's record size is dropped since there
// is one record, and its keyid field, which RFC 8291 fills with the ephemeral
// key, has a fixed place here), and the whole header is the GCM additional
// data, so a change to any bit of it, not only to the ciphertext, fails
// authentication. With an empty AAD the key schedule reproduces RFC 8291
// Appendix A byte for byte (see the tests). The plaintext is padded with the
// RFC 8188 delimiter and zeros to a multiple of 32 bytes, so the carriers
// learn the length of a message only to within 32 bytes; Open accepts any
// padding RFC 8188 allows.
//
// Randomness comes from the io.Reader given to [Seal] (the salt, then the
// ephemeral scalar) and [GenerateDeviceKey] (the scalar, then the auth
// secret); nil means crypto/rand. A scalar is a 32-byte read, repeated in the
// rare case it is out of range. It is read directly rather than through
// ecdh.GenerateKey because, since Go 1.26, GenerateKey ignores its reader,
// and a reader that is honoured is what makes the fixed test vectors under
// testdata/ possible.
//
// Errors are values: test them with errors.Is against ErrNoSignature,
// ErrMalformed, ErrWrongAlgorithm, ErrUnknownKey, ErrBadSignature,
// ErrClaimsMismatch, ErrExpired, ErrNotYetValid (signatures) and
// ErrUnsupportedVersion, ErrMalformedEnvelope, ErrWrongKey, ErrDecrypt,
// ErrInvalidKey (envelopes). Messages carry the offending value, never key
// material; [KeyFingerprint] names a key in logs.
package pushcrypto
