package mockkit

import (
	"crypto/sha256"
	"encoding/base64"
)

// FCM registration tokens are 163 characters: a 22-character instance id, a
// colon, "APA91b" and 134 characters of base64url. The mock mints them from
// a 16-byte id, the rest of the text a fixed expansion of it (SHA-256 of the
// id and a fixed key), so tokenMap can keep one as its 16 bytes instead of
// its 163 characters: a mock may hold a million.
const (
	IDTokenMarker = ":APA91b"
	IDTokenLen    = idTokenInstLen + len(IDTokenMarker) + idTokenRestLen

	idTokenInstLen = 22  // 16 bytes in base64url
	idTokenRestLen = 134 // of 120 bytes' 160 characters of base64url
)

// idExpansionKey keys the expansion; any fixed text will do.
const idExpansionKey = "pushlab mockfcm registration token"

// tokenID is the id an IDToken is made from.
type tokenID [16]byte

// IDToken is the registration token that id stands for.
func IDToken(id [16]byte) string {
	var t [IDTokenLen]byte
	expandID(&t, id)
	return string(t[:])
}

// expandID writes into t the token id stands for.
func expandID(t *[IDTokenLen]byte, id tokenID) {
	// rest is SHA-256 of (key, id, block number) for as many blocks as it takes.
	var rest [120]byte
	in := [17 + len(idExpansionKey)]byte{}
	copy(in[:], id[:])
	copy(in[17:], idExpansionKey)
	for i := 0; i*sha256.Size < len(rest); i++ {
		in[16] = byte(i)
		sum := sha256.Sum256(in[:])
		copy(rest[i*sha256.Size:], sum[:])
	}
	base64.RawURLEncoding.Encode(t[:idTokenInstLen], id[:])
	copy(t[idTokenInstLen:], IDTokenMarker)
	var text [160]byte
	base64.RawURLEncoding.Encode(text[:], rest[:])
	copy(t[idTokenInstLen+len(IDTokenMarker):], text[:])
}

// asIDToken is the id token was made from, if IDToken made it: the whole
// text is checked, so a token that only shares the id's characters is not
// taken for it.
func asIDToken(token string) (id tokenID, ok bool) {
	if len(token) != IDTokenLen || token[idTokenInstLen:idTokenInstLen+len(IDTokenMarker)] != IDTokenMarker {
		return id, false
	}
	if n, err := base64.RawURLEncoding.Decode(id[:], []byte(token[:idTokenInstLen])); err != nil || n != len(id) {
		return id, false
	}
	var t [IDTokenLen]byte
	expandID(&t, id)
	return id, string(t[:]) == token
}
