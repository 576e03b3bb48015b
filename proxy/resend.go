package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// ResendPolicy says what the proxy does with a try whose request was sent in
// full and got no answer: the provider may have delivered it, or not, and
// nobody can tell which. It is the Config setting ResendPolicy
// (--resend-policy, PUSHLAB_RESEND_POLICY).
type ResendPolicy string

const (
	// ResendCollapse (the default) resends, and makes the resend harmless:
	// every APNs push carries an apns-collapse-id derived from its ack_id
	// (so APNs and iOS show the original and its resend as one
	// notification) and apps drop a second push with the same ack_id. A try
	// that outlives RetryTimeoutSec is not cancelled once its request is
	// out: its late answer still counts, until SendTimeoutSec.
	ResendCollapse ResendPolicy = "collapse"
	// ResendUpstream resends as mattermost-push-proxy does: blind, without
	// a collapse id, cancelling each try at RetryTimeoutSec. A notification
	// the provider had accepted may be shown twice.
	ResendUpstream ResendPolicy = "upstream"
	// ResendNever never resends what may have been delivered (pushlab before
	// ResendPolicy, formerly RetryUnconfirmed=false): such a try is answered
	// FAIL, though the notification may have gone out.
	ResendNever ResendPolicy = "never"
)

func (p ResendPolicy) check() error {
	switch p {
	case ResendCollapse, ResendUpstream, ResendNever:
		return nil
	}
	return fmt.Errorf("proxy: ResendPolicy %q: want %q, %q or %q", string(p), ResendCollapse, ResendUpstream, ResendNever)
}

// resends reports whether an unconfirmed try is sent again.
func (p ResendPolicy) resends() bool { return p != ResendNever }

// collapses reports whether pushes carry collapse ids and tries outlive
// their timeout.
func (p ResendPolicy) collapses() bool { return p == ResendCollapse }

// MaxCollapseID is APNs' limit on apns-collapse-id, in bytes.
const MaxCollapseID = 64

// CollapseID is the collapse id the proxy gives a notification: its ack_id
// when that fits in MaxCollapseID bytes (Mattermost's are 26), else a
// SHA-256 of it. A notification without an ack_id gets none: nothing could
// tell its resend from a new notification.
//
// Why every push type, clear and update_badge included: the id only ever
// joins a push with its own resends (ack ids are unique), so it never hides
// another notification; a clear or update_badge has no alert to replace and
// is idempotent, and the app's dedupe by ack_id keeps a late resend of an
// old badge from undoing a newer one.
func CollapseID(ackID string) string {
	if len(ackID) <= MaxCollapseID {
		return ackID
	}
	sum := sha256.Sum256([]byte(ackID))
	return base64.RawURLEncoding.EncodeToString(sum[:]) // 43 bytes
}
