package pushlabtc

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The forwarder keeps one address while its target moves, as the proxy's
// mapped port does across a restart.
func TestForwarderFollowsItsTarget(t *testing.T) {
	serve := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }))
	}
	a, b := serve("a"), serve("b")
	defer a.Close()
	defer b.Close()
	f, err := newForwarder()
	if err != nil {
		t.Fatal(err)
	}
	get := func() (string, error) {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + f.addr())
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	for _, tt := range []struct{ target, want string }{{a.Listener.Addr().String(), "a"}, {b.Listener.Addr().String(), "b"}} {
		f.setTarget(tt.target)
		if got, err := get(); err != nil || got != tt.want {
			t.Fatalf("via the forwarder: %q %v, want %q", got, err, tt.want)
		}
	}
	b.Close()
	if got, err := get(); err == nil {
		t.Fatalf("a stopped target answered %q", got)
	}
	f.close()
	if _, err := get(); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("after close: %v", err)
	}
}
