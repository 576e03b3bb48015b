package mockkit

import (
	"sync"
	"time"
)

// RateLimit counts requests per key (a device token, a project) in windows
// of Per that start with the key's first request, as the providers' are
// (not aligned to the clock). A nil *RateLimit allows everything.
type RateLimit struct {
	max int
	per time.Duration

	mu  sync.Mutex
	win map[string]*rateWindow
}

type rateWindow struct {
	start time.Time
	n     int
}

// NewRateLimit allows max requests per key in each window of per; with max
// or per not positive it returns nil, which allows everything.
func NewRateLimit(max int, per time.Duration) *RateLimit {
	if max <= 0 || per <= 0 {
		return nil
	}
	return &RateLimit{max: max, per: per, win: map[string]*rateWindow{}}
}

// Allow counts one request for key at now, or says how long until the key's
// window ends and it may be sent.
func (l *RateLimit) Allow(key string, now time.Time) (wait time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.win[key]
	if w == nil || now.Sub(w.start) >= l.per {
		if len(l.win) > 100_000 { // forget finished windows now and then
			for k, old := range l.win {
				if now.Sub(old.start) >= l.per {
					delete(l.win, k)
				}
			}
		}
		l.win[key] = &rateWindow{start: now, n: 1}
		return 0, true
	}
	if w.n >= l.max {
		return w.start.Add(l.per).Sub(now), false
	}
	w.n++
	return 0, true
}
