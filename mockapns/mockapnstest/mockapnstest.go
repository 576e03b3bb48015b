// Package mockapnstest starts a mock APNs for one Go test, as httptest does
// for HTTP, and points the real sideshow/apns2 client at it:
//
//	s := mockapnstest.NewServer(t)
//	client := s.Trust(apns2.NewTokenClient(s.NewKey()))
//	phone := s.RegisterDevice("com.example.app", mockapnstest.Development, "iphone")
//	res, err := client.Push(&apns2.Notification{DeviceToken: phone.Token,
//		Topic: "com.example.app", Payload: []byte(`{"aps":{"alert":"hi"}}`)})
//	got, err := phone.Next(ctx) // got.Payload is what the phone received
//
// The server is a real mockapns.Server (Mock) on 127.0.0.1, with TLS from a
// CA made for the test, closed by t.Cleanup. Every method that can fail
// fails the test. Its signatures use only public types, so a test in any
// module can use it; package mockfcm/mockfcmtest has the same methods for
// the same things (pushtest.Provider, pushtest.Inbox).
package mockapnstest

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"testing"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"

	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// Names a test writes (a Fault's Action is one of pushtest's: pushtest.Reset…).
type (
	Delivery    = pushtest.Delivery
	Fault       = pushtest.Fault
	Request     = pushtest.Request
	Environment = mockapns.Environment
)

// The APNs environments.
const (
	Production  = mockapns.Production
	Development = mockapns.Development
)

// Option changes the mock's configuration before it starts; the defaults are
// mockapns.Config's, with a certificate from the test's own CA (which also
// issues NewCertificate's: keep ClientCAs for those to be trusted) and a
// logger that discards.
type Option func(*mockapns.Config)

// Server is a started mock APNs.
type Server struct {
	// URL is the production listener (api.push.apple.com), DevelopmentURL
	// the sandbox one, ControlURL the control API (plain HTTP).
	URL, DevelopmentURL, ControlURL string
	// TeamID is the team that NewKey's keys belong to.
	TeamID string
	// Mock is the server itself, for what this helper does not wrap.
	Mock *mockapns.Server
	// Provider has Uninstall, Pending, AddFault, Faults, ClearFaults and
	// Requests, as in package mockfcmtest.
	pushtest.Provider

	ca  *testpki.CA
	kit *mocktest.Kit
}

// NewServer starts a mock APNs on 127.0.0.1 and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ca, err := testpki.NewCA()
	if err != nil {
		t.Fatalf("mockapnstest: %v", err)
	}
	leaf, err := ca.IssueServer(testpki.MockHosts...)
	if err != nil {
		t.Fatalf("mockapnstest: %v", err)
	}
	cfg := mockapns.Config{Cert: leaf.TLS(), ClientCAs: ca.Pool(), Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := mockapns.New(cfg)
	if err != nil {
		t.Fatalf("mockapnstest: %v", err)
	}
	if err := m.Start(); err != nil {
		t.Fatalf("mockapnstest: %v", err)
	}
	t.Cleanup(m.Close)
	kit := &mocktest.Kit{T: t, Mock: m}
	return &Server{URL: m.URL, DevelopmentURL: m.DevelopmentURL, ControlURL: m.ControlURL, TeamID: testpki.AppleID(),
		Mock: m, Provider: kit, ca: ca, kit: kit}
}

// NewKey makes a token-auth signing key of TeamID, valid for every topic of
// the team in both environments, registers it, and returns it as apns2's
// token package wants it.
func (s *Server) NewKey() *token.Token {
	s.kit.T.Helper()
	k, err := testpki.NewAPNsKey(s.TeamID)
	if err != nil {
		s.kit.T.Fatalf("mockapnstest: %v", err)
	}
	if err := s.Mock.RegisterKey(mockapns.Key{ID: k.KeyID, TeamID: k.TeamID, Public: &k.Key.PublicKey}); err != nil {
		s.kit.T.Fatalf("mockapnstest: %v", err)
	}
	return &token.Token{AuthKey: k.Key, KeyID: k.KeyID, TeamID: k.TeamID}
}

// NewCertificate issues an Apple Push Services client certificate for
// bundleID from the CA the mock trusts, valid in envs (none: both, a
// universal certificate), for apns2.NewClient.
func (s *Server) NewCertificate(bundleID string, envs ...Environment) tls.Certificate {
	s.kit.T.Helper()
	if len(envs) == 0 {
		envs = []Environment{Development, Production}
	}
	leaf, err := s.ca.IssueAPNsClient(s.TeamID, bundleID, envs...)
	if err != nil {
		s.kit.T.Fatalf("mockapnstest: %v", err)
	}
	return leaf.TLS()
}

// Trust makes c trust the mock and, if c's Host is Apple's (apns2's default
// is the sandbox), points it at the mock's listener of the same environment.
// The client's own transport stays: the connection is apns2's, over HTTP/2.
func (s *Server) Trust(c *apns2.Client) *apns2.Client {
	s.kit.T.Helper()
	var cfg **tls.Config
	switch tr := c.HTTPClient.Transport.(type) {
	case *http2.Transport:
		cfg = &tr.TLSClientConfig
	case *http.Transport:
		cfg = &tr.TLSClientConfig
	default:
		s.kit.T.Fatalf("mockapnstest: Trust: the client's transport is %T, not an *http2.Transport or *http.Transport", tr)
	}
	if *cfg == nil {
		*cfg = &tls.Config{}
	}
	(*cfg).RootCAs = s.Mock.CertPool()
	switch c.Host {
	case apns2.HostProduction:
		c.Host = s.URL
	case apns2.HostDevelopment:
		c.Host = s.DevelopmentURL
	}
	return c
}

// RegisterDevice issues a device token to app (a bundle id) in env on a
// device called name, and puts the device online: what the mock delivers to
// it waits for Next.
func (s *Server) RegisterDevice(app string, env Environment, name string) *Device {
	s.kit.T.Helper()
	reg, err := s.Mock.RegisterDevice(app, env, name)
	if err != nil {
		s.kit.T.Fatalf("mockapnstest: %v", err)
	}
	return &Device{Token: reg.Token, App: app, Environment: env, Name: name, Inbox: s.kit.Inbox(reg.Token)}
}

// Device is an app on a simulated device, registered with the mock.
type Device struct {
	Token       string // the device token APNs issued
	App         string // the bundle id
	Environment Environment
	Name        string

	// Inbox has Next, Offline and Online.
	pushtest.Inbox
}
