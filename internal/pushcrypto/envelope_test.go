package pushcrypto

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
)

// stream is a deterministic io.Reader: SHA-256(seed || counter) blocks.
type stream struct {
	seed string
	ctr  uint64
	buf  []byte
}

func newStream(seed string) *stream { return &stream{seed: seed} }

func (s *stream) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		if len(s.buf) == 0 {
			sum := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(s.seed), s.ctr))
			s.buf, s.ctr = sum[:], s.ctr+1
		}
		c := copy(p[n:], s.buf)
		s.buf, n = s.buf[c:], n+c
	}
	return len(p), nil
}

func newDeviceKey(t testing.TB, seed, id string) *DeviceKey {
	t.Helper()
	k, err := GenerateDeviceKey(newStream(seed))
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		k.ID = id
	}
	return k
}

func seal(t testing.TB, rcpt Recipient, plaintext []byte) string {
	t.Helper()
	env, err := Seal(rcpt, plaintext, nil)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// sealedLen is the envelope length the package documentation promises.
func sealedLen(keyIDLen, plaintextLen int) int {
	record := (plaintextLen + 1 + padBlock - 1) / padBlock * padBlock
	raw := 1 + saltLen + 1 + keyIDLen + pointLen + record + tagLen
	return len(envelopePrefix) + (raw*8+5)/6
}

func TestSealOpenRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		keyID     string
		plaintext []byte
	}{
		{"empty", "k", nil},
		{"short", "device-key-1", []byte("hello")},
		{"one below the bucket", "device-key-1", bytes.Repeat([]byte("a"), padBlock-1)},
		{"exactly the bucket", "device-key-1", bytes.Repeat([]byte("a"), padBlock)},
		{"trailing zeros and delimiters kept", "device-key-1", []byte("x\x02\x00\x00")},
		{"unicode", "clé-🔑", []byte("Grüße aus Köln 🎉")},
		{"Mattermost message limit", "device-key-1", bytes.Repeat([]byte("m"), 2046)},
		{"MaxPlaintext", strings.Repeat("i", maxKeyIDLen), bytes.Repeat([]byte{0xff}, MaxPlaintext)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newDeviceKey(t, tt.name, tt.keyID)
			env := seal(t, k.Recipient(), tt.plaintext)
			if !strings.HasPrefix(env, "v1.") {
				t.Fatalf("envelope %.20q lacks the v1. prefix", env)
			}
			if got, want := len(env), sealedLen(len(tt.keyID), len(tt.plaintext)); got != want {
				t.Errorf("envelope is %d characters, documented layout gives %d", got, want)
			}
			got, err := k.Open(env)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("opened %q, sealed %q", got, tt.plaintext)
			}
			if env2 := seal(t, k.Recipient(), tt.plaintext); env2 == env {
				t.Error("two seals gave the same envelope: salt or ephemeral key reused")
			}
		})
	}
}

// TestSealHidesLengthWithinBucket: carriers see the same envelope length for
// any message of 0 to 31 bytes.
func TestSealHidesLengthWithinBucket(t *testing.T) {
	k := newDeviceKey(t, "bucket", "")
	want := len(seal(t, k.Recipient(), nil))
	for n := range padBlock {
		if got := len(seal(t, k.Recipient(), make([]byte, n))); got != want {
			t.Fatalf("%d-byte message: envelope %d characters, empty one %d", n, got, want)
		}
	}
	if got := len(seal(t, k.Recipient(), make([]byte, padBlock))); got == want {
		t.Fatalf("%d-byte message fits the first bucket", padBlock)
	}
}

// TestRFC8291AppendixA checks the key schedule and record encryption
// against the example in RFC 8291 Appendix A (there the AAD is empty and the
// header is RFC 8188's; pushlab's header differs, the cryptography does not).
func TestRFC8291AppendixA(t *testing.T) {
	d := func(s string) []byte {
		b, err := b64.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var (
		plaintext  = []byte("When I grow up, I want to be a watermelon")
		asPrivate  = d("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
		asPublic   = d("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
		uaPrivate  = d("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")
		uaPublic   = d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
		salt       = d("DGv6ra1nlYgDCS1FRnbzlw")
		auth       = d("BTBZMqHH6r4Tts7J_aSIgg")
		ciphertext = d("8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHsUoEsbI_0LpXMuGvnzQ")
	)
	as, err := ecdh.P256().NewPrivateKey(asPrivate)
	if err != nil {
		t.Fatal(err)
	}
	ua, err := ecdh.P256().NewPrivateKey(uaPrivate)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(as.PublicKey().Bytes(), asPublic) || !bytes.Equal(ua.PublicKey().Bytes(), uaPublic) {
		t.Fatal("RFC key pairs do not match")
	}
	record := append(append([]byte(nil), plaintext...), recordDelimiter)
	got, err := encryptRecord(as, ua.PublicKey(), auth, salt, record, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ciphertext) {
		t.Fatalf("ciphertext\n got %x\nwant %x", got, ciphertext)
	}
	opened, err := decryptRecord(ua, as.PublicKey(), auth, salt, ciphertext, nil)
	if err != nil || !bytes.Equal(opened, record) {
		t.Fatalf("decrypt: %q, %v", opened, err)
	}
}

// region names the part of the envelope a byte offset falls in.
func region(off, keyIDLen int) string {
	switch {
	case off == 0:
		return "version"
	case off < 1+saltLen:
		return "salt"
	case off == 1+saltLen:
		return "key id length"
	case off < 2+saltLen+keyIDLen:
		return "key id"
	case off < 2+saltLen+keyIDLen+pointLen:
		return "ephemeral key"
	default:
		return "ciphertext and tag"
	}
}

// TestOpenTamperEveryBit flips every bit of the decoded envelope in turn
// and checks each is refused, with the error its region calls for.
func TestOpenTamperEveryBit(t *testing.T) {
	k := newDeviceKey(t, "tamper", "device-key-1")
	env := seal(t, k.Recipient(), []byte(`{"message":"the launch code is 0000"}`))
	raw, err := b64.DecodeString(strings.TrimPrefix(env, envelopePrefix))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]error{
		"version":            {ErrUnsupportedVersion},
		"salt":               {ErrDecrypt},
		"key id length":      {ErrMalformedEnvelope, ErrWrongKey},
		"key id":             {ErrWrongKey},
		"ephemeral key":      {ErrMalformedEnvelope, ErrDecrypt},
		"ciphertext and tag": {ErrDecrypt},
	}
	seen := map[string]int{}
	for i := range len(raw) * 8 {
		b := append([]byte(nil), raw...)
		b[i/8] ^= 1 << (i % 8)
		r := region(i/8, len(k.ID))
		seen[r]++
		_, err := k.Open(envelopePrefix + b64.EncodeToString(b))
		if !isAny(err, allowed[r]...) {
			t.Fatalf("bit %d of byte %d (%s) flipped: %v, want one of %v", i%8, i/8, r, err, allowed[r])
		}
	}
	for r := range allowed {
		if seen[r] == 0 {
			t.Errorf("no bit of the %s was flipped", r)
		}
	}
}

// TestOpenTamperEveryTextBit flips every bit of the envelope text, prefix
// included: strict base64 makes each one a refused change.
func TestOpenTamperEveryTextBit(t *testing.T) {
	k := newDeviceKey(t, "tamper-text", "device-key-1")
	env := seal(t, k.Recipient(), []byte("short"))
	for i := range len(env) * 8 {
		b := []byte(env)
		b[i/8] ^= 1 << (i % 8)
		if _, err := k.Open(string(b)); !isAny(err, ErrUnsupportedVersion, ErrMalformedEnvelope, ErrWrongKey, ErrDecrypt) {
			t.Fatalf("bit %d of character %d flipped: %v", i%8, i/8, err)
		}
	}
}

func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func TestOpenMalformed(t *testing.T) {
	k := newDeviceKey(t, "malformed", "device-key-1")
	env := seal(t, k.Recipient(), []byte("hi"))
	raw, err := b64.DecodeString(strings.TrimPrefix(env, envelopePrefix))
	if err != nil {
		t.Fatal(err)
	}
	headerLen := 2 + saltLen + len(k.ID) + pointLen
	edit := func(f func(b []byte) []byte) string {
		return envelopePrefix + b64.EncodeToString(f(append([]byte(nil), raw...)))
	}
	tests := []struct {
		name, envelope string
		want           error
	}{
		{"empty", "", ErrMalformedEnvelope},
		{"no prefix", strings.TrimPrefix(env, envelopePrefix), ErrMalformedEnvelope},
		{"prefix only", "v1.", ErrMalformedEnvelope},
		{"v2", "v2." + strings.TrimPrefix(env, envelopePrefix), ErrUnsupportedVersion},
		{"upper-case V1", "V1." + strings.TrimPrefix(env, envelopePrefix), ErrUnsupportedVersion},
		{"not base64url", "v1.a+b/c", ErrMalformedEnvelope},
		{"padded", env + strings.Repeat("=", (4-len(env[3:])%4)%4) + "=", ErrMalformedEnvelope},
		{"newline appended", env + "\n", ErrMalformedEnvelope},
		{"CR inside", env[:10] + "\r" + env[10:], ErrMalformedEnvelope},
		{"version byte 2", edit(func(b []byte) []byte { b[0] = 2; return b }), ErrUnsupportedVersion},
		{"empty key id", edit(func(b []byte) []byte { b[1+saltLen] = 0; return b }), ErrMalformedEnvelope},
		{"key id longer than the envelope", edit(func(b []byte) []byte { b[1+saltLen] = 255; return b }), ErrMalformedEnvelope},
		{"header only", edit(func(b []byte) []byte { return b[:headerLen] }), ErrMalformedEnvelope},
		{"tag only", edit(func(b []byte) []byte { return b[:headerLen+tagLen] }), ErrMalformedEnvelope},
		{"truncated tag", edit(func(b []byte) []byte { return b[:len(b)-1] }), ErrDecrypt},
		{"extra byte", edit(func(b []byte) []byte { return append(b, 0) }), ErrDecrypt},
		{"ephemeral key zero", edit(func(b []byte) []byte {
			clear(b[headerLen-pointLen : headerLen])
			return b
		}), ErrMalformedEnvelope},
		{"ephemeral key compressed", edit(func(b []byte) []byte { b[headerLen-pointLen] = 0x02; return b }), ErrMalformedEnvelope},
		{"too long", "v1." + strings.Repeat("A", maxEnvelopeLen), ErrMalformedEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Open(tt.envelope); !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestOpenBadRecord: a record that authenticates but lacks the RFC 8188
// delimiter (a broken sender) is malformed, not plaintext.
func TestOpenBadRecord(t *testing.T) {
	k := newDeviceKey(t, "record", "device-key-1")
	env := seal(t, k.Recipient(), nil)
	raw, _ := b64.DecodeString(strings.TrimPrefix(env, envelopePrefix))
	header := raw[:2+saltLen+len(k.ID)+pointLen]
	for _, record := range [][]byte{make([]byte, padBlock), append(bytes.Repeat([]byte("a"), padBlock-1), 0x01)} {
		eph, err := newP256Key(newStream("eph"))
		if err != nil {
			t.Fatal(err)
		}
		h := append([]byte(nil), header...)
		copy(h[len(h)-pointLen:], eph.PublicKey().Bytes())
		sealed, err := encryptRecord(eph, k.Private.PublicKey(), k.AuthSecret, h[1:1+saltLen], record, h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Open(envelopePrefix + b64.EncodeToString(append(h, sealed...))); !errors.Is(err, ErrMalformedEnvelope) {
			t.Fatalf("record %x: %v, want ErrMalformedEnvelope", record, err)
		}
	}
}

// TestOpenWrongKeyMaterial: the right key id is not enough.
func TestOpenWrongKeyMaterial(t *testing.T) {
	k := newDeviceKey(t, "right", "device-key-1")
	env := seal(t, k.Recipient(), []byte("secret"))
	otherPair := newDeviceKey(t, "other", k.ID) // another key under the same id
	otherPair.AuthSecret = k.AuthSecret
	otherSecret := &DeviceKey{ID: k.ID, Private: k.Private, AuthSecret: bytes.Repeat([]byte{7}, authSecretLen)}
	for name, wrong := range map[string]*DeviceKey{"other key pair": otherPair, "other auth secret": otherSecret} {
		if _, err := wrong.Open(env); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: %v, want ErrDecrypt", name, err)
		}
	}
}

// TestOpenInvalidDeviceKey: a device key restored wrongly is reported as
// such, not as a tampered envelope.
func TestOpenInvalidDeviceKey(t *testing.T) {
	k := newDeviceKey(t, "invalid", "device-key-1")
	env := seal(t, k.Recipient(), []byte("m"))
	p384, err := ecdh.P384().GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]*DeviceKey{
		"no private key":    {ID: k.ID, AuthSecret: k.AuthSecret},
		"P-384 private key": {ID: k.ID, Private: p384, AuthSecret: k.AuthSecret},
		"short auth secret": {ID: k.ID, Private: k.Private, AuthSecret: k.AuthSecret[:8]},
	} {
		if _, err := bad.Open(env); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v, want ErrInvalidKey", name, err)
		}
	}
	if _, err := (*DeviceKey)(nil).Open(env); !errors.Is(err, ErrWrongKey) {
		t.Errorf("nil key: %v, want ErrWrongKey", err)
	}
}

// TestKeyringRotation: during a rotation the device holds both keys and
// opens envelopes for either; once the old key is dropped, envelopes still
// in flight for it are refused by key id.
func TestKeyringRotation(t *testing.T) {
	oldKey, newKey := newDeviceKey(t, "old", "k1"), newDeviceKey(t, "new", "k2")
	toOld := seal(t, oldKey.Recipient(), []byte("for the old key"))
	toNew := seal(t, newKey.Recipient(), []byte("for the new key"))

	both := Keyring{oldKey, nil, newKey}
	for env, want := range map[string]string{toOld: "for the old key", toNew: "for the new key"} {
		got, err := both.Open(env)
		if err != nil || string(got) != want {
			t.Fatalf("Open = %q, %v; want %q", got, err, want)
		}
	}
	_, err := Keyring{newKey}.Open(toOld)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("dropped key: %v, want ErrWrongKey", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"k1"`) || !strings.Contains(msg, `"k2"`) {
		t.Errorf("message %q should name the envelope's and the device's key ids", msg)
	}
	if _, err := (Keyring{}).Open(toOld); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("empty keyring: %v", err)
	}
}

func TestSealErrors(t *testing.T) {
	k := newDeviceKey(t, "seal-errors", "")
	good := k.Recipient()
	p384, err := ecdh.P384().GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(r *Recipient)) Recipient { r := good; f(&r); return r }
	tests := []struct {
		name      string
		rcpt      Recipient
		plaintext []byte
		want      error
	}{
		{"no key id", with(func(r *Recipient) { r.KeyID = "" }), nil, ErrInvalidKey},
		{"key id too long", with(func(r *Recipient) { r.KeyID = strings.Repeat("k", 256) }), nil, ErrInvalidKey},
		{"no public key", with(func(r *Recipient) { r.PublicKey = nil }), nil, ErrInvalidKey},
		{"P-384 key", with(func(r *Recipient) { r.PublicKey = p384.PublicKey() }), nil, ErrInvalidKey},
		{"short auth secret", with(func(r *Recipient) { r.AuthSecret = r.AuthSecret[:15] }), nil, ErrInvalidKey},
		{"from a key without private part", (&DeviceKey{ID: "x"}).Recipient(), nil, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Seal(tt.rcpt, tt.plaintext, nil); !errors.Is(err, tt.want) {
				t.Fatalf("Seal = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Seal(good, make([]byte, MaxPlaintext+1), nil); err == nil {
		t.Error("Seal accepted more than MaxPlaintext")
	}
	failing := errors.New("entropy gone")
	if _, err := Seal(good, nil, iotest.ErrReader(failing)); !errors.Is(err, failing) {
		t.Errorf("failing reader: %v", err)
	}
	if _, err := Seal(good, nil, iotest.TimeoutReader(bytes.NewReader(make([]byte, saltLen)))); err == nil {
		t.Error("reader failing after the salt: no error")
	}
	if _, err := Seal(good, nil, bytes.NewReader(make([]byte, 1024))); err == nil {
		t.Error("all-zero reader gave a key")
	}
}

// TestRandomnessIsHonoured: the reader given is the only source, which the
// fixed vectors rely on (ecdh.GenerateKey would ignore it since Go 1.26).
func TestRandomnessIsHonoured(t *testing.T) {
	a, b := newDeviceKey(t, "same", ""), newDeviceKey(t, "same", "")
	if !a.Private.Equal(b.Private) || !bytes.Equal(a.AuthSecret, b.AuthSecret) || a.ID != b.ID {
		t.Fatal("same reader, different device keys")
	}
	if c := newDeviceKey(t, "different", ""); c.Private.Equal(a.Private) {
		t.Fatal("different readers, same device key")
	}
	e1, err1 := Seal(a.Recipient(), []byte("m"), newStream("s"))
	e2, err2 := Seal(a.Recipient(), []byte("m"), newStream("s"))
	if err1 != nil || err2 != nil || e1 != e2 {
		t.Fatalf("same reader, different envelopes: %v %v", err1, err2)
	}
	// The salt is read first, then the ephemeral scalar.
	r := newStream("s")
	salt := make([]byte, saltLen)
	r.Read(salt)
	raw, _ := b64.DecodeString(strings.TrimPrefix(e1, envelopePrefix))
	if !bytes.Equal(raw[1:1+saltLen], salt) {
		t.Fatal("salt is not the first 16 bytes read")
	}
	eph, err := newP256Key(r)
	if err != nil || !bytes.Equal(raw[2+saltLen+len(a.ID):2+saltLen+len(a.ID)+pointLen], eph.PublicKey().Bytes()) {
		t.Fatal("ephemeral key is not drawn right after the salt")
	}
}

func TestRecipientJSON(t *testing.T) {
	k := newDeviceKey(t, "json", "device-key-1")
	data, err := json.Marshal(k.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields["key_id"] != k.ID || len(fields["p256dh"]) != 87 || len(fields["auth"]) != 22 {
		t.Fatalf("registration form %s", data)
	}
	var back Recipient
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	got, err := k.Open(seal(t, back, []byte("via registration")))
	if err != nil || string(got) != "via registration" {
		t.Fatalf("Open after registration round trip: %q, %v", got, err)
	}
	padded, err := ParseRecipient(k.ID, fields["p256dh"]+"=", fields["auth"]+"==")
	if err != nil || !padded.PublicKey.Equal(back.PublicKey) {
		t.Fatalf("padded base64 refused: %v", err)
	}

	bad := []struct{ name, json string }{
		{"wrong JSON type", `{"key_id":5}`},
		{"not base64", `{"key_id":"k","p256dh":"***","auth":"` + fields["auth"] + `"}`},
		{"not a point", `{"key_id":"k","p256dh":"` + b64.EncodeToString(make([]byte, pointLen)) + `","auth":"` + fields["auth"] + `"}`},
		{"compressed point", `{"key_id":"k","p256dh":"` + b64.EncodeToString(make([]byte, 33)) + `","auth":"` + fields["auth"] + `"}`},
		{"short auth", `{"key_id":"k","p256dh":"` + fields["p256dh"] + `","auth":"AAAA"}`},
		{"no key id", `{"p256dh":"` + fields["p256dh"] + `","auth":"` + fields["auth"] + `"}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var r Recipient
			if err := json.Unmarshal([]byte(tt.json), &r); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("Unmarshal = %v, want ErrInvalidKey", err)
			}
		})
	}
	if _, err := json.Marshal(Recipient{KeyID: "k"}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Marshal of an incomplete recipient: %v", err)
	}
}

func TestDeviceKeyStringHidesKey(t *testing.T) {
	k := newDeviceKey(t, "string", "device-key-1")
	secrets := []string{
		fmt.Sprintf("%x", k.Private.Bytes()), b64.EncodeToString(k.Private.Bytes()),
		fmt.Sprintf("%x", k.AuthSecret), b64.EncodeToString(k.AuthSecret), fmt.Sprint(k.AuthSecret[:4]),
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{k, k.Recipient()} {
			out := fmt.Sprintf(f, v)
			if !strings.Contains(out, "SHA256:") {
				t.Errorf("%s: %q lacks the fingerprint", f, out)
			}
			for _, s := range secrets {
				if strings.Contains(out, strings.Trim(s, "[]")) {
					t.Errorf("%s of %T shows key material: %q", f, v, out)
				}
			}
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	rcpt := newDeviceKey(b, "bench", "device-key-1").Recipient()
	plaintext := []byte(`{"message":"Lunch at noon? The usual place.","channel_name":"Town Square","sender_name":"alice"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(rcpt, plaintext, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := newDeviceKey(b, "bench", "device-key-1")
	env := seal(b, k.Recipient(), []byte(`{"message":"Lunch at noon? The usual place.","channel_name":"Town Square","sender_name":"alice"}`))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(env); err != nil {
			b.Fatal(err)
		}
	}
}
