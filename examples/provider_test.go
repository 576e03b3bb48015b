package examples

import (
	"net/http"
	"testing"
	"time"

	"github.com/pushlab/pushlab/mockapns/mockapnstest"
	"github.com/pushlab/pushlab/mockfcm/mockfcmtest"
	"github.com/pushlab/pushlab/pushtest"
)

// Both helpers' servers are a pushtest.Provider: what they do alike is
// written once, here the fault script, for both mocks.
func TestProviderFaultScript(t *testing.T) {
	for name, p := range map[string]pushtest.Provider{
		"apns": mockapnstest.NewServer(t),
		"fcm":  mockfcmtest.NewServer(t),
	} {
		t.Run(name, func(t *testing.T) {
			slow := p.AddFault(pushtest.Fault{Percent: 50, Latency: 30 * time.Millisecond})
			down := p.AddFault(pushtest.Fault{Status: http.StatusServiceUnavailable, Count: 3})
			got := p.Faults()
			if len(got) != 2 || got[0].ID != slow.ID || got[0].Action != pushtest.Delay || got[0].Latency != 30*time.Millisecond ||
				got[1].ID != down.ID || got[1].Action != pushtest.Respond || got[1].Status != http.StatusServiceUnavailable {
				t.Errorf("script = %+v, want a Delay of 30ms and a Respond 503", got)
			}
			p.ClearFaults()
			if got := p.Faults(); len(got) != 0 {
				t.Errorf("after ClearFaults: %+v", got)
			}
		})
	}
}
