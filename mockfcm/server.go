package mockfcm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpserve"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// Actor is the name the mock's events carry.
const Actor = "mockfcm"

// Provider is the Delivery.Provider of FCM deliveries.
const Provider = "fcm"

// The values the mock deals in, defined once in package pushtest for both
// mocks, the simulated phones and the test helpers.
type (
	Delivery     = pushtest.Delivery
	Receiver     = pushtest.Receiver
	ReceiverFunc = pushtest.ReceiverFunc
	Registration = pushtest.Registration
	Fault        = pushtest.Fault
	Action       = pushtest.Action
	Request      = pushtest.Request
)

// The fault actions (see pushtest for what each does), for AddFault.
const (
	Respond = pushtest.Respond
	Delay   = pushtest.Delay
	Reset   = pushtest.Reset
	GoAway  = pushtest.GoAway

	AcceptReset = pushtest.AcceptReset
	AcceptLate  = pushtest.AcceptLate
	DelayAccept = pushtest.DelayAccept
)

// maxRecordedBody bounds a request body kept for inspection.
const maxRecordedBody = 8 << 10

// Config configures a Server; every field may be left zero.
type Config struct {
	// ControlToken, if set, is required by the control API's /control/…,
	// /push and /events (Authorization: Bearer): for a control listener
	// reachable from other machines.
	ControlToken string
	// Cert is the TLS server certificate (testpki Set.Mock.TLS()); if empty, a
	// throwaway CA issues one for testpki.MockHosts.
	Cert   tls.Certificate
	Bus    *events.Bus  // where events go; nil discards them
	Logger *slog.Logger // nil: slog.Default()
	// Seed makes tokens, message ids and percentage faults reproducible.
	Seed uint64
	Now  func() time.Time // nil: time.Now
	// DeviceRatePerMinute is how many messages one device token may be sent
	// in a minute before FCM answers QUOTA_EXCEEDED: 0 takes FCM's
	// DefaultDeviceRate, a negative value switches the limit off (load tests).
	DeviceRatePerMinute int
	// ProjectQuotaPerMinute is how many messages a project may send in a
	// minute before FCM answers 429 QUOTA_EXCEEDED with Retry-After: 0 takes
	// Google's DefaultProjectQuota (600k), a negative value switches it off.
	ProjectQuotaPerMinute int
	// RecordLimit bounds the inspection log of requests (0 = 1000).
	RecordLimit int
}

// Server is a mock of fcm.googleapis.com (HTTP v1), oauth2.googleapis.com
// (the token endpoint) and iid.googleapis.com (topic management), served on one
// TLS listener, plus the shared control API on another.
type Server struct {
	// URL is the base URL of the TLS listener, e.g. "https://127.0.0.1:4443"
	// (set by Start).
	URL string
	// ControlURL is the base URL of the control API (set by Start).
	ControlURL string

	cfg     Config
	log     *slog.Logger
	bus     *events.Bus
	now     func() time.Time
	clock   *mockkit.Clock
	authNow func() time.Time
	cert    tls.Certificate
	hub     *mockkit.Hub
	reg     *mockkit.Registry
	faults  *mockkit.Faults
	rec     *mockkit.Recorder
	auth    *authority
	subs    *subscriptions
	ids     *ids
	rate    *mockkit.RateLimit // per device token
	quota   *mockkit.RateLimit // per project

	handler, control http.Handler

	servers httpserve.Group
}

// New makes a server; Start or Serve puts it on the network.
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, log: mockkit.Logger(cfg.Logger, Actor), bus: cfg.Bus, now: cfg.Now, cert: cfg.Cert, servers: httpserve.Group{Grace: 2 * time.Second}}
	// The settable clock moves the device side (token inactivity, stored
	// messages, rate windows); OAuth keeps the base clock, because the
	// client signs its assertions with its own.
	s.clock = mockkit.NewClock(cfg.Now)
	s.now = s.clock.Now
	s.authNow = cfg.Now
	if s.authNow == nil {
		s.authNow = time.Now
	}
	if len(s.cert.Certificate) == 0 {
		ca, err := testpki.NewCA()
		if err != nil {
			return nil, fmt.Errorf("mockfcm: %w", err)
		}
		leaf, err := ca.IssueServer(append(append([]string{}, testpki.MockHosts...), "iid.googleapis.com")...)
		if err != nil {
			return nil, fmt.Errorf("mockfcm: %w", err)
		}
		s.cert = leaf.TLS()
	}
	if s.cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(s.cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("mockfcm: server certificate: %w", err)
		}
		s.cert.Leaf = leaf
	}
	s.ids = newIDs(cfg.Seed)
	s.hub = mockkit.NewHub(mockkit.FCMStorage, s.now)
	s.hub.OnDrop = s.onDrop
	s.hub.OnReturn = s.onReturn
	s.reg = mockkit.NewRegistry(s.ids.token, s.now)
	s.hub.Track(s.reg)
	s.faults = mockkit.NewFaults(cfg.Seed)
	s.faults.Complete = completeFault
	s.rec = mockkit.NewRecorder(cfg.RecordLimit)
	s.auth = newAuthority(s.authNow)
	s.subs = newSubscriptions()
	s.rate = perMinute(cfg.DeviceRatePerMinute, DefaultDeviceRate)
	s.quota = perMinute(cfg.ProjectQuotaPerMinute, DefaultProjectQuota)
	s.hub.OnAttach = s.reg.Touch

	mux := http.NewServeMux()
	for _, p := range []string{"/token", "/o/oauth2/token", "/oauth2/v4/token"} {
		mux.HandleFunc("POST "+p, s.tokenEndpoint)
	}
	mux.HandleFunc("POST "+sendPrefix+"{project}"+sendSuffix, func(w http.ResponseWriter, r *http.Request) {
		s.send(w, r, r.PathValue("project"))
	})
	mux.HandleFunc("POST /iid/v1:batchAdd", s.iidEndpoint(true))
	mux.HandleFunc("POST /iid/v1:batchRemove", s.iidEndpoint(false))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { errNotFound(r.URL.Path).write(w) })
	s.handler = route(s, mux)

	s.control = (&mockkit.Control{
		Provider: Provider, Faults: s.faults, Registry: s.reg, Recorder: s.rec, Hub: s.hub, Bus: s.bus, Log: s.log,
		Register: func(req Registration) (Registration, error) {
			return s.RegisterDevice(req.App, req.Project, req.Device)
		},
		Uninstall: s.Uninstall,
		Clock:     s.clock,
		Token:     cfg.ControlToken,
	}).Handler()
	return s, nil
}

// completeFault lets a fault name an FCM code alone ("reason":"UNREGISTERED")
// or a status alone (503 → UNAVAILABLE).
func completeFault(f Fault) Fault {
	if f.Action != "" && f.Action != Respond {
		return f
	}
	if f.Status == 0 && f.Reason != "" {
		if c, ok := fcmCodes[f.Reason]; ok {
			f.Status = c.http
		}
	}
	if f.Reason == "" && f.Status != 0 {
		f.Reason = codeForStatus(f.Status)
	}
	return f
}

// The send path, POST /v1/projects/{project}/messages:send.
const sendPrefix, sendSuffix = "/v1/projects/", "/messages:send"

// route takes the one hot path, a send to a plain path, straight to send:
// the mux's wildcard matching costs every send an allocation. Anything
// else, or any path it is not sure of, goes to mux, which answers it as
// before.
func route(s *Server, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if project, ok := sendPath(r); ok {
			s.send(w, r, project)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// sendPath is the {project} of a send whose path the mux would take as it
// is: not escaped, already clean, one segment where the project is.
func sendPath(r *http.Request) (project string, ok bool) {
	if r.Method != http.MethodPost || r.URL.RawPath != "" {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, sendPrefix)
	if !ok {
		return "", false
	}
	project, ok = strings.CutSuffix(rest, sendSuffix)
	if !ok || project == "" || project == "." || project == ".." || strings.IndexByte(project, '/') >= 0 {
		return "", false
	}
	return project, true
}

// Handler serves FCM v1, the OAuth2 token endpoint and the IID topic API.
func (s *Server) Handler() http.Handler { return s.handler }

// ControlHandler serves the control API (mockkit.Control).
func (s *Server) ControlHandler() http.Handler { return s.control }

// TokenURL is what a service account's token_uri must be to get its access
// tokens here.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// Endpoint is the value for option.WithEndpoint.
func (s *Server) Endpoint() string { return s.URL + "/v1" }

// Now is the mock's time: the clock its tokens' inactivity, stored
// messages and rate windows go by (access tokens keep Config.Now).
func (s *Server) Now() time.Time { return s.clock.Now() }

// AdvanceClock moves the mock's clock by d (also POST /control/clock), so
// that a test sees a token expire after 270 days of inactivity without
// waiting; it returns the mock's new time.
func (s *Server) AdvanceClock(d time.Duration) time.Time { return s.clock.Advance(d) }

// ClockOffset is how far AdvanceClock (or /control/clock) has moved the
// mock's clock from the one it was made with.
func (s *Server) ClockOffset() time.Duration { return s.clock.Offset() }

// AddFault adds f to the fault script (also POST /control/faults) and
// returns it with its ID. A Reason alone takes its FCM code's status, a
// Status alone the code FCM answers it with.
func (s *Server) AddFault(f Fault) (Fault, error) { return s.faults.Add(f) }

// Faults is the fault script, with each fault's hits.
func (s *Server) Faults() []Fault { return s.faults.List() }

// RemoveFault removes the fault with id; false if there is none.
func (s *Server) RemoveFault(id string) bool { return s.faults.Remove(id) }

// ClearFaults empties the fault script.
func (s *Server) ClearFaults() { s.faults.Clear() }

// SeedFaults restarts the generator that draws percentage faults, so that
// a script replays the same way.
func (s *Server) SeedFaults(seed uint64) { s.faults.Seed(seed) }

// Requests returns the recorded requests with Seq > since (0: all kept).
func (s *Server) Requests(since uint64) []Request { return s.rec.Since(since) }

// Certificate is the server's TLS leaf.
func (s *Server) Certificate() *x509.Certificate { return s.cert.Leaf }

// CertPool trusts the server's certificate (and the chain it was given).
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, der := range s.cert.Certificate {
		if c, err := x509.ParseCertificate(der); err == nil {
			pool.AddCert(c)
		}
	}
	return pool
}

// TLSConfig is the server's TLS configuration: h2 and http/1.1, TLS 1.2+.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}

// RegisterServiceAccount lets sa obtain access tokens (verified against its
// public key, found by private_key_id) for its project. Outside pushlab's own
// module, register the service-account file: RegisterServiceAccountJSON.
func (s *Server) RegisterServiceAccount(sa *testpki.ServiceAccount) error {
	acct, err := s.auth.register(sa)
	if err != nil {
		return err
	}
	s.log.Info("mockfcm: service account registered", "client_email", acct.email, "project", acct.project, "key", acct.fingerprint)
	return nil
}

// RegisterDevice issues a registration token to the app packageName of
// Firebase project projectID (or its number, once a service account names
// it) on device. The arguments come in mockapns's order: app, where, device.
func (s *Server) RegisterDevice(packageName, projectID, device string) (Registration, error) {
	if projectID == "" || packageName == "" {
		return Registration{}, errors.New("mockfcm: a registration needs a project id and a package name")
	}
	projectID = s.auth.projectID(projectID) // a device may know its project by number (sender id)
	return s.reg.Issue(s.bus, Actor, Registration{App: packageName, Project: projectID, Device: device}), nil
}

// Uninstall removes the token's app: FCM answers UNREGISTERED from now on,
// its stored messages and topic subscriptions are gone.
func (s *Server) Uninstall(token string) (Registration, bool) {
	reg, ok := s.reg.Uninstall(token)
	if !ok {
		return reg, false
	}
	s.hub.Forget(token)
	s.subs.forget(reg.Project, token)
	return reg, true
}

// Subscribe adds token to topic (what SubscribeToTopic does through the IID API).
func (s *Server) Subscribe(token, topic string) error {
	reg, err := s.liveToken(token, topic)
	if err == nil && !s.subs.addLimited(reg.Project, token, strings.TrimPrefix(topic, "/topics/"), MaxTopicsPerInstance) {
		err = fmt.Errorf("mockfcm: token %s already has %d topics", events.RedactToken(token), MaxTopicsPerInstance)
	}
	return err
}

// Unsubscribe removes token from topic.
func (s *Server) Unsubscribe(token, topic string) error {
	reg, err := s.liveToken(token, topic)
	if err == nil {
		s.subs.remove(reg.Project, token, strings.TrimPrefix(topic, "/topics/"))
	}
	return err
}

// Topics lists the topics token is subscribed to.
func (s *Server) Topics(token string) []string { return s.subs.topicsOf(token) }

func (s *Server) liveToken(token, topic string) (Registration, error) {
	if !validTopic(strings.TrimPrefix(topic, "/topics/")) {
		return Registration{}, fmt.Errorf("mockfcm: invalid topic name %q", topic)
	}
	reg, ok := s.reg.Lookup(token)
	if !ok || !reg.Installed {
		return Registration{}, fmt.Errorf("mockfcm: token %s is not registered", events.RedactToken(token))
	}
	return reg, nil
}

// Attach puts the device with token online; messages stored for it follow.
// It returns how many were handed over.
func (s *Server) Attach(token string, r Receiver) int { return s.hub.Attach(token, r) }

// TouchDevice records that token's device connected to FCM now (it came
// online or opened the app): the 270-day inactivity clock starts again.
func (s *Server) TouchDevice(token string) { s.reg.Touch(token) }

// Detach takes the device offline; FCM stores what comes next (up to 100).
func (s *Server) Detach(token string) { s.hub.Detach(token) }

// Online reports whether the device with token is attached.
func (s *Server) Online(token string) bool { return s.hub.Online(token) }

// Pending returns what is stored for an offline device.
func (s *Server) Pending(token string) []Delivery { return s.hub.Pending(token) }

// TakePending removes what is stored for the offline device with token
// and returns it: the device never gets it (a test captures a push this way
// to replay or tamper with it). The mock reports the stored pushes dropped
// as it does at an uninstall.
func (s *Server) TakePending(token string) []Delivery {
	p := s.hub.Pending(token)
	s.hub.Forget(token)
	return p
}

// Inject hands d to its device as if the mock had just accepted it: to the
// device if it is online, else stored by FCM's rules. Tests replay a
// captured message with it.
func (s *Server) Inject(d Delivery) { s.hub.Send(d) }

// Start serves on 127.0.0.1 ports chosen by the system, like httptest: FCM,
// OAuth2 and IID over TLS (h2 and http/1.1) on one, the control API over plain
// HTTP on another. It sets URL and ControlURL.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("mockfcm: %w", err)
	}
	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return fmt.Errorf("mockfcm: %w", err)
	}
	s.URL = "https://" + ln.Addr().String()
	s.ControlURL = "http://" + cln.Addr().String()
	ctx := context.Background()
	s.servers.Go(func() error { return s.Serve(ctx, ln) })
	s.servers.Go(func() error { return s.ServeControl(ctx, cln) })
	return nil
}

// Serve serves Handler over TLS on ln until ctx is done or Close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.URL == "" {
		s.URL = "https://" + ln.Addr().String()
	}
	srv := s.httpServer(s.handler)
	srv.TLSConfig = s.TLSConfig()
	return s.servers.Serve(ctx, srv, ln)
}

// ServeControl serves ControlHandler over plain HTTP on ln until ctx is done or Close.
func (s *Server) ServeControl(ctx context.Context, ln net.Listener) error {
	if s.ControlURL == "" {
		s.ControlURL = "http://" + ln.Addr().String()
	}
	return s.servers.Serve(ctx, s.httpServer(s.control), ln)
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
}

// Close stops every listener at once.
func (s *Server) Close() { s.servers.Close() }

// Transport is an HTTP transport that trusts the server and connects every
// request for Google's FCM, OAuth2 and IID hosts (and the server's own
// address) to it: transparent mode, in process.
func (s *Server) Transport() *http.Transport {
	addr := strings.TrimPrefix(s.URL, "https://")
	d := &net.Dialer{Timeout: 10 * time.Second}
	t := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			switch a {
			case "fcm.googleapis.com:443", "oauth2.googleapis.com:443", "iid.googleapis.com:443":
				a = addr
			}
			return d.DialContext(ctx, network, a)
		},
	}
	return t
}

// Client is an HTTP client using Transport.
func (s *Server) Client() *http.Client { return &http.Client{Transport: s.Transport()} }

// readBody reads a request body up to maxBody. A body of a declared
// length within the limit is read into a buffer of that size: net/http
// holds a body to its Content-Length, so it needs neither
// http.MaxBytesReader nor io.ReadAll's growing buffer.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 || r.ContentLength > maxBody {
		return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	}
	b := make([]byte, 0, r.ContentLength+1) // +1: room to read the end
	for {
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		case len(b) == cap(b):
			return b, errLongerThanDeclared
		}
	}
}

var errLongerThanDeclared = errors.New("mockfcm: request body longer than its Content-Length")

// recordedHeaders are the request headers kept for inspection (canonical, shown).
var recordedHeaders = [][2]string{{"Content-Type", "content-type"}, {"User-Agent", "user-agent"},
	{"X-Firebase-Client", "x-firebase-client"}, {"X-Goog-Api-Client", "x-goog-api-client"}, {"Access_token_auth", "access_token_auth"}}

// record starts the inspection record of a request.
func (s *Server) record(r *http.Request, now time.Time) Request {
	return Request{At: now, Method: r.Method, Path: r.URL.Path}
}

// keep adds rec, the record of r, to the inspection log. Its headers are
// picked out of r's when the log is read.
func (s *Server) keep(rec *Request, r *http.Request) {
	s.rec.AddWith(*rec, mockkit.Headers{From: r.Header, Shown: recordedHeaders, Proto: r.Proto})
}

// authorize checks the bearer access token.
func (s *Server) authorize(r *http.Request, rec *Request) (*grant, *Error) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		rec.Auth = map[string]any{"verdict": "missing"}
		return nil, errMissingCredential
	}
	g, ok := s.auth.lookup(tok)
	if !ok {
		rec.Auth = map[string]any{"verdict": "unknown token"}
		return nil, errInvalidCredential
	}
	if !s.authNow().Before(g.expires) {
		rec.Auth = g.describe("expired")
		return nil, errInvalidCredential
	}
	rec.Auth = g.ok // shared, never written after the grant is made
	return g, nil
}

// onReturn reports a message that crossed its device's going offline on
// the push channel: kept as if it had come a moment later.
func (s *Server) onReturn(d Delivery, o mockkit.Outcome) {
	if o != mockkit.Stored {
		return
	}
	s.bus.Publish(events.Event{TraceID: traceOfDelivery(d), Hop: events.ProviderStored, Actor: Actor, Status: "stored", Detail: "the device went offline as the message was handed over: FCM keeps it until it comes back or the ttl passes", Attrs: map[string]string{"token": events.RedactToken(d.Token), "message_id": d.ID, "expiry": d.Expiry.UTC().Format(time.RFC3339)}})

}

// traceOfDelivery is a delivery's ack_id, or its message id.
func traceOfDelivery(d Delivery) string {
	var p struct {
		Data map[string]string `json:"data"`
	}
	json.Unmarshal(d.Payload, &p)
	if a := p.Data["ack_id"]; a != "" {
		return a
	}
	return d.ID
}

// onDrop reports what the hub discarded.
func (s *Server) onDrop(d Delivery, reason string) {
	trace := traceOfDelivery(d)
	detail := map[string]string{
		mockkit.DropCoalesced:  "replaced by a newer message with the same collapse key",
		mockkit.DropExpired:    "its ttl passed while the device was offline",
		mockkit.DropNowOrNever: "ttl 0 and the device was offline",
		mockkit.DropOverflow:   "more than 100 messages stored: FCM discarded them all (onDeletedMessages)",
		mockkit.DropForgotten:  "the app was uninstalled",
	}[reason]
	s.bus.Publish(events.Event{TraceID: trace, Hop: events.ProviderDropped, Actor: Actor, Status: reason, Detail: detail, Attrs: map[string]string{"token": events.RedactToken(d.Token), "message_id": d.ID}})

}

// DefaultDeviceRate: FCM lets a sender reach one device with up to 240
// messages a minute; past that it answers QUOTA_EXCEEDED.
const DefaultDeviceRate = 240

// perMinute allows limit messages a minute per key (FCM's minutes start with
// the first message): 0 takes def, a negative limit switches it off.
func perMinute(limit, def int) *mockkit.RateLimit {
	if limit == 0 {
		limit = def
	}
	return mockkit.NewRateLimit(limit, time.Minute)
}
