package devicesim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// claimRing is claim as it was, a scan of the ids themselves: the oracle
// for the ring of ids with their hashes.
type claimRing struct {
	seen []string
	next int
}

func (r *claimRing) claim(id string) bool {
	if id == "" {
		return true
	}
	if slices.Contains(r.seen, id) {
		return false
	}
	if len(r.seen) < seenMax {
		r.seen = append(r.seen, id)
		return true
	}
	r.seen[r.next] = id
	r.next = (r.next + 1) % seenMax
	return true
}

// claim refuses an ack id while it is among the last seenMax it let
// through, and forgets the oldest beyond, as the scan of the ids did.
func TestClaimMatchesTheScan(t *testing.T) {
	d, ref := &Device{}, &claimRing{}
	rng := rand.New(rand.NewPCG(1, 2))
	refused := 0
	const pushes = 20 * seenMax
	for i := range pushes {
		// Ids drawn from a span a little wider than the ring: some are
		// still remembered, some were forgotten, some are new.
		id := "ack" + strconv.Itoa(10000+rng.IntN(seenMax+seenMax/4))
		if i%97 == 0 {
			id = ""
		}
		got, want := d.claim(id), ref.claim(id)
		if got != want {
			t.Fatalf("push %d, id %q: claim %v, the scan %v", i, id, got, want)
		}
		if !got {
			refused++
		}
	}
	if refused == 0 || refused == pushes {
		t.Fatalf("refused %d of %d: the test did not exercise both answers", refused, pushes)
	}
}
