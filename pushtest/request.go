package pushtest

import "time"

// Request is one request a mock received, as it recorded it: credentials
// appear as decoded claims and key fingerprints, never raw.
type Request struct {
	Seq     uint64            `json:"seq"` // increasing; pass the last one seen to Requests(since)
	At      time.Time         `json:"at"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers,omitempty"`
	// Auth describes the credential: JWT header and claims, certificate
	// subject, key fingerprint, verdict.
	Auth   map[string]any `json:"auth,omitempty"`
	Token  string         `json:"token,omitempty"` // the device token addressed
	Body   string         `json:"body,omitempty"`  // up to the mock's recording limit
	Status int            `json:"status"`
	Reason string         `json:"reason,omitempty"` // APNs reason or FCM error status
	ID     string         `json:"id,omitempty"`     // apns-id, or the FCM message name
	Fault  string         `json:"fault,omitempty"`  // the id of the fault that answered, if one did
}
