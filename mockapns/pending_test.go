package mockapns

import (
	"testing"

	"github.com/pushlab/pushlab/testpki"
)

// An offline device's store, as mockfcm's Pending shows its own: APNs keeps
// the last notification per app.
func TestPending(t *testing.T) {
	f := newFixture(t)
	c := f.tokenClient(f.set.APNsKey, testpki.Production)
	var ids []string
	for range 2 {
		res := push(t, c, f.note(f.prod))
		if res.StatusCode != 200 {
			t.Fatalf("push: %d %s", res.StatusCode, res.Reason)
		}
		ids = append(ids, res.ApnsID)
	}
	p := f.s.Pending(f.prod)
	if len(p) != 1 || p[0].ID != ids[1] || !p[0].Stored {
		t.Errorf("pending = %+v, want only the second (%s), stored", p, ids[1])
	}
	if p := f.s.Pending(f.dev); len(p) != 0 {
		t.Errorf("pending for a token never pushed to = %+v", p)
	}
}
