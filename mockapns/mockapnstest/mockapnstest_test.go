package mockapnstest

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/sideshow/apns2"
	"golang.org/x/net/http2"

	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/pushtest"
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
	s.kit.CheckFailures(t, []mocktest.FailCase{
		{Name: "bad option", Do: func() { NewServer(s.kit.T, func(c *mockapns.Config) { c.Environment = "staging" }) }, Want: `unknown environment "staging"`},
		{Name: "not a bundle id", Do: func() { s.RegisterDevice("not a bundle", Production, "iphone") }, Want: "not a bundle id"},
		{Name: "no such environment", Do: func() { s.RegisterDevice("com.example.app", "staging", "iphone") }, Want: `environment "staging"`},
		{Name: "unknown token", Do: func() { s.Uninstall("00") }, Want: "no device has token"},
		{Name: "not a status", Do: func() { s.AddFault(Fault{Status: 42}) }, Want: "not an HTTP status"},
		{Name: "no environment for a certificate", Do: func() { s.NewCertificate("com.example.app", "staging") }, Want: "unknown APNs environment"},
		{Name: "a transport Trust cannot set", Do: func() {
			s.Trust(&apns2.Client{HTTPClient: &http.Client{Transport: http.NewFileTransport(http.Dir("."))}})
		}, Want: "not an *http2.Transport"},
	})
}

func TestFaultsAndRequests(t *testing.T) {
	s := NewServer(t)
	f := s.AddFault(Fault{Reason: "TooManyRequests", Status: 429, Count: 2})
	if list := s.Faults(); len(list) != 1 || list[0].ID != f.ID || list[0].Action != pushtest.Respond {
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
