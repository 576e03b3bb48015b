// Package access keeps pushlab's control planes on this machine unless the
// user says otherwise. Every listener binds 127.0.0.1 by default; one bound
// to another address must come with an access token, which the control
// APIs and /events then require (Authorization: Bearer <token>, or
// ?access_token=<token> for a browser's websocket).
package access

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// EnvToken names the environment variable every actor reads the token from
// (the --control-token flag wins).
const EnvToken = "PUSHLAB_CONTROL_TOKEN"

// Loopback reports whether addr ("host:port") can be reached only from this
// machine: 127.0.0.0/8, ::1 or localhost. ":port" and "0.0.0.0:port" bind
// every interface, so they are not.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Check refuses to bind a listener outside loopback without a token. what
// names the flag of each address, for the error.
func Check(token string, addrs map[string]string) error {
	if token != "" {
		return nil
	}
	for what, addr := range addrs {
		if addr != "" && !Loopback(addr) {
			return fmt.Errorf("%s %s is reachable from other machines, and the control API has no password: "+
				"set --control-token (or %s), which the control API and /events will then require, or bind 127.0.0.1", what, addr, EnvToken)
		}
	}
	return nil
}

// Guard requires token on the requests whose path starts with one of
// prefixes (every request when none are given); an empty token guards
// nothing. A refusal is 401 with a JSON error.
func Guard(token string, next http.Handler, prefixes ...string) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if guarded(r.URL.Path, prefixes) && subtle.ConstantTimeCompare([]byte(presented(r)), want) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="pushlab control"`)
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "the control API needs the access token (Authorization: Bearer …)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func guarded(path string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func presented(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return tok
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// Header is what a client of a guarded API sends: nil without a token.
func Header(token string) http.Header {
	if token == "" {
		return nil
	}
	return http.Header{"Authorization": {"Bearer " + token}}
}

// Transport adds the token to every request of base (nil:
// http.DefaultTransport); an empty token adds nothing.
func Transport(token string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if token == "" {
		return base
	}
	return roundTripper{token: token, base: base}
}

type roundTripper struct {
	token string
	base  http.RoundTripper
}

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}
