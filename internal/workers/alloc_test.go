//go:build !race

// The race detector makes sync.Pool drop some of what it is given.

package workers

import (
	"testing"
	"time"
)

// Do hands over without allocating for itself.
func TestDoAllocatesNothingOfItsOwn(t *testing.T) {
	p := New(time.Minute, nil)
	f := func() {}
	p.Do(f)
	if n := testing.AllocsPerRun(100, func() { p.Do(f) }); n != 0 {
		t.Errorf("Do allocated %v times per call", n)
	}
}
