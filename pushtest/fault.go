package pushtest

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/pushlab/pushlab/internal/httpjson"
)

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
//
// Its JSON is the control API's (POST /control/faults): snake_case names,
// the latency as "250ms" (or a number of milliseconds), and an unknown
// field is an error, so that a misspelt one does not script another fault.
type Fault struct {
	ID string `json:"id"` // set by the mock when the fault is added
	// Token limits the fault to requests for one device token ("" = any).
	Token string `json:"token,omitempty"`
	// Percent fires the fault on that share of matching requests (0 < p <
	// 100), drawn from the mock's seeded generator; 0 or 100 = every one.
	Percent float64 `json:"percent,omitempty"`
	// Count fires the fault on the next Count matching requests, then
	// removes it; 0 = until removed.
	Count  int    `json:"count,omitempty"`
	Action Action `json:"action"` // "" = Respond when Status or Reason is set, else Delay
	// Status and Reason are the answer (an APNs reason or an FCM error
	// code); a Status alone takes the provider's usual reason for it.
	Status     int    `json:"status,omitempty"`
	Reason     string `json:"reason,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"` // Retry-After header: seconds or an HTTP date
	// Latency is added before the request is answered, whatever the
	// action; for AcceptLate it comes after the push is delivered, for
	// DelayAccept the client's giving up does not cut it short. Its JSON
	// is "latency": "250ms" (faultJSON).
	Latency time.Duration `json:"-"`
	Hits    int           `json:"hits"` // how often the fault fired
}

// faultFields is Fault without its JSON methods, for them to embed.
type faultFields Fault

// faultJSON is a Fault as the control API writes it: the latency, shadowing
// the embedded one, as a duration string.
type faultJSON struct {
	*faultFields
	Latency httpjson.Duration `json:"latency,omitempty"`
}

// MarshalJSON writes f as the control API does.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{(*faultFields)(&f), httpjson.Duration(f.Latency)})
}

// UnmarshalJSON reads a fault as the control API takes it.
func (f *Fault) UnmarshalJSON(b []byte) error {
	w := faultJSON{faultFields: &faultFields{}}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*f = Fault(*w.faultFields)
	f.Latency = time.Duration(w.Latency)
	return nil
}
