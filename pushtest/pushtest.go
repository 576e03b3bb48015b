// Package pushtest holds the values both push mocks (mockapns, mockfcm) deal
// in, defined once for the mocks, the simulated phones (devicesim), the test
// helpers (mockapns/mockapnstest, mockfcm/mockfcmtest) and tests in any
// module: what a device received (Delivery) and how it receives it
// (Receiver), a token the mock issued (Registration), a fault to script
// (Fault), a request the mock recorded (Request), the methods both helpers'
// servers have (Provider) and a device's end of the push channel (Inbox).
//
// They are plain values: a test builds, compares and prints them; durations
// are time.Duration. Their JSON is the mocks' control API's (a Fault's latency
// reads and writes as "250ms"), so a client of a mock in another process or
// container sends and decodes these same types.
//
// Most tests never import this package: each mock and helper re-exports these
// names (mockapns.Delivery, mockfcmtest.Fault, …).
package pushtest

import (
	"context"
	"time"
)

// Provider is what the servers of mockapnstest and mockfcmtest do alike, by
// the same names, so that a test written against it runs against either mock.
// Each method that can fail fails the test.
type Provider interface {
	// Uninstall removes the app of token from its device: the mock answers
	// as its provider does for an uninstalled app from now on (APNs: 410
	// Unregistered with this time; FCM: UNREGISTERED). It returns the time of
	// the uninstall.
	Uninstall(token string) time.Time
	// Pending is what the mock keeps for token while its device is offline
	// (APNs: the last notification; FCM: up to 100).
	Pending(token string) []Delivery
	// AddFault adds f to the fault script and returns it with its ID.
	AddFault(f Fault) Fault
	// Faults is the fault script, with each fault's hits.
	Faults() []Fault
	// ClearFaults empties the fault script.
	ClearFaults()
	// Requests returns the recorded requests with Seq > since (0: all kept).
	Requests(since uint64) []Request
}

// Inbox is a registered device's end of a mock's push channel.
type Inbox interface {
	// Next returns the next notification the device received, waiting
	// until ctx ends for one (then it returns ctx's error).
	Next(ctx context.Context) (Delivery, error)
	// Offline takes the device offline: the mock stores what comes next, as
	// its provider does.
	Offline()
	// Online brings it back; what was stored arrives first. It returns how
	// many notifications were stored.
	Online() int
}
