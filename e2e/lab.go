package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/proxy/proxytest"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// Options configure a Lab; the zero value works.
type Options struct {
	// Set is the PKI; nil makes a fresh one.
	Set *testpki.Set
	// Dir receives the key files the proxy reads; "" is a temporary
	// directory removed by Close.
	Dir      string
	Contents serversim.Contents
	Profile  serversim.Profile
	// EnvelopeField: where the server puts sealed contents (serversim.EnvelopeIn…).
	EnvelopeField string
	// ServerVersion is the Mattermost release the server simulator claims
	// ("": serversim.DefaultVersion, which signs).
	ServerVersion string
	// FCMDeviceRate is mockfcm's per-device limit a minute (0: FCM's 240;
	// negative: none, for load).
	FCMDeviceRate int
	Bus           *events.Bus  // nil: a new bus
	Logger        *slog.Logger // nil: discard
	// Proxy, if set, edits the proxy's configuration before it starts
	// (timeouts, ResendPolicy…).
	Proxy func(*proxy.Config)

	// ProxyURL, if set, is a push proxy already running elsewhere: the lab
	// starts none, and the server simulator posts there (trusting ProxyCAs,
	// or the lab's CA if nil). That proxy must reach the mocks, so give
	// them fixed addresses (below) and the proxy the key set in Set.
	ProxyURL string
	ProxyCAs *x509.CertPool
	// APNsListen, APNsDevListen and FCMListen fix the mocks' addresses
	// ("": a free port on 127.0.0.1).
	APNsListen, APNsDevListen, FCMListen string
}

// Lab is every actor of the push path, in this process: mock APNs and FCM,
// the push proxy, the server simulator and simulated devices, all on
// 127.0.0.1 with one fresh test PKI, every actor speaking real TLS.
type Lab struct {
	Set      *testpki.Set
	Bus      *events.Bus
	APNs     *mockapns.Server
	FCM      *mockfcm.Server
	Proxy    *proxy.Server
	ProxyURL string
	Server   *serversim.Server
	Fleet    *devicesim.Fleet
	// KeyDir holds the key files (ca.pem for clients).
	KeyDir string

	// The apps the proxy is configured for (testpki's proxy config):
	// IOSToken on token auth against production, IOSCert on certificate
	// auth against development (the sandbox listener of the mock).
	IOSToken, IOSCert, Android, AndroidRN devicesim.App

	cancel  context.CancelFunc
	tempDir string
	done    chan struct{}
}

// Start brings a lab up; ctx bounds the start-up only. Close it.
func Start(ctx context.Context, opts Options) (_ *Lab, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bus := opts.Bus
	if bus == nil {
		bus = events.NewBus()
	}
	set := opts.Set
	if set == nil {
		if set, err = testpki.NewSet(testpki.Options{}); err != nil {
			return nil, err
		}
	}
	// The actors live until Close, whatever becomes of ctx after start-up.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &Lab{Set: set, Bus: bus, cancel: cancel, done: make(chan struct{})}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()

	// The providers.
	if l.APNs, err = mockapns.New(mockapns.Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Bus: bus, Logger: log}); err != nil {
		return nil, err
	}
	if err = actor(ActorAPNs, func() error { return startAPNs(ctx, l.APNs, opts) }); err != nil {
		return nil, err
	}
	if err = l.APNs.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		return nil, err
	}
	if l.FCM, err = mockfcm.New(mockfcm.Config{Cert: set.Mock.TLS(), Bus: bus, Logger: log, DeviceRatePerMinute: opts.FCMDeviceRate}); err != nil {
		return nil, err
	}
	if err = actor(ActorFCM, func() error { return startFCM(ctx, l.FCM, opts) }); err != nil {
		return nil, err
	}
	if opts.ProxyURL == "" {
		// Our proxy reads the key files written below: point its service
		// account at this mock. A proxy elsewhere has its own files.
		set.Firebase.TokenURI = l.FCM.TokenURL()
		set.TokenURI = set.Firebase.TokenURI
	}
	if err = l.FCM.RegisterServiceAccount(set.Firebase); err != nil {
		return nil, err
	}

	// The proxy, reading the files `pushlab keys init` writes.
	proxyCAs := set.CA.Pool()
	if opts.ProxyURL != "" {
		l.ProxyURL = opts.ProxyURL
		if opts.ProxyCAs != nil {
			proxyCAs = opts.ProxyCAs
		}
	} else if err = actor(ActorProxy, func() error { return l.startProxy(ctx, opts, log) }); err != nil {
		return nil, err
	}

	// The server simulator, over TLS with a certificate from the lab's CA.
	leaf, err := set.CA.IssueServer("localhost", "127.0.0.1", "::1")
	if err != nil {
		return nil, err
	}
	// One client per hop (server → proxy, devices → server), as the actors
	// would have in their own processes: a shared one serialises both hops
	// on one connection pool.
	client := func(roots *x509.CertPool) *http.Client {
		var sp spread
		for range connsPerHop {
			sp = append(sp, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64})
		}
		return &http.Client{Transport: sp}
	}
	if l.Server, err = serversim.New(serversim.Config{
		ProxyURL: l.ProxyURL, ProxyClient: client(proxyCAs), SigningKey: set.Signing, SigningKeyID: set.SigningKeyID,
		Contents: opts.Contents, Profile: opts.Profile, EnvelopeField: opts.EnvelopeField, Version: opts.ServerVersion,
		TLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS()}, MinVersion: tls.VersionTLS12},
		Bus: bus, Logger: log,
	}); err != nil {
		return nil, err
	}
	if err = actor(ActorServer, l.Server.Start); err != nil {
		return nil, err
	}

	// The devices' side.
	l.IOSToken, l.IOSCert = devicesim.IOSTokenApp(set), devicesim.IOSCertApp(set)
	l.Android, l.AndroidRN = devicesim.AndroidApp(set), devicesim.AndroidRNApp(set)
	if l.Fleet, err = devicesim.NewFleet(devicesim.FleetConfig{
		Server: devicesim.RemoteServer(l.Server.URL, client(set.CA.Pool())),
		Pinned: devicesim.PinnedKeys(set),
		APNs:   devicesim.APNs(l.APNs), FCM: devicesim.FCM(l.FCM),
		Bus: bus, Logger: log,
	}); err != nil {
		return nil, err
	}
	return l, nil
}

// connsPerHop is how many HTTP/2 connections a hop's client spreads its
// requests over: on one, every stream takes the connection's locks in turn
// (the lab's largest lock wait under load).
const connsPerHop = 4

// spread sends each request over the next of its transports (each its own
// HTTP/2 connection per host).
type spread []*http.Transport

var spreadNext atomic.Uint64

func (sp spread) RoundTrip(req *http.Request) (*http.Response, error) {
	return sp[spreadNext.Add(1)%uint64(len(sp))].RoundTrip(req)
}

// CloseIdleConnections closes every transport's idle connections.
func (sp spread) CloseIdleConnections() {
	for _, t := range sp {
		t.CloseIdleConnections()
	}
}

// The actors' names in the pprof label events.ProfileLabel, set when an actor
// starts and inherited by the goroutines its servers and clients start.
const (
	ActorAPNs   = "mockapns"
	ActorFCM    = "mockfcm"
	ActorProxy  = "proxy"
	ActorServer = "server"
)

// actor runs start with the goroutine labelled as the actor.
func actor(name string, start func() error) (err error) {
	events.AsActor(name, func() { err = start() })
	return err
}

func startAPNs(ctx context.Context, s *mockapns.Server, opts Options) error {
	if opts.APNsListen == "" && opts.APNsDevListen == "" {
		return s.Start()
	}
	prod, err := listen(opts.APNsListen)
	if err != nil {
		return err
	}
	dev, err := listen(opts.APNsDevListen)
	if err != nil {
		prod.Close()
		return err
	}
	control, err := listen("")
	if err != nil {
		prod.Close()
		dev.Close()
		return err
	}
	s.URL, s.DevelopmentURL, s.ControlURL = "https://"+prod.Addr().String(), "https://"+dev.Addr().String(), "http://"+control.Addr().String()
	go s.ServeEnv(ctx, prod, testpki.Production)
	go s.ServeEnv(ctx, dev, testpki.Development)
	go s.ServeControl(ctx, control)
	return nil
}

func startFCM(ctx context.Context, s *mockfcm.Server, opts Options) error {
	if opts.FCMListen == "" {
		return s.Start()
	}
	ln, err := listen(opts.FCMListen)
	if err != nil {
		return err
	}
	control, err := listen("")
	if err != nil {
		ln.Close()
		return err
	}
	go s.Serve(ctx, ln)
	go s.ServeControl(ctx, control)
	return nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("e2e: listen: %w", err)
	}
	return ln, nil
}

// startProxy writes the key files and serves pushlab's proxy on 127.0.0.1.
func (l *Lab) startProxy(ctx context.Context, opts Options, log *slog.Logger) error {
	set, dir := l.Set, opts.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "pushlab-lab-"); err != nil {
			return err
		}
		l.tempDir = dir
	}
	l.KeyDir = dir
	if err := set.Write(dir, true); err != nil {
		return err
	}
	pcfg := proxytest.KeySetConfig(set, dir, "")
	pcfg.APNsHost = l.APNs.URL
	pcfg.APNsDevelopmentHost = l.APNs.DevelopmentURL
	pcfg.FCMEndpoint = l.FCM.Endpoint()
	pcfg.ThrottlePerSec = 0
	pcfg.RetryBackoffMs = 10
	if opts.Proxy != nil {
		opts.Proxy(&pcfg)
	}
	var err error
	if l.Proxy, err = proxy.New(pcfg, proxy.Options{
		RootCAs:   set.CA.Pool(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Proxy.TLS()}, MinVersion: tls.VersionTLS12},
		Bus:       l.Bus, Logger: log,
	}); err != nil {
		return err
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	l.ProxyURL = "https://" + pln.Addr().String()
	go func() {
		defer close(l.done)
		if err := l.Proxy.Serve(ctx, pln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("proxy stopped", "err", err)
		}
	}()
	return nil
}

// URLs lists each actor's address, for a human.
func (l *Lab) URLs() [][2]string {
	return [][2]string{
		{"mock APNs (production)", l.APNs.URL},
		{"mock APNs (development)", l.APNs.DevelopmentURL},
		{"mock APNs control", l.APNs.ControlURL},
		{"mock FCM", l.FCM.URL},
		{"mock FCM control", l.FCM.ControlURL},
		{"push proxy", l.ProxyURL},
		{"server simulator", l.Server.URL},
	}
}

// Close stops every actor and removes the temporary key directory.
func (l *Lab) Close() {
	if l.Fleet != nil {
		l.Fleet.Close()
	}
	if l.Server != nil {
		l.Server.Close()
	}
	l.cancel()
	if l.Proxy != nil {
		l.Proxy.Close()
		select {
		case <-l.done:
		default:
		}
	}
	if l.APNs != nil {
		l.APNs.Close()
	}
	if l.FCM != nil {
		l.FCM.Close()
	}
	if l.tempDir != "" {
		os.RemoveAll(l.tempDir)
	}
}

// Err formats a send result that was not OK.
func resultErr(r serversim.SendResult) error {
	if r.Status == serversim.StatusOK {
		return nil
	}
	return fmt.Errorf("%s: proxy said %s %s", r.DeviceName, r.Status, r.Error)
}
