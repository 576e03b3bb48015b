package mockapns

import (
	"testing"

	"github.com/pushlab/pushlab/testpki"
)

func TestEnvByHost(t *testing.T) {
	for host, want := range map[string]testpki.Environment{
		HostProduction:                    testpki.Production,
		"API.Push.Apple.com.":             testpki.Production,
		HostProduction + ":443":           testpki.Production,
		"[" + HostProduction + "]:443":    testpki.Production,
		HostDevelopment:                   testpki.Development,
		HostDevAlias + ":2197":            testpki.Development,
		"api.sandbox.push.apple.com.:443": testpki.Development,
		"":                                "",
		"localhost:8443":                  "",
		"127.0.0.1:2197":                  "",
		"push.apple.com":                  "",
		"api.push.apple.com.evil":         "",
	} {
		got, ok := envByHost(host)
		if got != want || ok != (want != "") {
			t.Errorf("envByHost(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
}
