package devicesim

import (
	"crypto/ecdh"
	"sync/atomic"

	"github.com/pushlab/pushlab/internal/pushcrypto"
)

// contentSecret is a device's private content key, kept compact: its id,
// P-256 scalar and auth secret. The pushcrypto.DeviceKey that opens
// envelopes is built from it the first time a push needs it (one scalar
// multiplication) and kept, so that a million idle devices do not each
// hold an expanded key.
type contentSecret struct {
	id     keyID
	scalar [32]byte
	auth   [16]byte
	opener atomic.Pointer[pushcrypto.DeviceKey]
}

func compactSecret(k *pushcrypto.DeviceKey) *contentSecret {
	s := &contentSecret{id: newKeyID(k.ID)}
	copy(s.scalar[:], k.Private.Bytes())
	copy(s.auth[:], k.AuthSecret)
	return s
}

// deviceKey is the key that opens envelopes sealed to the device.
func (s *contentSecret) deviceKey() (*pushcrypto.DeviceKey, error) {
	if k := s.opener.Load(); k != nil {
		return k, nil
	}
	priv, err := ecdh.P256().NewPrivateKey(s.scalar[:])
	if err != nil {
		return nil, err
	}
	k := &pushcrypto.DeviceKey{ID: s.id.String(), Private: priv, AuthSecret: s.auth[:]}
	if !s.opener.CompareAndSwap(nil, k) {
		return s.opener.Load(), nil // another push built it first
	}
	return k, nil
}

// keyID is a content key's id. One of the default length (12 base64url
// characters) is kept in place rather than as a string of its own: in a
// fleet of a million idle devices, an object fewer each for the GC to visit.
type keyID struct {
	short [defaultKeyIDLen]byte
	long  string // the id when it is not of the default length
}

const defaultKeyIDLen = 12

func newKeyID(id string) keyID {
	if len(id) != defaultKeyIDLen || id == string(make([]byte, defaultKeyIDLen)) { // 12 NULs would read as ""
		return keyID{long: id}
	}
	var k keyID
	copy(k.short[:], id)
	return k
}

func (k keyID) String() string {
	if k.long != "" || k.short == [defaultKeyIDLen]byte{} {
		return k.long
	}
	return string(k.short[:])
}
