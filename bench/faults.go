package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/pushtest"
)

// fcmCodes maps APNs reasons to the FCM error a Google server gives for the
// same condition, so one fault mix applies to both providers.
var fcmCodes = map[string]string{
	"Unregistered":        "UNREGISTERED",
	"BadDeviceToken":      "INVALID_ARGUMENT",
	"TooManyRequests":     "QUOTA_EXCEEDED",
	"ServiceUnavailable":  "UNAVAILABLE",
	"InternalServerError": "INTERNAL",
	"Shutdown":            "UNAVAILABLE",
}

// fault is one entry of a fault mix, for each provider.
type fault struct {
	spec      string
	apns, fcm pushtest.Fault
}

// parseFaults reads a fault mix: comma-separated PERCENT%:WHAT, where WHAT is
// an HTTP status (503), an APNs reason (Unregistered; FCM gets the matching
// error), an FCM error code (UNAVAILABLE; APNs gets its status), reset,
// goaway, or delay=DURATION.
func parseFaults(mix string) ([]fault, error) {
	var out []fault
	for _, part := range strings.Split(mix, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pct, what, ok := strings.Cut(part, ":")
		if !ok || !strings.HasSuffix(pct, "%") {
			return nil, fmt.Errorf("fault %q: want PERCENT%%:WHAT, e.g. 1%%:503", part)
		}
		p, err := strconv.ParseFloat(strings.TrimSuffix(pct, "%"), 64)
		if err != nil || p <= 0 || p > 100 {
			return nil, fmt.Errorf("fault %q: percent must be in (0, 100]", part)
		}
		base := pushtest.Fault{Percent: p}
		f := fault{spec: part}
		switch {
		case what == "reset" || what == "goaway":
			base.Action = pushtest.Action(what)
			f.apns, f.fcm = base, base
		case strings.HasPrefix(what, "delay="):
			d, err := time.ParseDuration(strings.TrimPrefix(what, "delay="))
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("fault %q: delay=DURATION, e.g. delay=20ms", part)
			}
			base.Action, base.Latency = pushtest.Delay, d
			f.apns, f.fcm = base, base
		default:
			base.Action = pushtest.Respond
			f.apns, f.fcm = base, base
			if st, err := strconv.Atoi(what); err == nil {
				if st < 400 || st > 599 {
					return nil, fmt.Errorf("fault %q: status must be 4xx or 5xx", part)
				}
				f.apns.Status, f.fcm.Status = st, st
			} else if st, ok := mockapns.Reasons[what]; ok {
				f.apns.Status, f.apns.Reason = st, what
				code, ok := fcmCodes[what]
				if !ok {
					return nil, fmt.Errorf("fault %q: APNs reason %s has no FCM counterpart; give an HTTP status", part, what)
				}
				f.fcm.Reason = code
			} else if strings.ToUpper(what) == what {
				f.fcm.Reason = what
				for r, c := range fcmCodes {
					if c == what && (f.apns.Reason == "" || r < f.apns.Reason) {
						f.apns.Reason, f.apns.Status = r, mockapns.Reasons[r]
					}
				}
				if f.apns.Reason == "" {
					return nil, fmt.Errorf("fault %q: FCM code %s has no APNs counterpart; give an HTTP status", part, what)
				}
			} else {
				return nil, fmt.Errorf("fault %q: %q is not a status, an APNs reason, an FCM code, reset, goaway or delay=", part, what)
			}
		}
		out = append(out, f)
	}
	return out, nil
}
