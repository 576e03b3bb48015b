package devicesim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/serversim"
)

func TestFleetHTTP(t *testing.T) {
	r := simtest.New(t, serversim.Config{})
	r.Add("a", r.IOS)
	srv := httptest.NewServer(r.Fleet.Handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/devices", "", 200, `"name":"a"`},
		{"GET", "/devices/nope", "", 404, "no such device"},
		{"POST", "/devices/a/offline", "", 200, `"online":false`},
		{"POST", "/devices/a/online", "", 200, `"online":true`},
		{"POST", "/devices/a/explode", "", 404, ""},
		{"PUT", "/devices/a/skew", `{"skew":"-90s"}`, 200, `"skew":-90000000000`},
		{"PUT", "/devices/a/skew", `{"skew":"soon"}`, 400, "invalid duration"},
		{"PUT", "/devices/a/skew", `{`, 400, "bad JSON"},
		{"POST", "/devices/a/uninstall", "", 200, `"installed":false`},
		{"POST", "/devices/a/reinstall", "", 200, `"installed":true`},
		{"GET", "/devices/a", "", 200, `"shown":`},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.contains) {
			t.Errorf("%s %s: %d %s, want %d containing %q", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.contains)
		}
	}
}
