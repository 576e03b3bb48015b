package mockfcm

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/testpki"
)

// OAuth2 facts of Google's token endpoint.
const (
	// GrantTypeJWTBearer: the grant a service account uses (RFC 7523).
	GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// ScopeMessaging: "https://www.googleapis.com/auth/firebase.messaging" is
	// the scope FCM's documentation asks for.
	ScopeMessaging = "https://www.googleapis.com/auth/firebase.messaging"
	// ScopeCloudPlatform: the broad scope the firebase Admin SDKs send; FCM accepts it too.
	ScopeCloudPlatform = "https://www.googleapis.com/auth/cloud-platform"
	// AccessTokenLifetime: Google answers expires_in 3599 for a one-hour token.
	AccessTokenLifetime = time.Hour
	// maxAssertionLifetime: "Token must be a short-lived token (60 minutes)".
	maxAssertionLifetime = time.Hour
	// clockSkew tolerated on iat and exp, as Google's endpoint does in practice.
	clockSkew = 5 * time.Minute
)

// FirebaseScopes are the scopes firebase-admin-go v4 asks for (its
// internal.FirebaseScopes), used by SDKOptions.
var FirebaseScopes = []string{
	ScopeCloudPlatform,
	"https://www.googleapis.com/auth/datastore",
	"https://www.googleapis.com/auth/devstorage.full_control",
	"https://www.googleapis.com/auth/firebase",
	"https://www.googleapis.com/auth/identitytoolkit",
	"https://www.googleapis.com/auth/userinfo.email",
}

// googleAudiences are token endpoint URLs Google accepts as the assertion's aud
// besides the URL the request actually came to.
var googleAudiences = []string{testpki.GoogleTokenURI, "https://www.googleapis.com/oauth2/v4/token", "https://accounts.google.com/o/oauth2/token"}

// account is a registered service account.
type account struct {
	email, keyID  string
	project       string
	projectNumber string
	key           *rsa.PublicKey
	fingerprint   string
}

// grant is an issued access token.
type grant struct {
	acct    *account
	scopes  []string
	expires time.Time
	ok      map[string]any // describe("ok"), made once: requests share it
}

// describe is the grant as the inspection record shows it: who, never the token.
func (g *grant) describe(verdict string) map[string]any {
	return map[string]any{"client_email": g.acct.email, "project": g.acct.project, "key": g.acct.fingerprint,
		"expires": g.expires, "verdict": verdict}
}

// authority is the OAuth2 side of the mock: service accounts and the access
// tokens issued to them.
type authority struct {
	now func() time.Time

	mu     sync.RWMutex
	byKey  map[string]*account // private_key_id
	byMail map[string]*account
	grants map[string]*grant
	issued int
}

func newAuthority(now func() time.Time) *authority {
	return &authority{now: now, byKey: map[string]*account{}, byMail: map[string]*account{}, grants: map[string]*grant{}}
}

func (a *authority) register(sa *testpki.ServiceAccount) (*account, error) {
	if sa == nil || sa.Key == nil || sa.ClientEmail == "" || sa.ProjectID == "" {
		return nil, errors.New("mockfcm: service account needs client_email, project_id and a key")
	}
	acct := &account{email: sa.ClientEmail, keyID: sa.PrivateKeyID, project: sa.ProjectID, projectNumber: sa.ProjectNumber,
		key: &sa.Key.PublicKey, fingerprint: testpki.Fingerprint(&sa.Key.PublicKey)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if acct.keyID != "" {
		a.byKey[acct.keyID] = acct
	}
	a.byMail[acct.email] = acct
	return acct, nil
}

// oauthError is a token endpoint error, as Google words them.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
	status      int
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func grantErr(desc string) *oauthError {
	return &oauthError{Code: "invalid_grant", Description: desc, status: http.StatusBadRequest}
}

var (
	errBadSignature = grantErr("Invalid JWT Signature.")
	errNoAccount    = grantErr("Invalid grant: account not found")
	errLifetime     = grantErr("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
)

type assertionClaims struct {
	Iss   string           `json:"iss"`
	Scope string           `json:"scope"`
	Aud   json.RawMessage  `json:"aud"`
	Iat   *jwt.NumericDate `json:"iat"`
	Exp   *jwt.NumericDate `json:"exp"`
	Sub   string           `json:"sub,omitempty"`
}

// The JWT library's own claim checks are off: the mock checks with its clock.
func (c *assertionClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *assertionClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *assertionClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *assertionClaims) GetIssuer() (string, error)                   { return c.Iss, nil }
func (c *assertionClaims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c *assertionClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// exchange verifies a JWT-bearer assertion and issues an access token.
// audience is the URL the request came to.
func (a *authority) exchange(assertion, audience string) (string, *grant, map[string]any, *oauthError) {
	info := map[string]any{}
	var acct *account
	claims := &assertionClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	tok, err := parser.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		info["kid"] = kid
		a.mu.RLock()
		defer a.mu.RUnlock()
		if kid != "" {
			acct = a.byKey[kid]
		} else if iss, _ := t.Claims.(*assertionClaims); iss != nil {
			acct = a.byMail[iss.Iss]
		}
		if acct == nil {
			return nil, errNoAccount
		}
		return acct.key, nil
	})
	if tok != nil {
		info["alg"] = tok.Header["alg"]
	}
	info["iss"], info["scope"] = claims.Iss, claims.Scope
	if err != nil {
		switch {
		case errors.Is(err, errNoAccount):
			return "", nil, info, errNoAccount
		case errors.Is(err, jwt.ErrTokenMalformed):
			return "", nil, info, grantErr("Invalid JWT: malformed assertion.")
		}
		return "", nil, info, errBadSignature
	}
	info["key"] = acct.fingerprint
	if claims.Iss != acct.email {
		return "", nil, info, errNoAccount
	}
	var auds []string
	if json.Unmarshal(claims.Aud, &auds) != nil {
		var one string
		json.Unmarshal(claims.Aud, &one)
		auds = []string{one}
	}
	info["aud"] = auds
	okAud := slices.ContainsFunc(auds, func(x string) bool { return x == audience || slices.Contains(googleAudiences, x) })
	if !okAud {
		return "", nil, info, grantErr("Invalid JWT: Failed audience check. The right audience is " + testpki.GoogleTokenURI)
	}
	now := a.now()
	if claims.Iat == nil || claims.Exp == nil {
		return "", nil, info, errLifetime
	}
	iat, exp := claims.Iat.Time, claims.Exp.Time
	if exp.Sub(iat) > maxAssertionLifetime || !exp.After(iat) || iat.After(now.Add(clockSkew)) || !now.Before(exp.Add(clockSkew)) {
		return "", nil, info, errLifetime
	}
	scopes := strings.Fields(claims.Scope)
	if len(scopes) == 0 {
		return "", nil, info, &oauthError{Code: "invalid_scope", Description: "Invalid OAuth scope or ID token audience provided.", status: http.StatusBadRequest}
	}
	token := newAccessToken()
	g := &grant{acct: acct, scopes: scopes, expires: now.Add(AccessTokenLifetime)}
	g.ok = g.describe("ok")
	a.mu.Lock()
	a.issued++
	if a.issued%1024 == 0 { // forget expired tokens now and then
		for t, old := range a.grants {
			if !now.Before(old.expires) {
				delete(a.grants, t)
			}
		}
	}
	a.grants[token] = g
	a.mu.Unlock()
	return token, g, info, nil
}

// projectID maps a project number of a registered service account to its
// project id; anything else is returned as is.
func (a *authority) projectID(p string) string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, acct := range a.byMail {
		if acct.projectNumber != "" && acct.projectNumber == p {
			return acct.project
		}
	}
	return p
}

// lookup finds the grant of an access token.
func (a *authority) lookup(token string) (*grant, bool) {
	a.mu.RLock()
	g, ok := a.grants[token]
	a.mu.RUnlock()
	return g, ok
}

// canMessage: FCM needs firebase.messaging or cloud-platform.
func (g *grant) canMessage() bool {
	return slices.Contains(g.scopes, ScopeMessaging) || slices.Contains(g.scopes, ScopeCloudPlatform)
}

// project reports whether the grant's service account belongs to project (id or number).
func (g *grant) project(p string) bool {
	return p == g.acct.project || g.acct.projectNumber != "" && p == g.acct.projectNumber
}

// newAccessToken makes an opaque token shaped like Google's ("ya29.…").
func newAccessToken() string {
	b := make([]byte, 96)
	rand.Read(b)
	return "ya29.c." + base64.RawURLEncoding.EncodeToString(b)
}

// tokenEndpoint serves POST {token_uri}.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	rec := s.record(r, s.now())
	fail := func(e *oauthError) {
		rec.Status, rec.Reason = e.status, e.Code
		s.keep(&rec, r)
		s.bus.Publish(events.Event{Hop: events.ProviderRejected, Actor: Actor, Status: e.Code, Detail: "token request refused: " + e.Description, Attrs: map[string]string{"endpoint": "oauth2"}})
		s.log.Info("mockfcm: token request refused", "error", e.Code, "description", e.Description)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(e.status)
		json.NewEncoder(w).Encode(e)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		fail(&oauthError{Code: "invalid_request", Description: "Could not read the request body.", status: 400})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != GrantTypeJWTBearer {
		if gt == "" {
			fail(&oauthError{Code: "invalid_request", Description: "Missing required parameter: grant_type", status: 400})
		} else {
			fail(&oauthError{Code: "unsupported_grant_type", Description: "Invalid grant_type: " + truncate(gt, 64), status: 400})
		}
		return
	}
	assertion := r.PostForm.Get("assertion")
	if assertion == "" {
		fail(&oauthError{Code: "invalid_request", Description: "Missing required parameter: assertion", status: 400})
		return
	}
	token, g, info, oerr := s.auth.exchange(assertion, "https://"+r.Host+r.URL.Path)
	rec.Auth = info
	if oerr != nil {
		fail(oerr)
		return
	}
	rec.Status = 200
	s.keep(&rec, r)
	s.log.Debug("mockfcm: access token issued", "client_email", g.acct.email, "project", g.acct.project, "key", g.acct.fingerprint)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	fmt.Fprintf(w, "{\n  \"access_token\": %q,\n  \"expires_in\": %d,\n  \"token_type\": \"Bearer\"\n}", token, int(AccessTokenLifetime/time.Second)-1)
}
