package mockfcm

import (
	"time"
)

// Limits Google documents for FCM ("Throttling and quotas", "Topic
// messaging", "Best practices for FCM registration token management").
const (
	// DefaultProjectQuota: "The default quota of 600k messages per minute"
	// per project; past it FCM answers 429 RESOURCE_EXHAUSTED (QUOTA_EXCEEDED)
	// "until the quota is refilled in the following minute". The quota counts
	// messages, client errors (400–499) included, 429s excluded; its minutes
	// are not aligned to the clock.
	DefaultProjectQuota = 600_000
	// MaxTopicsPerInstance: "One app instance can be subscribed to no more
	// than 2000 topics."
	MaxTopicsPerInstance = 2000
	// MaxBatchInstances: batch subscription "each request is limited to 1000
	// app instances".
	MaxBatchInstances = 1000
	// TokenInactivityExpiry: "For Android, when stale tokens reach 270 days
	// of inactivity, FCM considers them expired … marks it as invalid and
	// rejects sends to it."
	TokenInactivityExpiry = 270 * 24 * time.Hour
)

// expired reports whether FCM has expired reg for inactivity by now.
func expired(reg Registration, now time.Time) bool {
	return !reg.LastActiveAt.IsZero() && now.Sub(reg.LastActiveAt) >= TokenInactivityExpiry
}
