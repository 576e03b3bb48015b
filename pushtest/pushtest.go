// Package pushtest holds what the mock test helpers (mockapns/mockapnstest
// and mockfcm/mockfcmtest) share: what a device received (Delivery), a fault
// to script (Fault), a request the mock recorded (Request), the methods both
// servers have (Provider) and a device's end of the push channel (Inbox). They are plain values of public types, so a test in any
// module can build, compare and print them; durations are time.Duration (the
// JSON forms of the control API stay at that API's edge).
//
// Most tests never import this package: each helper re-exports these names
// (mockapnstest.Delivery, mockfcmtest.Fault, …).
package pushtest

import (
	"context"
	"encoding/json"
	"time"
)

// Delivery is one notification a mock handed to a device.
type Delivery struct {
	Provider string // "apns" or "fcm"
	Token    string // the device token
	ID       string // apns-id, or the FCM message id
	App      string // APNs topic (bundle id) or Android package
	// Payload is what the device's OS receives: the APNs JSON payload, or the
	// FCM message object (data, notification, android…) without its target.
	Payload     json.RawMessage
	CollapseKey string
	Expiry      time.Time // zero: kept as long as the provider keeps anything
	NowOrNever  bool      // expiration 0 (APNs) or ttl 0 (FCM)
	AcceptedAt  time.Time
	Stored      bool              // it waited for the device to come online
	Headers     map[string]string // provider headers the device may see (apns-push-type, priority…)
}

// Action is what a fault does to a request.
type Action string

// The fault actions.
const (
	// Respond answers Status and Reason instead of the real verdict.
	Respond Action = "respond"
	// Delay only adds Latency; the request is then served normally (or
	// dropped unserved if the client gives up meanwhile).
	Delay Action = "delay"
	// Reset closes the connection without an answer (a TCP reset), before
	// the push is accepted: not delivered.
	Reset Action = "reset"
	// GoAway answers, then closes the connection with an HTTP/2 GOAWAY.
	GoAway Action = "goaway"

	// The ambiguous cases: the provider has the push, the client cannot
	// know it (a request the provider rejects is answered as usual).

	// AcceptReset accepts the push (it is delivered), then resets the
	// connection before answering.
	AcceptReset Action = "accept_reset"
	// AcceptLate accepts the push (delivered at once) and answers after
	// Latency, whether or not the client still waits.
	AcceptLate Action = "accept_late"
	// DelayAccept holds the request for Latency, then accepts it even if
	// the client gave up meanwhile.
	DelayAccept Action = "delay_accept"
)

// AtAccept reports whether the action acts when the push is accepted,
// rather than before the request is judged.
func (a Action) AtAccept() bool {
	return a == AcceptReset || a == AcceptLate || a == DelayAccept
}

// Actions lists every action, in the order the documentation gives them.
var Actions = []Action{Respond, Delay, Reset, GoAway, AcceptReset, AcceptLate, DelayAccept}

// Fault is one scripted misbehaviour of a mock. Faults are tried in the order
// added; the first that matches a request fires.
type Fault struct {
	ID string // set by the mock when the fault is added
	// Token limits the fault to requests for one device token ("" = any).
	Token string
	// Percent fires the fault on that share of matching requests (0 < p <
	// 100), drawn from the mock's seeded generator; 0 or 100 = every one.
	Percent float64
	// Count fires the fault on the next Count matching requests, then
	// removes it; 0 = until removed.
	Count  int
	Action Action // "" = Respond when Status or Reason is set, else Delay
	// Status and Reason are the answer (an APNs reason or an FCM error
	// code); a Status alone takes the provider's usual reason for it.
	Status     int
	Reason     string
	RetryAfter string        // Retry-After header: seconds or an HTTP date
	Latency    time.Duration // added before the request is answered, whatever the action
	Hits       int           // how often the fault fired
}

// Request is one request a mock received, as it recorded it: credentials
// appear as decoded claims and key fingerprints, never raw.
type Request struct {
	Seq     uint64 // increasing; pass the last one seen to Requests(since)
	At      time.Time
	Method  string
	Path    string
	Headers map[string]string
	// Auth describes the credential: JWT header and claims, certificate
	// subject, key fingerprint, verdict.
	Auth   map[string]any
	Token  string // the device token addressed
	Body   string // up to the mock's recording limit
	Status int
	Reason string // APNs reason or FCM error status
	ID     string // apns-id, or the FCM message name
	Fault  string // the id of the fault that answered, if one did
}

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
