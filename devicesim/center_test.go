package devicesim

import (
	"strconv"
	"testing"
	"time"
)

// Past the Keep cards a device reports, a push whose collapse id the
// notification centre still holds replaces that notification, and one it
// no longer holds (beyond seenMax) or never held is shown.
func TestCenterReplacesByCollapseID(t *testing.T) {
	d := &Device{Name: "d", deps: &deps{keep: 8, now: time.Now}}
	id := func(i int) string { return "collapse-" + strconv.Itoa(1000000+i) } // one length, as real ids
	n := seenMax + 100
	for i := range n {
		d.show("t"+strconv.Itoa(i), Notification{AckID: "ack" + strconv.Itoa(i), CollapseID: id(i)}, "shown", "", false)
	}
	for _, c := range []struct {
		i    int
		held bool
	}{{0, false}, {99, false}, {100, true}, {500, true}, {n - 9, true}, {n - 8, true}, {n - 1, true}, {n, false}} {
		if got := d.replace("r", id(c.i), false); got != c.held {
			t.Errorf("collapse id %d of %d shown: replaced %v, want %v", c.i, n, got, c.held)
		}
	}
	if ack, ok := d.hist.held(id(500)); !ok || ack != "ack500" {
		t.Errorf("the centre holds %q %v for collapse id 500, want ack500", ack, ok)
	}
	if st := d.stats.public(); st.Replaced != 5 || st.Displayed != n {
		t.Errorf("stats %+v: want 5 replaced of %d displayed", st, n)
	}
}
