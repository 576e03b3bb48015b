package serversim

import (
	"bytes"
	"encoding/base32"
	"math/rand/v2"
	"strings"
	"testing"
)

// An id is what it was when it was encoded in upper case and then lowered:
// 26 characters of the 16 random bytes.
func TestNewIDIsLoweredBase32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	raw := make([]byte, 16*1000)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	copy(raw, bytes.Repeat([]byte{0xff}, 16)) // every bit set
	copy(raw[16:], make([]byte, 16))          // none
	s := &Server{cfg: Config{Rand: bytes.NewReader(raw)}}
	for i := 0; i < len(raw); i += 16 {
		want := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[i : i+16]))[:26]
		if got := s.newID(); got != want {
			t.Fatalf("id %d of % x: %q, want %q", i/16, raw[i:i+16], got, want)
		}
	}
}
