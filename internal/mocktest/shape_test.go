package mocktest

import (
	"time"

	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/pushtest"
)

// sameShape is what both mocks' servers do by the same names, with the
// same arguments in the same order: it fails to compile if one drifts.
type sameShape interface {
	Mock
	RemoveFault(id string) bool
	SeedFaults(seed uint64)
	Online(token string) bool
	Inject(d pushtest.Delivery)
	TakePending(token string) []pushtest.Delivery
	Now() time.Time
	AdvanceClock(d time.Duration) time.Time
	ClockOffset() time.Duration
}

var (
	_ sameShape = (*mockapns.Server)(nil)
	_ sameShape = (*mockfcm.Server)(nil)
)
