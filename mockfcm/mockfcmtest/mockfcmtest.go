// Package mockfcmtest starts a mock FCM for one Go test, as httptest does for
// HTTP, and points the real firebase v4 Admin SDK at it:
//
//	s := mockfcmtest.NewServer(t)
//	app, _ := firebase.NewApp(ctx, nil, s.ClientOptions(s.NewServiceAccountJSON())...)
//	client, _ := app.Messaging(ctx)
//	phone := s.RegisterDevice("com.example.app", s.ProjectID, "pixel")
//	id, err := client.Send(ctx, &messaging.Message{Token: phone.Token, Data: map[string]string{"k": "v"}})
//	got, err := phone.Next(ctx) // got.Payload is what the phone received
//
// The server is a real mockfcm.Server (Mock) on 127.0.0.1, closed by
// t.Cleanup; the SDK keeps its real OAuth2 flow (a signed JWT exchanged at
// the mock's token endpoint). Every method that can fail fails the test. Its
// signatures use only public types, so a test in any module can use it;
// package mockapns/mockapnstest has the same methods for the same things
// (pushtest.Provider, pushtest.Inbox).
//
// The firebase v4 SDK retries a 503 and network errors by itself (up to 4
// times, with backoff): a one-shot UNAVAILABLE or Reset fault is absorbed by
// its retry, not reported to its caller. An FCM error code alone in a fault's
// Reason (e.g. "THIRD_PARTY_AUTH_ERROR") takes its HTTP status.
package mockfcmtest

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/api/option"

	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// Names a test writes (a Fault's Action is one of pushtest's: pushtest.Reset…).
type (
	Delivery = pushtest.Delivery
	Fault    = pushtest.Fault
	Request  = pushtest.Request
)

// DefaultProject is the Firebase project id a Server starts with.
const DefaultProject = "pushlab-test"

// Option changes the mock's configuration before it starts; the defaults are
// mockfcm.Config's, with a logger that discards.
type Option func(*mockfcm.Config)

// Server is a started mock FCM.
type Server struct {
	// URL is the TLS listener (FCM, OAuth2 and IID), ControlURL the control
	// API (plain HTTP).
	URL, ControlURL string
	// ProjectID is the Firebase project of NewServiceAccountJSON's accounts
	// (DefaultProject unless changed before the first call).
	ProjectID string
	// Mock is the server itself, for what this helper does not wrap.
	Mock *mockfcm.Server
	// Provider has Uninstall, Pending, AddFault, Faults, ClearFaults and
	// Requests, as in package mockapnstest.
	pushtest.Provider

	kit *mocktest.Kit
}

// NewServer starts a mock FCM on 127.0.0.1 and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := mockfcm.Config{Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := mockfcm.New(cfg)
	if err != nil {
		t.Fatalf("mockfcmtest: %v", err)
	}
	if err := m.Start(); err != nil {
		t.Fatalf("mockfcmtest: %v", err)
	}
	t.Cleanup(m.Close)
	kit := &mocktest.Kit{T: t, Mock: m}
	return &Server{URL: m.URL, ControlURL: m.ControlURL, ProjectID: DefaultProject, Mock: m, Provider: kit, kit: kit}
}

// NewServiceAccountJSON makes a service account of ProjectID whose token_uri
// is the mock's token endpoint, registers it, and returns its file as the
// Firebase console ships it (for option.WithCredentialsJSON, or ClientOptions).
func (s *Server) NewServiceAccountJSON() []byte {
	s.kit.T.Helper()
	sa, err := testpki.NewServiceAccount(s.ProjectID, s.Mock.TokenURL())
	if err != nil {
		s.kit.T.Fatalf("mockfcmtest: %v", err)
	}
	if err := s.Mock.RegisterServiceAccount(sa); err != nil {
		s.kit.T.Fatalf("mockfcmtest: %v", err)
	}
	return sa.JSON()
}

// ClientOptions are the options for firebase.NewApp that make the SDK use
// serviceAccountJSON and reach the mock, trusting its certificate: the
// credentials, an authenticating HTTP client built by google.golang.org/api
// itself, and the mock's endpoint (see mockfcm.Server.SDKOptions).
func (s *Server) ClientOptions(serviceAccountJSON []byte) []option.ClientOption {
	s.kit.T.Helper()
	_, opts, err := s.Mock.SDKOptions(context.Background(), serviceAccountJSON)
	if err != nil {
		s.kit.T.Fatalf("mockfcmtest: %v", err)
	}
	return opts
}

// RegisterDevice issues a registration token to app (an Android package) of
// Firebase project on a device called name, and puts the device online: what
// the mock delivers to it waits for Next.
func (s *Server) RegisterDevice(app, project, name string) *Device {
	s.kit.T.Helper()
	reg, err := s.Mock.RegisterDevice(app, project, name)
	if err != nil {
		s.kit.T.Fatalf("mockfcmtest: %v", err)
	}
	return &Device{Token: reg.Token, App: app, Project: reg.Project, Name: name, Inbox: s.kit.Inbox(reg.Token)}
}

// Device is an app on a simulated Android device, registered with the mock.
type Device struct {
	Token   string // the registration token FCM issued
	App     string // the package name
	Project string // the Firebase project id
	Name    string

	// Inbox has Next, Offline and Online.
	pushtest.Inbox
}
