package mockapns

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushlab/pushlab/testpki"
)

// Token-auth timing rules of the provider API.
const (
	// TokenMaxAge: "APNs rejects any request whose token contains a timestamp
	// that is more than one hour old."
	TokenMaxAge = time.Hour
	// TokenMinRefresh: "Update the authentication token no more than once every
	// 20 minutes" on one connection.
	TokenMinRefresh = 20 * time.Minute
)

// Key is a token-auth signing key as the developer portal registers it.
type Key struct {
	ID     string // 10-character key id (the JWT kid)
	TeamID string // 10-character team id (the JWT iss)
	Public *ecdsa.PublicKey
	// Topics makes the key topic-specific: only these bundle ids (push-type
	// suffixes allowed); empty = team-scoped, every topic of the team.
	Topics []string
	// Environment scopes the key to one environment; "" = both (a legacy key).
	Environment Environment
	// Related is the id of the one key that may share a connection with this
	// topic-specific key (Apple lets a topic-specific key and its related key
	// share one).
	Related string

	fingerprint string // of Public, computed once at registration
}

func (k *Key) topicSpecific() bool { return len(k.Topics) > 0 }

func (k *Key) allows(app string) bool {
	return !k.topicSpecific() || slices.Contains(k.Topics, app)
}

// credential is who a request authenticated as.
type credential struct {
	key  *Key              // token auth
	cert *x509.Certificate // certificate auth
	app  string            // certificate auth: the bundle id in the UID
	info map[string]any    // for the recorder: decoded JWT, fingerprint; never raw keys
}

// verifiedJWT is a provider token whose signature checked out; the mock caches
// these so that a connection pushing thousands of times with one token
// verifies it once (as Apple does).
type verifiedJWT struct {
	key  *Key
	kid  string
	iss  string
	iat  int64
	info map[string]any // the recorder's view, built once; copied before changes
	cred *credential    // what a request with it authenticated as, shared: never changed
}

const jwtCacheMax = 4096

// jwtCache is read by every push and written once per new token: a
// sync.Map, whose reads take no lock.
type jwtCache struct {
	m sync.Map // bearer → *verifiedJWT
	n atomic.Int64
}

func (c *jwtCache) get(bearer string) *verifiedJWT {
	v, _ := c.m.Load(bearer)
	j, _ := v.(*verifiedJWT)
	return j
}

func (c *jwtCache) put(bearer string, v *verifiedJWT) {
	if c.n.Load() >= jwtCacheMax {
		c.reset()
	}
	if _, loaded := c.m.Swap(bearer, v); !loaded {
		c.n.Add(1)
	}
}

func (c *jwtCache) reset() {
	c.m.Clear()
	c.n.Store(0)
}

// parseJWT decodes and verifies a provider token against the registered keys.
func parseJWT(bearer string, lookup func(kid string) *Key) (*verifiedJWT, map[string]any, *Error) {
	info := map[string]any{"scheme": "token"}
	parts := strings.Split(bearer, ".")
	if len(parts) != 3 {
		info["error"] = "not a JWS compact serialization"
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss string      `json:"iss"`
		Iat json.Number `json:"iat"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		info["error"] = "header: " + err.Error()
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	info["header"] = map[string]string{"alg": hdr.Alg, "kid": hdr.Kid}
	if err := decodeSegment(parts[1], &claims); err != nil {
		info["error"] = "claims: " + err.Error()
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	iat, ierr := claims.Iat.Int64()
	info["claims"] = map[string]any{"iss": claims.Iss, "iat": claims.Iat}
	if hdr.Alg != "ES256" { // alg pinned: no none, no HS256 with the public key
		info["error"] = fmt.Sprintf("alg %q is not ES256", hdr.Alg)
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	if ierr != nil || iat <= 0 {
		info["error"] = "iat is not an integer"
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	key := lookup(hdr.Kid)
	if key == nil {
		info["error"] = fmt.Sprintf("unknown key id %q", hdr.Kid)
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	info["key_fingerprint"] = key.fingerprint
	if claims.Iss != key.TeamID {
		info["error"] = fmt.Sprintf("iss %q is not the key's team", claims.Iss)
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		info["error"] = "signature is not 64 bytes of base64url"
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	sum := sha256.Sum256([]byte(bearer[:len(parts[0])+1+len(parts[1])]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key.Public, sum[:], r, s) {
		info["error"] = "signature does not verify"
		return nil, info, reject(ReasonInvalidProviderToken)
	}
	v := &verifiedJWT{key: key, kid: hdr.Kid, iss: claims.Iss, iat: iat}
	v.info = map[string]any{
		"scheme":          "token",
		"header":          map[string]string{"alg": "ES256", "kid": v.kid},
		"claims":          map[string]any{"iss": v.iss, "iat": v.iat},
		"key_fingerprint": key.fingerprint,
	}
	v.cred = &credential{key: key, info: v.info}
	return v, v.info, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return fmt.Errorf("not base64url: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return nil
}

// connState is what the mock remembers about one client connection: the
// environment of the listener it arrived on, the provider token the
// connection is pinned to, its certificate verdict, and its current run of
// bad requests.
type connState struct {
	env testpki.Environment
	nc  net.Conn   // for the reset fault
	fc  *frameConn // nil when served through Handler() elsewhere

	mu       sync.Mutex
	pinned   *Key                   // key of the first token-auth push
	bearer   string                 // token in use
	bearerAt time.Time              // when it was first accepted here
	inUse    atomic.Pointer[string] // bearer, for admitToken's look without mu
	bad      badRun                 // Config.MaxBadRequests

	certOnce sync.Once
	cert     *credential
	certErr  *Error

	lastRecorded atomic.Pointer[headerMap] // see sharedHeaders
}

// tlsState is the connection's TLS state (the handler's r.TLS is nil: the
// mock terminates TLS itself).
func (c *connState) tlsState() *tls.ConnectionState {
	if c.fc == nil {
		return nil
	}
	return c.fc.handshakeState()
}

// admitToken applies the per-connection rules to a verified token: team
// pinning, scoped-key relations, and the 20-minute refresh floor.
func (c *connState) admitToken(bearer string, v *verifiedJWT, now time.Time) *Error {
	if c == nil { // served through Handler() on a foreign server: no connection state
		return nil
	}
	if b := c.inUse.Load(); b != nil && *b == bearer {
		return nil // the token in use again: most pushes, without the lock the streams share
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pinned == nil {
		c.pinned, c.bearer, c.bearerAt = v.key, bearer, now
		c.inUse.Store(new(bearer)) // a copy: &bearer would move the parameter to the heap on every call
		return nil
	}
	if bearer == c.bearer {
		return nil
	}
	p, k := c.pinned, v.key
	switch {
	case k.TeamID != p.TeamID:
		// "APNs doesn't support authentication tokens from multiple developer accounts over a single connection."
		return reject(ReasonInvalidProviderToken)
	case k.ID != p.ID && k.Environment != "" && p.Environment != "" && k.Environment != p.Environment:
		return reject(ReasonBadEnvironmentKeyIDInToken)
	case k.ID != p.ID && (k.topicSpecific() || p.topicSpecific()) && k.Related != p.ID && p.Related != k.ID:
		return reject(ReasonUnrelatedKeyIDInToken)
	case now.Sub(c.bearerAt) < TokenMinRefresh:
		return reject(ReasonTooManyProviderTokenUpdates)
	}
	c.bearer, c.bearerAt = bearer, now
	c.inUse.Store(new(bearer))
	return nil
}
