package mockkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/pushtest"
)

func newTestControl(provider, token string) (*Control, *httptest.Server) {
	n := 0
	reg := NewRegistry(func() string { n++; return strings.Repeat("ab", 16) + string(rune('0'+n)) }, nil)
	hub := NewHub(APNsStorage, nil)
	c := &Control{Provider: provider, Faults: NewFaults(1), Registry: reg, Recorder: NewRecorder(10), Hub: hub, Token: token,
		Register:  func(req pushtest.Registration) (pushtest.Registration, error) { return reg.Register(req), nil },
		Uninstall: reg.Uninstall}
	return c, httptest.NewServer(c.Handler())
}

// With a token, the control API, the push gateway and /events need it;
// /healthz and /metrics do not.
func TestControlToken(t *testing.T) {
	_, srv := newTestControl("apns", "s3cret")
	defer srv.Close()
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/control/devices", "", 401},
		{"/control/devices", "Bearer nope", 401},
		{"/control/devices", "Bearer s3cret", 200},
		{"/push", "", 401},
		{"/events", "", 401},
		{"/healthz", "", 200},
		{"/metrics", "", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s %q: %d, want %d", c.path, c.auth, resp.StatusCode, c.want)
		}
	}
}

// FCM registrations name their Firebase project as "project"; "env" is the
// same field under the shared name.
func TestRegisterProject(t *testing.T) {
	c, srv := newTestControl("fcm", "")
	defer srv.Close()
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/control/devices", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(`{"app":"com.example","project":"my-project","device":"p1"}`); got != 201 {
		t.Fatalf("project: %d", got)
	}
	if got := post(`{"app":"com.example","env":"my-project","device":"p2"}`); got != 201 {
		t.Fatalf("env: %d", got)
	}
	if got := post(`{"app":"com.example","env":"a","project":"b","device":"p3"}`); got != 400 {
		t.Fatalf("env and project differing: %d", got)
	}
	for _, r := range c.Registry.List() {
		if r.Project != "my-project" {
			t.Fatalf("registered %+v", r)
		}
	}
	_, apns := newTestControl("apns", "")
	defer apns.Close()
	resp, _ := http.Post(apns.URL+"/control/devices", "application/json", strings.NewReader(`{"app":"com.example","project":"p","device":"d"}`))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("APNs with a project: %d", resp.StatusCode)
	}
}
