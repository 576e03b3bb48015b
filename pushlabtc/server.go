package pushlabtc

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/pushlab/pushlab/internal/access"
)

// Ports inside the server simulator's and the devices' containers.
const (
	serverPort  = "8065/tcp"
	devicesPort = "8070/tcp"
)

// ServerOptions choose how a server simulator started by StartServer
// builds its pushes (the flags of `pushlab server`).
type ServerOptions struct {
	// Contents: generic (""), generic_no_channel, full, id_loaded.
	Contents string
	// Profile: hpns (""), eas, tpns, mattermost.
	Profile string
}

// Server is a server simulator (`pushlab server`) running in its container
// on the lab's network, posting to the proxy under test by its network
// alias. Devices reach it at URL (TLS from the lab's CA, valid for
// localhost and 127.0.0.1); its control API and /events need
// Lab.ControlToken.
type Server struct {
	// Name is the container's name in Logs.
	Name string
	// URL is its HTTPS base URL on this host.
	URL string
}

// StartServer starts a server simulator in a container of its own on the
// lab's network, posting to the proxy container (Run without NoProxy). It is
// removed with the lab.
func (l *Lab) StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	if l.container("proxy") == nil {
		return nil, fmt.Errorf("pushlabtc: StartServer needs the proxy container (Options.NoProxy is set)")
	}
	if opts.Contents == "" {
		opts.Contents = "generic"
	}
	if opts.Profile == "" {
		opts.Profile = "hpns"
	}
	name := "server-" + opts.Contents + "-" + opts.Profile
	keys, err := l.files(KeysDir)
	if err != nil {
		return nil, err
	}
	proxyURL := "http://push-proxy:" + strings.TrimSuffix(l.opts.ProxyPort, "/tcp")
	err = l.start(ctx, name, testcontainers.ContainerRequest{
		Image: l.opts.Image, ExposedPorts: []string{serverPort}, Files: keys,
		Cmd: []string{"server", "--keys", KeysDir, "--listen", ":" + strings.TrimSuffix(serverPort, "/tcp"),
			"--proxy", proxyURL, "--contents", opts.Contents, "--profile", opts.Profile, "--hosts", name + ",localhost,127.0.0.1"},
		Env:      map[string]string{access.EnvToken: l.ControlToken},
		Networks: []string{l.Network}, NetworkAliases: map[string][]string{l.Network: {name}},
		WaitingFor: wait.ForHTTP("/healthz").WithPort(serverPort).WithTLS(true, &tls.Config{RootCAs: l.CAPool, ServerName: "localhost"}).
			WithStartupTimeout(l.opts.StartupTimeout),
	})
	if err != nil {
		return nil, err
	}
	host, err := l.endpoint(ctx, name, serverPort, "")
	if err != nil {
		return nil, err
	}
	return &Server{Name: name, URL: "https://" + host}, nil
}

// ServerClient trusts the lab's CA: devices reach a StartServer simulator
// with it. With control set it also carries ControlToken, for the control
// API (never for devices: their acks carry their own session token).
func (l *Lab) ServerClient(control bool) *http.Client {
	var rt http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: l.CAPool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	if control {
		rt = access.Transport(l.ControlToken, rt)
	}
	return &http.Client{Timeout: 2 * time.Minute, Transport: rt}
}

// Devices is a `pushlab devices` process in its container: phones on the
// mocks' push gateways (one websocket per mock), attached to one server
// simulator. It starts with no phone; add them over its control API at URL
// (POST /devices), which needs Lab.ControlToken.
type Devices struct {
	// Name is the container's name in Logs.
	Name string
	// URL is its control API's base URL on this host.
	URL string
}

// StartDevices starts a devices process in a container of its own on the
// lab's network, its phones attached to server. It is removed with the lab.
func (l *Lab) StartDevices(ctx context.Context, server *Server) (*Devices, error) {
	name := "devices-" + strings.TrimPrefix(server.Name, "server-")
	keys, err := l.files(KeysDir)
	if err != nil {
		return nil, err
	}
	port := func(p string) string { return strings.TrimSuffix(p, "/tcp") }
	err = l.start(ctx, name, testcontainers.ContainerRequest{
		Image: l.opts.Image, ExposedPorts: []string{devicesPort}, Files: keys,
		Cmd: []string{"devices", "--keys", KeysDir, "--listen", ":" + port(devicesPort),
			"--server", "https://" + server.Name + ":" + port(serverPort),
			"--apns-control", "http://" + APNsAliases[0] + ":" + port(apnsControlPort),
			"--fcm-control", "http://" + FCMAliases[0] + ":" + port(fcmControlPort),
			"--ios", "0", "--ios-cert", "0", "--android", "0", "--android-rn", "0", "--gateways", "apns,fcm"},
		Env:      map[string]string{access.EnvToken: l.ControlToken},
		Networks: []string{l.Network}, NetworkAliases: map[string][]string{l.Network: {name}},
		WaitingFor: wait.ForHTTP("/healthz").WithPort(devicesPort).WithStartupTimeout(l.opts.StartupTimeout),
	})
	if err != nil {
		return nil, err
	}
	u, err := l.endpoint(ctx, name, devicesPort, "http")
	if err != nil {
		return nil, err
	}
	return &Devices{Name: name, URL: u}, nil
}
