package mockkit

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
)

// FCM registration tokens are 163 characters: a 22-character instance id, a
// colon, "APA91b" and 134 characters of base64url. The mock mints them from
// a 16-byte id, the rest of the text a fixed expansion of it (a PCG
// generator seeded with the id and a fixed key), so tokenMap can keep one as
// its 16 bytes instead of its 163 characters: a mock may hold a million.
// Every look-up of a token expands its id again to check the whole text, so
// the expansion has to be cheap: it only has to look random and never
// change, not to be secret (it was SHA-256, 4 blocks a look-up: 3.5 µs, and
// a send looks its token up four times).
const (
	IDTokenMarker = ":APA91b"
	IDTokenLen    = idTokenInstLen + len(IDTokenMarker) + idTokenRestLen

	idTokenInstLen = 22  // 16 bytes in base64url
	idTokenRestLen = 134 // of 120 bytes' 160 characters of base64url
)

// idExpansionKey keys the expansion; any fixed bits will do. (The
// generator's output for a seed is fixed: math/rand/v2 specifies PCG.)
const idExpansionKey0, idExpansionKey1 = 0x70757368_6c61622f, 0x6d6f636b_66636d21 // "pushlab/mockfcm!"

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
	// rest is the generator's first 15 words for the seed (id ^ key).
	var rest [120]byte
	g := rand.NewPCG(binary.LittleEndian.Uint64(id[:8])^idExpansionKey0, binary.LittleEndian.Uint64(id[8:])^idExpansionKey1)
	for i := 0; i < len(rest); i += 8 {
		binary.LittleEndian.PutUint64(rest[i:], g.Uint64())
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
	slot := &checkedIDTokens[token[0]%uint8(len(checkedIDTokens))]
	if c := slot.Load(); c != nil && string(c.text[:]) == token {
		return c.id, true
	}
	return checkIDToken(token, slot)
}

// checkedIDTokens are tokens asIDToken found whole lately, one by the first
// character of their text (a base64url character: each has a slot of its
// own). One send looks its token up several times (registry, hub, the
// device's last activity), and expanding the id for each was most of what
// a look-up cost.
var checkedIDTokens [64]atomic.Pointer[checkedIDToken]

type checkedIDToken struct {
	id   tokenID
	text [IDTokenLen]byte // IDToken(id), a copy: the token looked up may be part of a larger string
}

// checkIDToken is asIDToken for a token not in its slot: its id decoded and
// expanded, kept in the slot if the text is whole. (A call of its own: the
// look-ups that find their token in the slot, deep in a handler's stack,
// keep their frames small.)
func checkIDToken(token string, slot *atomic.Pointer[checkedIDToken]) (id tokenID, ok bool) {
	if n, err := base64.RawURLEncoding.Decode(id[:], []byte(token[:idTokenInstLen])); err != nil || n != len(id) {
		return id, false
	}
	c := &checkedIDToken{id: id}
	expandID(&c.text, id)
	if string(c.text[:]) != token {
		return id, false
	}
	slot.Store(c)
	return id, true
}
