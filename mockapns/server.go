package mockapns

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpserve"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

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

// Actor is the name the mock's events carry.
const Actor = "mockapns"

// Provider names APNs on deliveries and metrics.
const Provider = "apns"

// Host names by which the mock tells the environments apart when one listener
// serves both (Apple's names; the mock certificate of testpki is valid for them).
const (
	HostProduction  = "api.push.apple.com"
	HostDevelopment = "api.sandbox.push.apple.com"
	HostDevAlias    = "api.development.push.apple.com"
)

// Config configures a Server. The zero Config works: the mock then makes its
// own CA and certificate (see CertPool) and trusts that CA for client certificates.
type Config struct {
	// ControlToken, if set, is required by the control API's /control/…,
	// /push and /events (Authorization: Bearer): for a control listener
	// reachable from other machines.
	ControlToken string
	Cert         tls.Certificate  // server cert (testpki Set.Mock.TLS()); empty = made up
	ClientCAs    *x509.CertPool   // CA for client-certificate auth (testpki Set.CA.Pool())
	Bus          *events.Bus      // may be nil
	Logger       *slog.Logger     // nil: slog.Default()
	Seed         uint64           // fault generator seed
	Now          func() time.Time // may be nil (tests move the clock)

	// Environment is the environment of a listener passed to Serve when the
	// request names no Apple host (127.0.0.1, localhost); "" = production.
	Environment Environment
	// TokenRate, if set, answers TooManyRequests past Max pushes to one device
	// token within Per (Apple documents the reason, not the rate).
	TokenRate Rate
	// IdleTimeout closes a connection idle that long (no stream open) with a
	// GOAWAY (NO_ERROR); 0 = never.
	IdleTimeout time.Duration
	// MaxBadRequests, if set, closes a connection with GOAWAY, after
	// answering, once it has had that many BadDeviceToken answers in a row;
	// another 400 counts half. A 200 ends the run; 410 Unregistered and other
	// statuses neither count nor end it. 0 = never: Apple documents that
	// "normal request failures do not result in termination of a
	// connection", so closing for them is an opt-in (see the package doc).
	MaxBadRequests int
	// MaxConcurrentStreams a connection may open (0 = 1000, as Apple advertises).
	MaxConcurrentStreams uint32
	// RecordLimit bounds the inspection ring (0 = 1000 requests).
	RecordLimit int
	// MaxChannels is how many broadcast channels an app may have per
	// environment (0 = Apple's 10,000): past it CannotCreateChannelConfig.
	MaxChannels int
}

// Rate is a number of events per period.
type Rate struct {
	Max int
	Per time.Duration
}

// Server is a mock APNs provider API. Create it with New, then Start it (like
// httptest) or Serve it on listeners of your own.
type Server struct {
	// URL is the production endpoint after Start ("https://127.0.0.1:port"),
	// DevelopmentURL the sandbox one, ControlURL the control API (plain HTTP).
	URL, DevelopmentURL, ControlURL string
	// ChannelsURL and DevelopmentChannelsURL serve broadcast channel
	// management (Apple's api-manage-broadcast hosts) after Start.
	ChannelsURL, DevelopmentChannelsURL string

	cfg      Config
	now      func() time.Time
	clock    *mockkit.Clock
	log      *slog.Logger
	bus      *events.Bus
	hub      *mockkit.Hub
	reg      *mockkit.Registry
	faults   *mockkit.Faults
	rec      *mockkit.Recorder
	certPool *x509.CertPool
	clientCA *x509.CertPool
	cert     tls.Certificate
	handler  http.Handler
	control  http.Handler

	keysMu sync.RWMutex
	keys   map[string]*Key
	jwts   jwtCache

	chans *channels

	rate *mockkit.RateLimit // Config.TokenRate, per device token

	inflight atomic.Int64 // APNs handlers running, so Close lets them finish
	servers  httpserve.Group
}

// New makes a server; it listens on nothing until Start or Serve.
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, log: mockkit.Logger(cfg.Logger, Actor), bus: cfg.Bus, keys: map[string]*Key{},
		rate: mockkit.NewRateLimit(cfg.TokenRate.Max, cfg.TokenRate.Per), chans: newChannels()}
	// Everything reads the settable clock: advancing it an hour expires
	// provider tokens, as a provider whose clock drifted would see.
	s.clock = mockkit.NewClock(cfg.Now)
	s.now = s.clock.Now
	s.servers.Shutdown, s.servers.Log = s.shutdown, s.log
	switch cfg.Environment {
	case "", testpki.Production, testpki.Development:
	default:
		return nil, fmt.Errorf("mockapns: unknown environment %q", cfg.Environment)
	}
	s.cert, s.clientCA = cfg.Cert, cfg.ClientCAs
	if len(s.cert.Certificate) == 0 {
		ca, err := testpki.NewCA()
		if err != nil {
			return nil, fmt.Errorf("mockapns: making a CA: %w", err)
		}
		leaf, err := ca.IssueServer(testpki.MockHosts...)
		if err != nil {
			return nil, fmt.Errorf("mockapns: making a certificate: %w", err)
		}
		s.cert, s.certPool = leaf.TLS(), ca.Pool()
		if s.clientCA == nil {
			s.clientCA = s.certPool
		}
	} else {
		pool, err := trustFor(s.cert, cfg.ClientCAs)
		if err != nil {
			return nil, err
		}
		s.certPool = pool
	}
	s.hub = mockkit.NewHub(mockkit.APNsStorage, s.now)
	s.hub.OnDrop = s.onDrop
	s.hub.OnReturn = s.onReturn
	s.reg = mockkit.NewRegistry(newDeviceToken, s.now)
	s.hub.Track(s.reg)
	s.faults = mockkit.NewFaults(cfg.Seed)
	s.rec = mockkit.NewRecorder(cfg.RecordLimit)
	s.handler = http.HandlerFunc(s.serveAPNs)
	c := &mockkit.Control{Provider: Provider, Faults: s.faults, Registry: s.reg, Recorder: s.rec, Hub: s.hub, Bus: s.bus, Log: s.log,
		Register: func(req Registration) (Registration, error) {
			return s.RegisterDevice(req.App, req.Environment, req.Device)
		},
		Uninstall:  s.Uninstall,
		Clock:      s.clock,
		Extra:      s.channelControl,
		Collectors: []prometheus.Collector{newChannelMetrics(s)},
		Token:      cfg.ControlToken,
	}
	s.control = c.Handler()
	return s, nil
}

// trustFor is the pool a client needs to trust cert: the CA that issued it
// (the last of its chain, or ClientCAs when they verify it), else cert itself.
func trustFor(cert tls.Certificate, cas *x509.CertPool) (*x509.CertPool, error) {
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("mockapns: server certificate: %w", err)
		}
	}
	if cas != nil {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: cas}); err == nil {
			return cas, nil
		}
	}
	pool := x509.NewCertPool()
	last := cert.Certificate[len(cert.Certificate)-1]
	if c, err := x509.ParseCertificate(last); err == nil {
		pool.AddCert(c)
	}
	return pool, nil
}

func newDeviceToken() string {
	var b [32]byte
	rand.Read(b[:])
	return hexToken(b)
}

// CertPool is what a client trusts to talk to the mock (the CA that issued its
// certificate, or the certificate itself).
func (s *Server) CertPool() *x509.CertPool { return s.certPool }

// Client returns an HTTP/2 client that trusts the mock, like httptest's.
// Give it to apns2 as client.HTTPClient (with the certificate of a
// certificate-auth client in certs).
func (s *Server) Client(certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: s.certPool, Certificates: certs},
		ForceAttemptHTTP2: true,
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Handler serves the APNs provider API. Served on a listener of its own
// (rather than through Serve) it keeps no per-connection state: connection
// pinning, TooManyProviderTokenUpdates, Config.MaxBadRequests and the reset
// fault need Serve.
func (s *Server) Handler() http.Handler { return s.handler }

// ControlHandler serves the control API (mockkit.Control).
func (s *Server) ControlHandler() http.Handler { return s.control }

// Now is the mock's time: the clock its tokens, stored pushes and rate
// windows go by.
func (s *Server) Now() time.Time { return s.clock.Now() }

// AdvanceClock moves the mock's clock by d (also POST /control/clock), so
// that a test sees an hour-old provider token expire without waiting an
// hour; it returns the mock's new time.
func (s *Server) AdvanceClock(d time.Duration) time.Time { return s.clock.Advance(d) }

// ClockOffset is how far AdvanceClock (or /control/clock) has moved the
// mock's clock from the one it was made with.
func (s *Server) ClockOffset() time.Duration { return s.clock.Offset() }

// AddFault adds f to the fault script (also POST /control/faults) and
// returns it with its ID.
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

// RegisterKey registers (or replaces) a token-auth signing key.
func (s *Server) RegisterKey(k Key) error {
	if k.ID == "" || k.TeamID == "" || k.Public == nil {
		return fmt.Errorf("mockapns: key needs an ID, a TeamID and a public key")
	}
	switch k.Environment {
	case "", testpki.Production, testpki.Development:
	default:
		return fmt.Errorf("mockapns: key %s: unknown environment %q", k.ID, k.Environment)
	}
	k.Topics = append([]string(nil), k.Topics...)
	k.fingerprint = testpki.Fingerprint(k.Public)
	s.keysMu.Lock()
	s.keys[k.ID] = &k
	s.keysMu.Unlock()
	s.jwts.reset()
	s.log.Info("key registered", "kid", k.ID, "team", k.TeamID, "fingerprint", k.fingerprint,
		"topics", len(k.Topics), "env", k.Environment)
	return nil
}

func (s *Server) key(kid string) *Key {
	s.keysMu.RLock()
	defer s.keysMu.RUnlock()
	return s.keys[kid]
}

// RegisterDevice issues a device token to app bundleID on a device, for one environment.
func (s *Server) RegisterDevice(bundleID string, env Environment, device string) (Registration, error) {
	if !validTopic(bundleID) || bundleOf(bundleID) != bundleID {
		return Registration{}, fmt.Errorf("mockapns: %q is not a bundle id", bundleID)
	}
	if env != testpki.Development && env != testpki.Production {
		return Registration{}, fmt.Errorf("mockapns: environment %q is neither %q nor %q", env, testpki.Development, testpki.Production)
	}
	return s.reg.Issue(s.bus, Actor, Registration{App: bundleID, Environment: env, Device: device}), nil
}

// Uninstall removes the app of token from its device: the token answers 410
// Unregistered from now on, with the uninstall time; stored pushes are discarded.
func (s *Server) Uninstall(token string) (Registration, bool) {
	reg, ok := s.reg.Uninstall(token)
	if ok {
		s.hub.Forget(token)
	}
	return reg, ok
}

// Attach puts a device online; what was stored for it is handed over first.
// It returns how many stored notifications were handed over.
func (s *Server) Attach(token string, r Receiver) int { return s.hub.Attach(token, r) }

// Detach takes a device offline; later pushes are stored (the last one).
func (s *Server) Detach(token string) { s.hub.Detach(token) }

// Online reports whether the device with token is attached.
func (s *Server) Online(token string) bool { return s.hub.Online(token) }

// Pending returns what is stored for an offline device (the last
// notification per app), as mockfcm's Pending does.
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
// device if it is online, else stored by APNs's rules. Tests replay a
// captured push with it.
func (s *Server) Inject(d Delivery) { s.hub.Send(d) }

// Start listens on 127.0.0.1: production at URL, development at
// DevelopmentURL (TLS, HTTP/2 only), the control API at ControlURL, and
// channel management at ChannelsURL and DevelopmentChannelsURL.
func (s *Server) Start() error {
	type l struct {
		url *string
		env testpki.Environment
	}
	var lns []net.Listener
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, x := range lns {
				x.Close()
			}
			return fmt.Errorf("mockapns: listen: %w", err)
		}
		lns = append(lns, ln)
	}
	s.URL = "https://" + lns[0].Addr().String()
	s.DevelopmentURL = "https://" + lns[1].Addr().String()
	s.ControlURL = "http://" + lns[2].Addr().String()
	s.ChannelsURL = "https://" + lns[3].Addr().String()
	s.DevelopmentChannelsURL = "https://" + lns[4].Addr().String()
	ctx := context.Background()
	s.servers.Go(func() error { return s.ServeChannels(ctx, lns[3], testpki.Production) })
	s.servers.Go(func() error { return s.ServeChannels(ctx, lns[4], testpki.Development) })
	s.servers.Go(func() error { return s.ServeEnv(ctx, lns[0], testpki.Production) })
	s.servers.Go(func() error { return s.ServeEnv(ctx, lns[1], testpki.Development) })
	s.servers.Go(func() error { return s.ServeControl(ctx, lns[2]) })
	return nil
}

type connKey struct{}

// Serve serves the provider API on ln, wrapped in TLS (HTTP/2 only), until
// ctx ends or Close. Requests naming no Apple host get Config.Environment.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeEnv(ctx, ln, s.cfg.Environment)
}

// ServeEnv is Serve with the environment of requests that name no Apple host.
func (s *Server) ServeEnv(ctx context.Context, ln net.Listener, env Environment) error {
	if env == "" {
		env = testpki.Production
	}
	maxStreams := s.cfg.MaxConcurrentStreams
	if maxStreams == 0 {
		maxStreams = 1000
	}
	tlsCfg := &tls.Config{
		Certificates: []tls.Certificate{s.cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2"},
		// Verified by the handler against ClientCAs, so that a bad
		// certificate gets Apple's 403 BadCertificate, not a failed handshake.
		ClientAuth: tls.RequestClientCert,
	}
	// TLS is terminated here and Go's HTTP/2 server speaks over the
	// frameConn (see h2conn.go): one stream until a valid provider token,
	// GOAWAY with a reason.
	fl := &tlsListener{Listener: ln, cfg: tlsCfg, maxStreams: maxStreams, closing: s.servers.Closed}
	srv := &http.Server{
		Handler:           s.handler,
		IdleTimeout:       s.cfg.IdleTimeout,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			st := &connState{env: env, nc: c}
			if fc, ok := c.(*frameConn); ok {
				st.fc, st.nc = fc, fc.raw
			}
			return context.WithValue(ctx, connKey{}, st)
		},
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: int(maxStreams), MaxReadFrameSize: 1 << 16},
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetUnencryptedHTTP2(true) // HTTP/2 only (over the TLS above), as with Apple
	return s.servers.Serve(ctx, srv, fl)
}

// ServeControl serves the control API (plain HTTP/1.1) on ln until ctx ends or Close.
func (s *Server) ServeControl(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.control, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	return s.servers.Serve(ctx, srv, ln)
}

// shutdown stops srv the way APNs does: GOAWAY on every connection, the
// streams in flight answered, then the connections closed. Go's HTTP/2 server
// would wait a second for each client to hang up after the GOAWAY; the mock
// waits for its handlers (up to 5 s), gives the GOAWAY frames a moment to
// leave, and closes.
func (s *Server) shutdown(srv *http.Server) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Shutdown(context.Background()) // sends GOAWAY, then waits for idle connections
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-done:
	case <-time.After(50 * time.Millisecond):
	}
	srv.Close()
	<-done
	return nil
}

// Close shuts every listener down: each HTTP/2 connection gets a GOAWAY and
// its streams in flight finish (pushes arriving meanwhile get 503 Shutdown),
// then the connections close.
func (s *Server) Close() { s.servers.Close() }

// envOf tells the environment of a request: by Apple host name in
// :authority, else SNI, else the listener's.
func envOf(r *http.Request, st *tls.ConnectionState, c *connState, def testpki.Environment) testpki.Environment {
	if e, ok := envByHost(r.Host); ok {
		return e
	}
	if st != nil {
		if e, ok := envByHost(st.ServerName); ok {
			return e
		}
	}
	if c != nil {
		return c.env
	}
	return def
}

func envByHost(host string) (testpki.Environment, bool) {
	if len(host) < len(HostProduction) {
		// Too short to be one of Apple's names (an address, localhost):
		// most requests in a lab, answered without parsing.
		return "", false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch strings.ToLower(strings.TrimSuffix(host, ".")) {
	case HostProduction:
		return testpki.Production, true
	case HostDevelopment, HostDevAlias:
		return testpki.Development, true
	}
	return "", false
}
