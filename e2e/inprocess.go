package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/serversim"
)

// InProcessOptions configure the in-process deployment.
type InProcessOptions struct {
	// ProxyURL, if set, is the proxy under test that the server simulators
	// post to instead of the lab's own (e.g. something in front of it).
	ProxyURL string
	// ProxyClient reaches ProxyURL (nil: one trusting the lab's CA).
	ProxyClient *http.Client
	// ProxyConfig edits the lab proxy's configuration.
	ProxyConfig func(*proxy.Config)
	Logger      *slog.Logger
}

// HarnessProxyConfig is what the harness sets in every proxy it starts:
// short timeouts, so that a provider slower than the proxy is a FAIL within
// seconds, and no throttle for the one server simulator.
func HarnessProxyConfig(c *proxy.Config) {
	c.SendTimeoutSec = int(ProxySendTimeout / time.Second)
	c.RetryTimeoutSec = int(ProxyTryTimeout / time.Second)
	c.ThrottlePerSec = 0
}

type inProcess struct {
	lab         *Lab
	proxyURL    string
	proxyClient *http.Client
}

// StartInProcess brings up the in-process topology: one Lab (mocks, proxy)
// shared by the scenarios, each with its own server simulator and devices.
func StartInProcess(ctx context.Context, opts InProcessOptions) (Deployment, error) {
	edit := func(c *proxy.Config) {
		HarnessProxyConfig(c)
		if opts.ProxyConfig != nil {
			opts.ProxyConfig(c)
		}
	}
	l, err := Start(ctx, Options{Bus: events.NewBus(events.WithHistory(HarnessHistory)), FCMDeviceRate: -1,
		Logger: opts.Logger, Proxy: edit})
	if err != nil {
		return nil, err
	}
	d := &inProcess{lab: l, proxyURL: l.ProxyURL, proxyClient: l.Server.ProxyClient()}
	if opts.ProxyURL != "" {
		d.proxyURL = opts.ProxyURL
	}
	if opts.ProxyClient != nil {
		d.proxyClient = opts.ProxyClient
	}
	return d, nil
}

// HarnessHistory is how many events the harness keeps: every scenario's,
// the thousand-device one included, until its checks are done.
const HarnessHistory = 1 << 18

// Endpoints lists the in-process actors' addresses and the key set.
func (d *inProcess) Endpoints() [][2]string {
	return append(d.lab.URLs(), [2]string{"key set (CA, credentials)", d.lab.KeyDir})
}

func (d *inProcess) Topology() Topology                     { return InProcess }
func (d *inProcess) Bus() *events.Bus                       { return d.lab.Bus }
func (d *inProcess) Logs(context.Context) map[string]string { return nil }
func (d *inProcess) Close() error                           { d.lab.Close(); return nil }

func (d *inProcess) RestartProxy(context.Context) error {
	return errors.New("the in-process topology does not restart its proxy")
}

func (d *inProcess) NewEnv(_ context.Context, opts EnvOptions) (*Env, error) {
	l := d.lab
	srv, err := serversim.New(serversim.Config{ProxyURL: d.proxyURL, ProxyClient: d.proxyClient,
		SigningKey: l.Set.Signing, SigningKeyID: l.Set.SigningKeyID, Contents: opts.Contents, Profile: opts.Profile, Bus: l.Bus})
	if err != nil {
		return nil, err
	}
	fleet, err := devicesim.NewFleet(devicesim.FleetConfig{Server: srv.Link(), Pinned: devicesim.PinnedKeys(l.Set),
		APNs: devicesim.APNs(l.APNs), FCM: devicesim.FCM(l.FCM), Bus: l.Bus})
	if err != nil {
		return nil, err
	}
	return &Env{Topology: InProcess, Set: l.Set, Bus: l.Bus, Server: LocalServerDriver(srv), Fleet: fleet, ProxyClient: d.proxyClient,
		IOSToken: l.IOSToken, IOSCert: l.IOSCert, Android: l.Android, AndroidRN: l.AndroidRN,
		APNsControl: l.APNs.ControlURL, FCMControl: l.FCM.ControlURL, ProxyURL: d.proxyURL,
		Settle: 100 * time.Millisecond, deployment: d, prefix: opts.Prefix, closers: []func(){fleet.Close}}, nil
}
