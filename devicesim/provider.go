package devicesim

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// Provider is a device's view of Apple's or Google's push service: get a
// token for an app, keep a push connection, lose the token on uninstall.
// In-process it calls a mock directly (InProcess); across processes it uses
// the mock's control API and one multiplexed push gateway (Remote).
type Provider interface {
	// Register issues a token for app on the named device.
	Register(ctx context.Context, app App, device string) (string, error)
	// Attach puts token online: pushes for it (stored ones first) go to r.
	Attach(token string, r pushtest.Receiver) error
	// Detach takes token offline; the provider stores pushes by its rules.
	Detach(token string) error
	// Uninstall kills token, as deleting the app does.
	Uninstall(ctx context.Context, token string) error
}

// APNsMock is what a device needs of an in-process mockapns.Server.
type APNsMock interface {
	RegisterDevice(bundleID string, env testpki.Environment, device string) (pushtest.Registration, error)
	Uninstall(token string) (pushtest.Registration, bool)
	Attach(token string, r pushtest.Receiver) int
	Detach(token string)
}

// FCMMock is what a device needs of an in-process mockfcm.Server.
type FCMMock interface {
	RegisterDevice(packageName, projectID, device string) (pushtest.Registration, error)
	Uninstall(token string) (pushtest.Registration, bool)
	Attach(token string, r pushtest.Receiver) int
	Detach(token string)
}

// InProcess calls a mock in this process: no sockets, no copies.
type InProcess struct {
	RegisterFunc  func(app App, device string) (pushtest.Registration, error)
	AttachFunc    func(token string, r pushtest.Receiver) int
	DetachFunc    func(token string)
	UninstallFunc func(token string) error
	// SubscribeFunc subscribes a token to an APNs broadcast channel (nil:
	// the provider has none).
	SubscribeFunc func(channel, token string) error
}

// APNs adapts an in-process mockapns.Server.
func APNs(m APNsMock) *InProcess {
	return &InProcess{
		RegisterFunc: func(app App, device string) (pushtest.Registration, error) {
			return m.RegisterDevice(app.BundleID, app.Environment, device)
		},
		AttachFunc: m.Attach, DetachFunc: m.Detach, UninstallFunc: uninstaller(m.Uninstall),
		SubscribeFunc: subscriberOf(m),
	}
}

// subscriberOf finds a mockapns.Server's Subscribe, if m has one.
func subscriberOf(m APNsMock) func(channel, token string) error {
	if s, ok := m.(interface{ Subscribe(id, token string) error }); ok {
		return s.Subscribe
	}
	return nil
}

// FCM adapts an in-process mockfcm.Server.
func FCM(m FCMMock) *InProcess {
	return &InProcess{
		RegisterFunc: func(app App, device string) (pushtest.Registration, error) {
			return m.RegisterDevice(app.Package, app.ProjectID, device)
		},
		AttachFunc: m.Attach, DetachFunc: m.Detach, UninstallFunc: uninstaller(m.Uninstall),
	}
}

func uninstaller(f func(string) (pushtest.Registration, bool)) func(string) error {
	return func(token string) error {
		if _, ok := f(token); !ok {
			return fmt.Errorf("devicesim: the provider never issued token %s", events.RedactToken(token))
		}
		return nil
	}
}

// Register implements Provider.
func (p *InProcess) Register(_ context.Context, app App, device string) (string, error) {
	reg, err := p.RegisterFunc(app, device)
	if err != nil {
		return "", err
	}
	return reg.Token, nil
}

// Attach implements Provider.
func (p *InProcess) Attach(token string, r pushtest.Receiver) error {
	p.AttachFunc(token, r)
	return nil
}

// Detach implements Provider.
func (p *InProcess) Detach(token string) error { p.DetachFunc(token); return nil }

// Uninstall implements Provider.
func (p *InProcess) Uninstall(_ context.Context, token string) error {
	if p.UninstallFunc == nil {
		return errors.New("devicesim: provider cannot uninstall")
	}
	return p.UninstallFunc(token)
}

// Remote reaches a mock in another process: registration through its
// control API, pushes through one gateway websocket for all devices.
type Remote struct {
	control string
	client  *http.Client
	gw      *mockkit.GatewayClient
}

// RemoteOption configures DialRemote.
type RemoteOption func(*remoteOptions)

type remoteOptions struct{ token string }

// WithControlToken sends token to a mock whose control API requires one
// (its --control-token).
func WithControlToken(token string) RemoteOption {
	return func(o *remoteOptions) { o.token = token }
}

// DialRemote connects to a mock's control URL ("https://host:port"); tls
// trusts its certificate (nil for plain http).
func DialRemote(ctx context.Context, controlURL string, tlsConfig *tls.Config, opts ...RemoteOption) (*Remote, error) {
	var o remoteOptions
	for _, f := range opts {
		f(&o)
	}
	controlURL = strings.TrimRight(controlURL, "/")
	u, err := url.Parse(controlURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("devicesim: control URL %q: want http(s)://host:port", controlURL)
	}
	ws := *u
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	ws.Path += "/push"
	gw, err := mockkit.DialGateway(ctx, ws.String(), tlsConfig, access.Header(o.token))
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: access.Transport(o.token, &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true})}
	return &Remote{control: controlURL, client: client, gw: gw}, nil
}

// Register implements Provider: POST /control/devices.
func (p *Remote) Register(ctx context.Context, app App, device string) (string, error) {
	req := map[string]string{"app": app.ID(), "device": device}
	if app.Platform == IOS {
		req["env"] = string(app.Environment)
	} else {
		req["project"] = app.ProjectID
	}
	body, _ := json.Marshal(req)
	var reg pushtest.Registration
	if err := p.do(ctx, http.MethodPost, "/control/devices", body, http.StatusCreated, &reg); err != nil {
		return "", err
	}
	return reg.Token, nil
}

// Attach implements Provider.
func (p *Remote) Attach(token string, r pushtest.Receiver) error { return p.gw.Attach(token, r) }

// Detach implements Provider.
func (p *Remote) Detach(token string) error { return p.gw.Detach(token) }

// Uninstall implements Provider: DELETE /control/devices/{token}.
func (p *Remote) Uninstall(ctx context.Context, token string) error {
	p.gw.Detach(token)
	return p.do(ctx, http.MethodDelete, "/control/devices/"+url.PathEscape(token), nil, http.StatusOK, nil)
}

// Done is closed when the gateway connection ends.
func (p *Remote) Done() <-chan struct{} { return p.gw.Done() }

// Close ends the gateway connection (every device goes offline at the mock;
// pushes on the wire that no device took are stored there).
func (p *Remote) Close() error { return p.gw.Close() }

func (p *Remote) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.control+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("devicesim: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("devicesim: %s %s: HTTP %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
