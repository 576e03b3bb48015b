package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/pushlabtc"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// ContainerOptions configure the container topology.
type ContainerOptions struct {
	pushlabtc.Options
	// ProxyURL, if set, is a proxy already running where the mocks can be
	// reached from: no proxy container is started, the server simulators
	// post here.
	ProxyURL string
	Logger   *slog.Logger
}

// HarnessConfigOverrides are the settings the harness writes into the
// upstream-format config of a proxy it starts: the timeouts of
// HarnessProxyConfig, and a throttle no single server simulator reaches
// (upstream cannot turn its throttle off: 0 would divide by zero).
func HarnessConfigOverrides() map[string]any {
	return map[string]any{
		"SendTimeoutSec":  int(ProxySendTimeout / time.Second),
		"RetryTimeoutSec": int(ProxyTryTimeout / time.Second),
		"ThrottlePerSec":  100000,
	}
}

type containers struct {
	lab      *pushlabtc.Lab
	set      *testpki.Set
	bus      *events.Bus
	proxyURL string
	client   *http.Client
	apns     *devicesim.Remote
	fcm      *devicesim.Remote
	log      *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// The server simulators in containers, one per contents and profile
	// that scenarios ask for, started on first use (pairs of different
	// options start at the same time) and shared.
	serversMu sync.Mutex
	servers   map[pushlabtc.ServerOptions]*startingActor
}

type startingActor struct {
	done  chan struct{} // closed once actor or err is set
	actor remoteActor
	err   error
}

type remoteActor struct {
	url     string
	driver  ServerDriver
	devices *remoteFleet // its phones' container
}

// StartContainers brings up the container topology: the mocks under Apple's
// and Google's names and the proxy under test, each in its container on a
// private network with a fresh key set. The server simulators and their
// phones join them in containers as scenarios ask for them (NewEnv); with
// opts.ProxyURL they run in this process, as the proxy may not be reachable
// from the network.
func StartContainers(ctx context.Context, opts ContainerOptions) (_ Deployment, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.ProxyURL != "" {
		opts.NoProxy = true
	}
	if opts.ConfigOverrides == nil && opts.ProxyConfig == nil {
		opts.ConfigOverrides = HarnessConfigOverrides()
	}
	lab, err := pushlabtc.Run(ctx, opts.Options)
	if err != nil {
		lab.Terminate(ctx)
		return nil, err
	}
	d := &containers{lab: lab, bus: events.NewBus(events.WithHistory(HarnessHistory)), proxyURL: lab.ProxyURL, log: log,
		client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
	if opts.ProxyURL != "" {
		d.proxyURL = strings.TrimRight(opts.ProxyURL, "/")
	}
	d.ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.set, err = testpki.Load(lab.KeysDir); err != nil {
		return nil, err
	}
	// The spine: every actor's /events merged into one bus. The mocks'
	// streams must hold; the proxy's is a bonus (a third-party proxy has none).
	for _, u := range []string{lab.APNsControlURL, lab.FCMControlURL} {
		s, err := events.Dial(ctx, wsURL(u)+"/events?access_token="+url.QueryEscape(lab.ControlToken), nil)
		if err != nil {
			return nil, err
		}
		d.follow(s, "")
	}
	if opts.ProxyURL == "" {
		d.followProxy()
	}
	token := devicesim.WithControlToken(lab.ControlToken)
	if d.apns, err = devicesim.DialRemote(ctx, lab.APNsControlURL, nil, token); err != nil {
		return nil, err
	}
	if d.fcm, err = devicesim.DialRemote(ctx, lab.FCMControlURL, nil, token); err != nil {
		return nil, err
	}
	return d, nil
}

func wsURL(u string) string {
	return "ws" + strings.TrimPrefix(strings.TrimPrefix(u, "http"), "s")
}

// follow republishes a remote actor's events on the harness bus until the
// stream ends; redial, if set, reconnects (the proxy after a restart).
func (d *containers) follow(s *events.Stream, redial string) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			e, _, err := s.Next()
			if err != nil {
				s.Close()
				if redial == "" || d.ctx.Err() != nil {
					return
				}
				for d.ctx.Err() == nil {
					time.Sleep(200 * time.Millisecond)
					if s, err = events.Dial(d.ctx, redial, nil); err == nil {
						break
					}
				}
				if d.ctx.Err() != nil {
					return
				}
				continue
			}
			d.bus.Publish(e)
		}
	}()
	go func() {
		<-d.ctx.Done()
		s.Close()
	}()
}

func (d *containers) followProxy() {
	u := wsURL(d.proxyURL) + "/events"
	if s, err := events.Dial(d.ctx, u, nil); err == nil {
		d.follow(s, u)
	} else {
		d.log.Info("the proxy under test reports no events; the timeline comes from the server, the mocks and the devices", "err", err)
	}
}

// Endpoints lists the mocks' addresses on this host, for a proxy running
// elsewhere (--proxy-url) that must be pointed at them.
func (d *containers) Endpoints() [][2]string {
	l := d.lab
	return [][2]string{{"mock APNs (api.push.apple.com, api.sandbox.push.apple.com)", l.APNsURL},
		{"mock FCM (fcm.googleapis.com, oauth2.googleapis.com)", l.FCMURL},
		{"mock APNs control", l.APNsControlURL}, {"mock FCM control", l.FCMControlURL},
		{"key set (CA, credentials, mattermost-push-proxy.json)", l.KeysDir}}
}

func (d *containers) Topology() Topology { return Containers }
func (d *containers) Bus() *events.Bus   { return d.bus }

func (d *containers) Logs(ctx context.Context) map[string]string { return d.lab.Logs(ctx) }

func (d *containers) RestartProxy(ctx context.Context) error { return d.lab.RestartProxy(ctx) }

func (d *containers) Close() error {
	if d.cancel != nil {
		d.cancel()
	}
	if d.apns != nil {
		d.apns.Close()
	}
	if d.fcm != nil {
		d.fcm.Close()
	}
	err := d.lab.Terminate(context.Background())
	d.wg.Wait()
	return err
}

// server returns the server simulator container for opts, starting it (and
// following its /events onto the bus) on first use.
func (d *containers) server(ctx context.Context, opts pushlabtc.ServerOptions) (remoteActor, error) {
	d.serversMu.Lock()
	s, ok := d.servers[opts]
	if !ok {
		if d.servers == nil {
			d.servers = map[pushlabtc.ServerOptions]*startingActor{}
		}
		s = &startingActor{done: make(chan struct{})}
		d.servers[opts] = s
	}
	d.serversMu.Unlock()
	if !ok {
		s.actor, s.err = d.startServer(ctx, opts)
		close(s.done)
	}
	select {
	case <-s.done:
		return s.actor, s.err
	case <-ctx.Done():
		return remoteActor{}, ctx.Err()
	}
}

func (d *containers) startServer(ctx context.Context, opts pushlabtc.ServerOptions) (remoteActor, error) {
	s, err := d.lab.StartServer(ctx, opts)
	if err != nil {
		return remoteActor{}, err
	}
	st, err := events.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https")+"/events?access_token="+url.QueryEscape(d.lab.ControlToken), &tls.Config{RootCAs: d.lab.CAPool})
	if err != nil {
		return remoteActor{}, fmt.Errorf("server simulator %s: events: %w", s.Name, err)
	}
	d.follow(st, "")
	drv, err := RemoteServerDriver(ctx, s.URL, d.lab.ServerClient(true))
	if err != nil {
		return remoteActor{}, err
	}
	devs, err := d.lab.StartDevices(ctx, s)
	if err != nil {
		return remoteActor{}, err
	}
	if st, err = events.Dial(ctx, wsURL(devs.URL)+"/events?access_token="+url.QueryEscape(d.lab.ControlToken), nil); err != nil {
		return remoteActor{}, fmt.Errorf("devices %s: events: %w", devs.Name, err)
	}
	d.follow(st, "")
	control := &http.Client{Timeout: 2 * time.Minute, Transport: access.Transport(d.lab.ControlToken, nil)}
	return remoteActor{url: s.URL, driver: drv, devices: &remoteFleet{url: devs.URL, client: control,
		apnsControl: d.lab.APNsControlURL, fcmControl: d.lab.FCMControlURL}}, nil
}

func (d *containers) NewEnv(ctx context.Context, opts EnvOptions) (*Env, error) {
	var (
		driver ServerDriver
		link   devicesim.ServerLink
		remote *remoteFleet
	)
	if d.lab.ProxyURL == "" {
		// A proxy running elsewhere (--proxy-url) may not be reachable from
		// the lab's network: the server simulator stays in this process.
		srv, err := serversim.New(serversim.Config{ProxyURL: d.proxyURL, ProxyClient: d.client,
			SigningKey: d.set.Signing, SigningKeyID: d.set.SigningKeyID, Contents: opts.Contents, Profile: opts.Profile, Bus: d.bus})
		if err != nil {
			return nil, err
		}
		driver, link = LocalServerDriver(srv), srv.Link()
	} else {
		s, err := d.server(ctx, pushlabtc.ServerOptions{Contents: string(opts.Contents), Profile: string(opts.Profile)})
		if err != nil {
			return nil, err
		}
		driver, link = s.driver, devicesim.RemoteServer(s.url, d.lab.ServerClient(false))
		if !opts.LocalDevices {
			remote = s.devices
		}
	}
	env := &Env{Topology: Containers, Set: d.set, Bus: d.bus, Server: driver, ProxyClient: d.client,
		IOSToken: devicesim.IOSTokenApp(d.set), IOSCert: devicesim.IOSCertApp(d.set),
		Android: devicesim.AndroidApp(d.set), AndroidRN: devicesim.AndroidRNApp(d.set),
		APNsControl: d.lab.APNsControlURL, FCMControl: d.lab.FCMControlURL, ProxyURL: d.proxyURL,
		ControlClient: &http.Client{Timeout: 30 * time.Second, Transport: access.Transport(d.lab.ControlToken, nil)},
		Settle:        400 * time.Millisecond, deployment: d, prefix: opts.Prefix, remote: remote}
	if remote != nil {
		return env, nil
	}
	fleet, err := devicesim.NewFleet(devicesim.FleetConfig{Server: link, Pinned: devicesim.PinnedKeys(d.set),
		APNs: d.apns, FCM: d.fcm, Bus: d.bus})
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	env.Fleet, env.closers = fleet, []func(){fleet.Close}
	return env, nil
}
