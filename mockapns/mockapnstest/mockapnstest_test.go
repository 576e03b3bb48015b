package mockapnstest

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"

	"github.com/sideshow/apns2"
	"golang.org/x/net/http2"

	"github.com/pushlab/pushlab/mockapns"
)

// Trust keeps the environment the client chose and trusts the mock; a host
// the caller set itself stays.
func TestTrustPoints(t *testing.T) {
	s := NewServer(t)
	tok := s.NewKey()
	for _, tc := range []struct {
		name   string
		client *apns2.Client
		want   string
	}{
		{"apns2 default (sandbox)", apns2.NewTokenClient(tok), s.DevelopmentURL},
		{"Development()", apns2.NewTokenClient(tok).Development(), s.DevelopmentURL},
		{"Production()", apns2.NewTokenClient(tok).Production(), s.URL},
		{"a host of the caller's", &apns2.Client{Host: "https://127.0.0.1:1", HTTPClient: apns2.NewTokenClient(tok).HTTPClient}, "https://127.0.0.1:1"},
		{"an http.Transport", &apns2.Client{Host: apns2.HostProduction, HTTPClient: &http.Client{Transport: &http.Transport{}}}, s.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Trust(tc.client)
			if c.Host != tc.want {
				t.Errorf("Host = %s, want %s", c.Host, tc.want)
			}
			var cfg *tls.Config
			switch tr := c.HTTPClient.Transport.(type) {
			case *http2.Transport:
				cfg = tr.TLSClientConfig
			case *http.Transport:
				cfg = tr.TLSClientConfig
			}
			if cfg == nil || cfg.RootCAs == nil || !cfg.RootCAs.Equal(s.Mock.CertPool()) {
				t.Errorf("the client does not trust the mock's CA")
			}
		})
	}
}

// Every helper that can fail fails the test, saying why.
func TestFailsTheTest(t *testing.T) {
	s := NewServer(t)
	for _, tc := range []struct {
		name string
		do   func(t testing.TB)
		want string
	}{
		{"bad option", func(t testing.TB) { NewServer(t, func(c *mockapns.Config) { c.Environment = "staging" }) }, `unknown environment "staging"`},
		{"not a bundle id", func(testing.TB) { s.RegisterDevice("not a bundle", Production, "iphone") }, "not a bundle id"},
		{"no such environment", func(testing.TB) { s.RegisterDevice("com.example.app", "staging", "iphone") }, `environment "staging"`},
		{"unknown token", func(testing.TB) { s.Uninstall("00") }, "no device has token"},
		{"not a status", func(testing.TB) { s.AddFault(Fault{Status: 42}) }, "not an HTTP status"},
		{"no environment for a certificate", func(testing.TB) { s.NewCertificate("com.example.app", "staging") }, "unknown APNs environment"},
		{"a transport Trust cannot set", func(testing.TB) {
			s.Trust(&apns2.Client{HTTPClient: &http.Client{Transport: http.NewFileTransport(http.Dir("."))}})
		}, "not an *http2.Transport"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.kit.FailsWith(t, func() { tc.do(s.kit.T) })
			if got == "" || !strings.Contains(got, tc.want) {
				t.Errorf("failed with %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFaultsAndRequests(t *testing.T) {
	s := NewServer(t)
	f := s.AddFault(Fault{Reason: "TooManyRequests", Status: 429, Count: 2})
	if list := s.Faults(); len(list) != 1 || list[0].ID != f.ID || list[0].Action != Respond {
		t.Errorf("Faults = %+v, want [%+v] as a Respond", list, f)
	}
	s.ClearFaults()
	if list := s.Faults(); len(list) != 0 {
		t.Errorf("after ClearFaults: %+v", list)
	}
	if r := s.Requests(0); len(r) != 0 {
		t.Errorf("requests before any push: %+v", r)
	}
}
