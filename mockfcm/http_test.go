package mockfcm_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/testpki"
)

// assertion signs a JWT-bearer assertion for sa, changed by edit.
func assertion(t testing.TB, sa *testpki.ServiceAccount, aud string, now time.Time, edit func(h map[string]any, c jwt.MapClaims) any) string {
	t.Helper()
	iat := now.Add(-10 * time.Second)
	c := jwt.MapClaims{"iss": sa.ClientEmail, "scope": mockfcm.ScopeMessaging, "aud": aud, "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = sa.PrivateKeyID
	var key any = sa.Key
	if edit != nil {
		if k := edit(tok.Header, c); k != nil {
			key = k
		}
	}
	if _, isHMAC := key.([]byte); isHMAC {
		tok.Method = jwt.SigningMethodHS256
		tok.Header["alg"] = "HS256"
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func postForm(t testing.TB, f *fixture, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := f.s.Client().PostForm(f.s.TokenURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestTokenEndpoint(t *testing.T) {
	f := newFixture(t, false)
	a, _ := accounts(t)
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	aud := f.s.TokenURL()
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"good", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, nil)}}, 200, ""},
		{"google's audience", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, testpki.GoogleTokenURI, now, nil)}}, 200, ""},
		{"cloud-platform scope", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(_ map[string]any, c jwt.MapClaims) any {
			c["scope"] = strings.Join(mockfcm.FirebaseScopes, " ")
			return nil
		})}}, 200, ""},
		{"no grant type", url.Values{"assertion": {"x"}}, 400, "invalid_request"},
		{"other grant type", url.Values{"grant_type": {"client_credentials"}}, 400, "unsupported_grant_type"},
		{"no assertion", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}}, 400, "invalid_request"},
		{"garbage assertion", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {"a.b.c"}}, 400, "invalid_grant"},
		{"wrong key", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(map[string]any, jwt.MapClaims) any { return other })}}, 400, "invalid_grant"},
		{"unknown kid", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(h map[string]any, _ jwt.MapClaims) any {
			h["kid"] = "0123"
			return nil
		})}}, 400, "invalid_grant"},
		{"HS256", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(map[string]any, jwt.MapClaims) any { return []byte("secret") })}}, 400, "invalid_grant"},
		{"iss of another account", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(_ map[string]any, c jwt.MapClaims) any {
			c["iss"] = "someone@else.iam.gserviceaccount.com"
			return nil
		})}}, 400, "invalid_grant"},
		{"wrong audience", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, "https://example.com/token", now, nil)}}, 400, "invalid_grant"},
		{"exp over an hour after iat", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(_ map[string]any, c jwt.MapClaims) any {
			c["exp"] = now.Add(2 * time.Hour).Unix()
			return nil
		})}}, 400, "invalid_grant"},
		{"expired assertion", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now.Add(-3*time.Hour), nil)}}, 400, "invalid_grant"},
		{"no scope", url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, a, aud, now, func(_ map[string]any, c jwt.MapClaims) any {
			delete(c, "scope")
			return nil
		})}}, 400, "invalid_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postForm(t, f, tc.form)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if tc.code != "" {
				if body["error"] != tc.code || body["error_description"] == "" {
					t.Fatalf("body %v, want error %q", body, tc.code)
				}
				return
			}
			if tok, _ := body["access_token"].(string); !strings.HasPrefix(tok, "ya29.") || body["expires_in"] != 3599.0 || body["token_type"] != "Bearer" {
				t.Fatalf("body %v", body)
			}
		})
	}
}

// accessToken gets a token for sa straight from the endpoint.
func accessToken(t testing.TB, f *fixture, sa *testpki.ServiceAccount, scope string) string {
	t.Helper()
	status, body := postForm(t, f, url.Values{"grant_type": {mockfcm.GrantTypeJWTBearer}, "assertion": {assertion(t, sa, f.s.TokenURL(), f.clock.Now(),
		func(_ map[string]any, c jwt.MapClaims) any {
			c["scope"] = scope
			return nil
		})}})
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	return body["access_token"].(string)
}

func rawSend(t *testing.T, f *fixture, project, bearer, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.s.Endpoint()+"/projects/"+project+"/messages:send", strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestSendAuthAndProject(t *testing.T) {
	f := newFixture(t, false)
	a, _ := accounts(t)
	dev := f.device(t, testProjectA, "com.example", true)
	good := accessToken(t, f, a, mockfcm.ScopeMessaging)
	narrow := accessToken(t, f, a, "https://www.googleapis.com/auth/userinfo.email")
	body := `{"message":{"token":"` + dev.reg.Token + `"}}`
	sa := *a
	sa.ProjectNumber = "123456789012"
	if err := f.s.RegisterServiceAccount(&sa); err != nil {
		t.Fatal(err)
	}
	byNumber := accessToken(t, f, &sa, mockfcm.ScopeCloudPlatform)
	cases := []struct {
		name, project, bearer string
		status                int
		googleStatus          string
	}{
		{"ok", testProjectA, good, 200, ""},
		{"project number", "123456789012", byNumber, 200, ""},
		{"no bearer", testProjectA, "", 401, "UNAUTHENTICATED"},
		{"unknown bearer", testProjectA, "ya29.nope", 401, "UNAUTHENTICATED"},
		{"other project", testProjectB, good, 403, "PERMISSION_DENIED"},
		{"insufficient scope", testProjectA, narrow, 403, "PERMISSION_DENIED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, b := rawSend(t, f, tc.project, tc.bearer, body)
			if status != tc.status {
				t.Fatalf("status %d %s", status, b)
			}
			if status == 200 {
				if !strings.Contains(string(b), `"projects/`+tc.project+`/messages/`) {
					t.Fatalf("body %s", b)
				}
				dev.next(t)
				return
			}
			e := mockfcm.ParseError(status, h, b)
			if e.Status != tc.googleStatus || e.FCMCode != "" || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("no WWW-Authenticate: %v", h)
			}
		})
	}
}

// TestBadInputKeepsServing throws junk at every endpoint; each gets a
// documented answer and the server still serves a good send afterwards.
func TestBadInputKeepsServing(t *testing.T) {
	f := newFixture(t, false)
	a, _ := accounts(t)
	dev := f.device(t, testProjectA, "com.example", true)
	tok := accessToken(t, f, a, mockfcm.ScopeMessaging)
	huge := `{"message":{"token":"x","data":{"k":"` + strings.Repeat("a", 2<<20) + `"}}}`
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"empty send", "POST", "/v1/projects/pushlab-a/messages:send", "", 400},
		{"binary send", "POST", "/v1/projects/pushlab-a/messages:send", "\x00\xff{", 400},
		{"huge send", "POST", "/v1/projects/pushlab-a/messages:send", huge, 400},
		{"deep json", "POST", "/v1/projects/pushlab-a/messages:send", strings.Repeat("[", 100000), 400},
		{"unknown path", "POST", "/v1/projects/pushlab-a/messages:sendAll", "{}", 404},
		{"get root", "GET", "/", "", 404},
		{"iid junk", "POST", "/iid/v1:batchAdd", "junk", 400},
		{"iid no tokens", "POST", "/iid/v1:batchAdd", `{"to":"/topics/a","registration_tokens":[]}`, 400},
		{"iid bad topic", "POST", "/iid/v1:batchRemove", `{"to":"a b","registration_tokens":["x"]}`, 400},
		{"token junk", "POST", "/token", "%%%", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.s.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+tok)
			if tc.path == "/token" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := f.s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s", resp.StatusCode, b)
			}
			if !json.Valid(b) {
				t.Fatalf("answer is not JSON: %q", b)
			}
		})
	}
	if status, _, b := rawSend(t, f, testProjectA, tok, `{"message":{"token":"`+dev.reg.Token+`"}}`); status != 200 {
		t.Fatalf("after the junk: %d %s", status, b)
	}
	dev.next(t)
}

func TestIIDEndpoint(t *testing.T) {
	f := newFixture(t, false)
	a, _ := accounts(t)
	tok := accessToken(t, f, a, mockfcm.ScopeCloudPlatform)
	live := f.device(t, testProjectA, "com.example", true)
	gone := f.device(t, testProjectA, "com.example", true)
	f.s.Uninstall(gone.reg.Token)
	other := f.device(t, testProjectB, "com.example", true)
	body, _ := json.Marshal(map[string]any{"to": "/topics/news", "registration_tokens": []string{live.reg.Token, gone.reg.Token, other.reg.Token, "short"}})
	req, _ := http.NewRequest("POST", f.s.URL+"/iid/v1:batchAdd", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("access_token_auth", "true")
	resp, err := f.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Results []map[string]string }
	json.NewDecoder(resp.Body).Decode(&out)
	// Another project's token is INVALID_ARGUMENT: IID's per-token errors are
	// only NOT_FOUND, INVALID_ARGUMENT, INTERNAL and TOO_MANY_TOPICS.
	want := []string{"", "NOT_FOUND", "INVALID_ARGUMENT", "INVALID_ARGUMENT"}
	if resp.StatusCode != 200 || len(out.Results) != len(want) {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	for i, w := range want {
		if out.Results[i]["error"] != w {
			t.Errorf("result %d: %v, want %q", i, out.Results[i], w)
		}
	}
	if got := f.s.Topics(live.reg.Token); len(got) != 1 || got[0] != "news" {
		t.Fatalf("topics %v", got)
	}
	req, _ = http.NewRequest("POST", f.s.URL+"/iid/v1:batchAdd", bytes.NewReader(body))
	resp2, err := f.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 401 {
		t.Fatalf("without a bearer: %d", resp2.StatusCode)
	}
}

func TestControlAPI(t *testing.T) {
	f := newFixture(t, false)
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(f.s.ControlURL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, reg := post("/control/devices", `{"app":"com.example","env":"pushlab-a","device":"pixel"}`)
	if status != 201 || len(reg["token"].(string)) != 163 || reg["env"] != "pushlab-a" {
		t.Fatalf("register: %d %v", status, reg)
	}
	if status, _ := post("/control/devices", `{"app":"com.example"}`); status != 400 {
		t.Fatalf("register without a project: %d", status)
	}
	status, fault := post("/control/faults", `{"reason":"UNREGISTERED","count":1}`)
	if status != 201 || fault["status"] != 404.0 || fault["action"] != "respond" {
		t.Fatalf("fault by code alone: %d %v", status, fault)
	}
	status, fault = post("/control/faults", `{"status":503,"retry_after":"0"}`)
	if status != 201 || fault["reason"] != "UNAVAILABLE" {
		t.Fatalf("fault by status alone: %d %v", status, fault)
	}
	token := reg["token"].(string)
	_, err := f.client.Send(f.ctx, nil)
	if err == nil {
		t.Fatal("nil message sent")
	}
	// The first fault fires once, UNREGISTERED; it is then gone.
	if _, err := f.client.Send(f.ctx, msgTo(token)); !isUnregistered(err) {
		t.Fatalf("first send: %v", err)
	}
	resp, err := http.Get(f.s.ControlURL + "/control/faults")
	if err != nil {
		t.Fatal(err)
	}
	var list []mockfcm.Fault
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 1 || list[0].Reason != "UNAVAILABLE" {
		t.Fatalf("faults left: %+v", list)
	}
	resp, err = http.Get(f.s.ControlURL + "/control/requests?since=0")
	if err != nil {
		t.Fatal(err)
	}
	var recs []mockfcm.Request
	json.NewDecoder(resp.Body).Decode(&recs)
	resp.Body.Close()
	last := recs[len(recs)-1]
	if last.Reason != "UNREGISTERED" || last.Fault == "" || last.Token != token {
		t.Fatalf("recorded %+v", last)
	}
	for _, r := range recs {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), "ya29.") {
			t.Fatal("an access token was recorded")
		}
	}
}
