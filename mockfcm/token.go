package mockfcm

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushlab/pushlab/internal/mockkit"
)

// ids draws registration tokens and message ids from the seeded generator, so
// a run with the same seed issues the same tokens in the same order.
type ids struct {
	mu  sync.Mutex
	rng *rand.Rand
	seq uint64
}

func newIDs(seed uint64) *ids {
	return &ids{rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e9955bd1e995))}
}

func (g *ids) fill(b []byte) {
	g.mu.Lock()
	for i := 0; i < len(b); i += 8 {
		v := g.rng.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	g.mu.Unlock()
}

// token makes a new registration token, shaped like FCM's (a 22-character
// instance id, ":APA91b", base64url; 163 characters): mockkit.IDToken of a
// random 16-byte id, which the registry and hub keep as those 16 bytes (a
// mock may keep a million tokens).
func (g *ids) token() string {
	var id [16]byte
	g.fill(id[:])
	return mockkit.IDToken(id)
}

// appendMessageID appends to b an id shaped like FCM's: "0:", the time in
// microseconds, "%", and 16 hex digits, zero-padded
// ("0:1700000000000000%031bd1c9631bd1c9").
func (g *ids) appendMessageID(b []byte, now time.Time) []byte {
	g.mu.Lock()
	g.seq++
	v := g.rng.Uint64() ^ g.seq
	g.mu.Unlock()
	const hexDigits = "0123456789abcdef"
	b = strconv.AppendInt(append(b, "0:"...), now.UnixMicro(), 10)
	b = append(b, '%')
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[v>>shift&0xf])
	}
	return b
}

// looksLikeToken reports whether s has the shape of a registration token
// (what FCM answers INVALID_ARGUMENT for when it does not).
func looksLikeToken(s string) bool {
	inst, rest, ok := strings.Cut(s, ":")
	if !ok || len(inst) < 11 || len(rest) < 100 || len(s) > 4096 {
		return false
	}
	return b64url(inst) && b64url(rest)
}

func b64url(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
