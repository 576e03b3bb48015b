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

// serverPort is the server simulator's TLS port inside its container.
const serverPort = "8065/tcp"

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
			"--proxy", proxyURL, "--contents", opts.Contents, "--profile", opts.Profile, "--hosts", "server,localhost,127.0.0.1"},
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
