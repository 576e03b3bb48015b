package access

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8066": true, "127.1.2.3:1": true, "[::1]:8066": true, "localhost:8066": true,
		":8066": false, "0.0.0.0:8066": false, "[::]:8066": false, "10.0.0.5:8066": false, "proxy:8066": false,
	} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v", addr, got)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := Check("", map[string]string{"--listen": "127.0.0.1:1", "--dev-listen": ""}); err != nil {
		t.Fatal(err)
	}
	err := Check("", map[string]string{"--control-listen": ":8197"})
	if err == nil || !strings.Contains(err.Error(), "--control-listen :8197") || !strings.Contains(err.Error(), EnvToken) {
		t.Fatalf("err %v", err)
	}
	if err := Check("s3cret", map[string]string{"--listen": "0.0.0.0:1"}); err != nil {
		t.Fatal(err)
	}
}

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	h := Guard("s3cret", ok, "/control/", "/events")
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/control/devices", "", 401},
		{"/control/devices", "Bearer wrong", 401},
		{"/control/devices", "Basic s3cret", 401},
		{"/control/devices", "Bearer s3cret", 204},
		{"/events?access_token=s3cret", "", 204},
		{"/events?access_token=nope", "", 401},
		{"/healthz", "", 204},
		{"/api/v4/system/ping", "", 204},
	} {
		r := httptest.NewRequest("GET", c.path, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s %q: %d, want %d", c.path, c.auth, w.Code, c.want)
		}
	}
	if Guard("", ok) == nil || Header("") != nil {
		t.Fatal("no token should guard nothing")
	}
	// Every path when no prefix is given.
	w := httptest.NewRecorder()
	Guard("t", ok).ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 401 {
		t.Fatalf("unprefixed guard: %d", w.Code)
	}
}

func TestTransport(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
	defer srv.Close()
	c := &http.Client{Transport: Transport("s3cret", nil)}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got != "Bearer s3cret" {
		t.Fatalf("Authorization %q", got)
	}
}
