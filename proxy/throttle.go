package proxy

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle limits each client to perSec requests a second: a token bucket of
// that rate and burst per client, in a store bounded to size clients (the
// least recently seen is forgotten first, and starts again with a full bucket).
type throttle struct {
	perSec int
	vary   []string // header names; empty values fall back to the remote IP
	shared bool     // without vary values, every client shares one bucket (upstream)

	mu   sync.Mutex
	size int
	lru  *list.List // of *bucket, most recent first
	keys map[string]*list.Element
}

type bucket struct {
	key string
	lim *rate.Limiter
}

func newThrottle(perSec, size int, varyBy string) *throttle {
	if perSec <= 0 {
		return nil
	}
	return &throttle{perSec: perSec, vary: strings.Fields(varyBy), size: size,
		lru: list.New(), keys: map[string]*list.Element{}}
}

// key identifies the client: the values of the vary-by headers, else the IP
// (or, with shared, nothing: upstream's throttled.v1 keys such a request by
// the empty string, so all of them share one bucket).
func (t *throttle) key(r *http.Request) string {
	var parts []string
	for _, h := range t.vary {
		if v := r.Header.Get(h); v != "" {
			parts = append(parts, h+"="+v)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "\n")
	}
	if t.shared {
		return ""
	}
	return remoteIP(r)
}

func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// allow takes a token for key at now. It returns whether the request may
// pass, the tokens left, and, when it may not, how long until it could.
func (t *throttle) allow(key string, now time.Time) (ok bool, remaining int, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lim *rate.Limiter
	if e, found := t.keys[key]; found {
		t.lru.MoveToFront(e)
		lim = e.Value.(*bucket).lim
	} else {
		lim = rate.NewLimiter(rate.Limit(t.perSec), t.perSec)
		t.keys[key] = t.lru.PushFront(&bucket{key: key, lim: lim})
		for t.lru.Len() > t.size {
			old := t.lru.Back()
			t.lru.Remove(old)
			delete(t.keys, old.Value.(*bucket).key)
		}
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, 0, d
	}
	return true, int(math.Max(0, math.Floor(lim.TokensAt(now)))), 0
}

// len is the number of clients remembered.
func (t *throttle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}

// wrap answers 429 to a client over its rate, as upstream's throttled does:
// X-RateLimit-Limit, -Remaining and -Reset on every answer, Retry-After on
// the 429, whose body is "limit exceeded".
func (t *throttle) wrap(next http.Handler, denied func(r *http.Request, key string)) http.Handler {
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		key := t.key(r)
		ok, remaining, wait := t.allow(key, now)
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(t.perSec))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Second).Unix(), 10))
		if !ok {
			h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			denied(r, key)
			http.Error(w, "limit exceeded", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}
