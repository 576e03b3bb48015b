package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/internal/events"
	"github.com/pushlab/pushlab/internal/testpki"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/proxy"
)

// Options configure a Lab; the zero value works.
type Options struct {
	// Set is the PKI; nil makes a fresh one.
	Set *testpki.Set
	// Dir receives the key files the proxy reads; "" is a temporary
	// directory removed by Close.
	Dir      string
	Contents devicesim.Contents
	Profile  devicesim.Profile
	// EnvelopeField: where the server puts sealed contents (devicesim.EnvelopeIn…).
	EnvelopeField string
	// ServerVersion is the Mattermost release the server simulator claims
	// ("": devicesim.DefaultServerVersion, which signs).
	ServerVersion string
	// FCMDeviceRate is mockfcm's per-device limit a minute (0: FCM's 240;
	// negative: none, for load).
	FCMDeviceRate int
	Bus           *events.Bus  // nil: a new bus
	Logger        *slog.Logger // nil: discard
	// Proxy, if set, edits the proxy's configuration before it starts
	// (timeouts, ResendPolicy…).
	Proxy func(*proxy.Config)
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
	Server   *devicesim.Server
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
	if err = l.APNs.Start(); err != nil {
		return nil, err
	}
	if err = l.APNs.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		return nil, err
	}
	if l.FCM, err = mockfcm.New(mockfcm.Config{Cert: set.Mock.TLS(), Bus: bus, Logger: log, DeviceRatePerMinute: opts.FCMDeviceRate}); err != nil {
		return nil, err
	}
	if err = l.FCM.Start(); err != nil {
		return nil, err
	}
	set.Firebase.TokenURI = l.FCM.TokenURL()
	set.TokenURI = set.Firebase.TokenURI
	if err = l.FCM.RegisterServiceAccount(set.Firebase); err != nil {
		return nil, err
	}

	// The proxy, reading the files `pushlab keys init` writes.
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pushlab-lab-"); err != nil {
			return nil, err
		}
		l.tempDir = dir
	}
	l.KeyDir = dir
	if err = set.Write(dir, true); err != nil {
		return nil, err
	}
	pcfg := proxy.KeySetConfig(set, dir, "")
	pcfg.APNsHost = l.APNs.URL
	pcfg.APNsDevelopmentHost = l.APNs.DevelopmentURL
	pcfg.FCMEndpoint = l.FCM.Endpoint()
	pcfg.RootCAs = set.CA.Pool()
	pcfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{set.Proxy.TLS()}, MinVersion: tls.VersionTLS12}
	pcfg.Bus, pcfg.Logger = bus, log
	pcfg.ThrottlePerSec = 0
	pcfg.RetryBackoffMs = 10
	if opts.Proxy != nil {
		opts.Proxy(&pcfg)
	}
	if l.Proxy, err = proxy.New(pcfg); err != nil {
		return nil, err
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.ProxyURL = "https://" + pln.Addr().String()
	go func() {
		defer close(l.done)
		if err := l.Proxy.Serve(ctx, pln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("proxy stopped", "err", err)
		}
	}()

	// The server simulator, over TLS with a certificate from the lab's CA.
	leaf, err := set.CA.IssueServer("localhost", "127.0.0.1", "::1")
	if err != nil {
		return nil, err
	}
	trust := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: set.CA.Pool()}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}}
	if l.Server, err = devicesim.NewServer(devicesim.ServerConfig{
		ProxyURL: l.ProxyURL, ProxyClient: trust, SigningKey: set.Signing, SigningKeyID: set.SigningKeyID,
		Contents: opts.Contents, Profile: opts.Profile, EnvelopeField: opts.EnvelopeField, Version: opts.ServerVersion,
		TLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS()}, MinVersion: tls.VersionTLS12},
		Bus: bus, Logger: log,
	}); err != nil {
		return nil, err
	}
	if err = l.Server.Start(); err != nil {
		return nil, err
	}

	// The devices' side.
	l.IOSToken, l.IOSCert = devicesim.IOSTokenApp(set), devicesim.IOSCertApp(set)
	l.Android, l.AndroidRN = devicesim.AndroidApp(set), devicesim.AndroidRNApp(set)
	if l.Fleet, err = devicesim.NewFleet(devicesim.FleetConfig{
		Server: devicesim.RemoteServer(l.Server.URL, trust),
		Pinned: devicesim.PinnedKeys(set),
		APNs:   devicesim.APNs(l.APNs), FCM: devicesim.FCM(l.FCM),
		Bus: bus, Logger: log,
	}); err != nil {
		return nil, err
	}
	return l, nil
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
func resultErr(r devicesim.SendResult) error {
	if r.Status == devicesim.StatusOK {
		return nil
	}
	return fmt.Errorf("%s: proxy said %s %s", r.DeviceName, r.Status, r.Error)
}
