package pushlabtc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/proxy/proxytest"
	"github.com/pushlab/pushlab/testpki"
)

// Network aliases the mocks carry: Apple's and Google's real host names, so
// that an unmodified proxy reaches them by DNS alone.
var (
	APNsAliases = []string{"api.push.apple.com", "api.sandbox.push.apple.com", "api.development.push.apple.com"}
	FCMAliases  = []string{"fcm.googleapis.com", "oauth2.googleapis.com", "iid.googleapis.com"}
)

// Paths inside the proxy container.
const (
	// DefaultProxyConfigPath is where upstream's image reads its config.
	DefaultProxyConfigPath = "/mattermost-push-proxy/config/mattermost-push-proxy.json"
	// KeysDir holds the key files the config names.
	KeysDir = "/etc/pushlab/keys"
	// CAPath is pushlab's CA, which SSL_CERT_FILE names.
	CAPath = "/etc/pushlab/ca.pem"
	// DefaultProxyPort is upstream's listen port.
	DefaultProxyPort = "8066/tcp"
)

// Ports of the pushlab mocks inside their containers: Apple's and Google's
// own (443), and the control APIs.
const (
	providerPort    = "443/tcp"
	apnsControlPort = "8197/tcp"
	fcmControlPort  = "4444/tcp"
)

// Options configure Run. Only Image is required.
type Options struct {
	// Image is a pushlab image (the repository's Dockerfile: BuildImage or
	// `make image`); the mocks run from it.
	Image string
	// ProxyImage is the proxy under test; "" runs pushlab's own proxy from
	// Image with only the config file and SSL_CERT_FILE.
	ProxyImage string
	// ProxyCmd replaces the proxy image's command ("" keeps the image's own;
	// for pushlab's proxy: proxy --config ProxyConfigPath).
	ProxyCmd []string
	// ProxyConfigPath is where the upstream-format config is mounted
	// (default: upstream image's DefaultProxyConfigPath).
	ProxyConfigPath string
	// ProxyConfig, if set, replaces the generated config file's contents
	// (it should name files under KeysDir).
	ProxyConfig []byte
	// ConfigOverrides are top-level keys of the generated config replaced
	// before it is written, e.g. {"SendTimeoutSec": 6}.
	ConfigOverrides map[string]any
	// EditConfig, if set, changes the generated config (decoded JSON)
	// after ConfigOverrides, e.g. an app type's ApplePushTopic.
	EditConfig func(config map[string]any)
	// ProxyEnv is extra environment for the proxy container.
	ProxyEnv map[string]string
	// ProxyPort is the port the proxy listens on (default 8066/tcp).
	ProxyPort string
	// ProxyHealthPath is requested over HTTP until the proxy answers, with
	// any status, before Run returns (default /version): a proxy is up once
	// it speaks HTTP on its port, whatever routes it has.
	ProxyHealthPath string
	// NoProxy starts only the mocks (for a proxy running elsewhere).
	NoProxy bool
	// StartupTimeout bounds each container's wait (default 2 minutes).
	StartupTimeout time.Duration
}

// Lab is a running container topology. Its fields are what a test needs to
// drive the mocks and the proxy from the host.
type Lab struct {
	// APNsControlURL and FCMControlURL are the mocks' control APIs
	// (devices, faults, /events, the /push gateway), on this host.
	APNsControlURL, FCMControlURL string
	// APNsURL and FCMURL are the mocks' provider endpoints on this host
	// (TLS for Apple's and Google's names; trust CA).
	APNsURL, FCMURL string
	// ProxyURL is the proxy under test on this host. It stays the same
	// across RestartProxy.
	ProxyURL string
	// KeysDir is this run's `pushlab keys init` set on the host; the proxy
	// sees it at the container path KeysDir.
	KeysDir string
	// CA is pushlab's CA in PEM; CAPool trusts it.
	CA     []byte
	CAPool *x509.CertPool
	// Config is the upstream-format config the proxy got.
	Config []byte
	// Network is the private network's name.
	Network string
	// Apps are the identities the proxy config is made for.
	Apps Apps
	// ControlToken is the access token the mocks' control APIs, /push and
	// /events require (they listen beyond their container's loopback):
	// Authorization: Bearer <token>, or ?access_token=<token>.
	ControlToken string

	opts    Options
	client  *http.Client // carries ControlToken
	nw      *testcontainers.DockerNetwork
	mu      sync.Mutex
	ctrs    map[string]testcontainers.Container
	fwd     *forwarder
	tempDir string
}

// Run starts the mocks, then the proxy under test, on a fresh private
// network with a fresh key set. Terminate it, even when Run fails: what was
// started is then already removed.
func Run(ctx context.Context, opts Options) (_ *Lab, err error) {
	if opts.Image == "" {
		return nil, errors.New("pushlabtc: Options.Image is required (BuildImage or `make image`)")
	}
	if opts.ProxyConfigPath == "" {
		opts.ProxyConfigPath = DefaultProxyConfigPath
	}
	if opts.ProxyPort == "" {
		opts.ProxyPort = DefaultProxyPort
	}
	if !strings.Contains(opts.ProxyPort, "/") {
		opts.ProxyPort += "/tcp"
	}
	if opts.ProxyHealthPath == "" {
		opts.ProxyHealthPath = "/version"
	}
	if opts.StartupTimeout == 0 {
		opts.StartupTimeout = 2 * time.Minute
	}
	if opts.ProxyImage == "" {
		opts.ProxyImage = opts.Image
		if opts.ProxyCmd == nil {
			opts.ProxyCmd = []string{"proxy", "--config", opts.ProxyConfigPath}
		}
	}
	l := &Lab{opts: opts, ctrs: map[string]testcontainers.Container{}, ControlToken: rand.Text()}
	l.client = &http.Client{Timeout: time.Minute, Transport: access.Transport(l.ControlToken, nil)}
	defer func() {
		if err != nil {
			l.Terminate(context.WithoutCancel(ctx))
		}
	}()
	if err = l.writeKeys(); err != nil {
		return nil, err
	}
	if l.nw, err = network.New(ctx); err != nil {
		return nil, fmt.Errorf("pushlabtc: network: %w", err)
	}
	l.Network = l.nw.Name
	type mock struct {
		name, control string
		aliases       []string
		cmd           []string
	}
	mocks := []mock{
		{"mockapns", apnsControlPort, APNsAliases, []string{"mockapns", "--keys", KeysDir, "--listen", ":443", "--control-listen", ":8197"}},
		{"mockfcm", fcmControlPort, FCMAliases, []string{"mockfcm", "--keys", KeysDir, "--listen", ":443", "--control-listen", ":4444", "--device-rate", "-1"}},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(mocks))
	for i, m := range mocks {
		wg.Add(1)
		keys, err := l.files(KeysDir) // a reader each: a copy consumes it
		if err != nil {
			return nil, err
		}
		go func() {
			defer wg.Done()
			errs[i] = l.start(ctx, m.name, testcontainers.ContainerRequest{
				Image: opts.Image, Cmd: m.cmd, ExposedPorts: []string{providerPort, m.control}, Files: keys,
				Env:      map[string]string{access.EnvToken: l.ControlToken},
				Networks: []string{l.Network}, NetworkAliases: map[string][]string{l.Network: m.aliases},
				// FROM scratch has no shell: wait on HTTP, never on exec.
				WaitingFor: wait.ForHTTP("/healthz").WithPort(m.control).WithStartupTimeout(opts.StartupTimeout),
			})
		}()
	}
	wg.Wait()
	if err = errors.Join(errs...); err != nil {
		return nil, err
	}
	if l.APNsControlURL, err = l.endpoint(ctx, "mockapns", apnsControlPort, "http"); err != nil {
		return nil, err
	}
	if l.FCMControlURL, err = l.endpoint(ctx, "mockfcm", fcmControlPort, "http"); err != nil {
		return nil, err
	}
	if l.APNsURL, err = l.endpoint(ctx, "mockapns", providerPort, "https"); err != nil {
		return nil, err
	}
	if l.FCMURL, err = l.endpoint(ctx, "mockfcm", providerPort, "https"); err != nil {
		return nil, err
	}
	if opts.NoProxy {
		return l, nil
	}
	if err = l.startProxy(ctx); err != nil {
		return nil, err
	}
	if l.fwd, err = newForwarder(); err != nil {
		return nil, err
	}
	if err = l.retarget(ctx); err != nil {
		return nil, err
	}
	l.ProxyURL = "http://" + l.fwd.addr()
	return l, nil
}

// writeKeys runs `pushlab keys init` for this run: a fresh set whose
// service account names Google's own token endpoint, and upstream's config
// naming the files where the proxy container sees them.
func (l *Lab) writeKeys() error {
	set, err := testpki.NewSet(testpki.Options{TokenURI: testpki.GoogleTokenURI})
	if err != nil {
		return err
	}
	if l.tempDir, err = os.MkdirTemp("", "pushlabtc-keys-"); err != nil {
		return err
	}
	l.KeysDir = l.tempDir
	if err := set.Write(l.KeysDir, true); err != nil {
		return err
	}
	cfg := proxytest.KeySetConfig(set, KeysDir, ":"+strings.TrimSuffix(l.opts.ProxyPort, "/tcp"))
	if l.Config, err = edit(cfg.UpstreamJSON(), l.opts.ConfigOverrides, l.opts.EditConfig); err != nil {
		return err
	}
	if l.opts.ProxyConfig != nil {
		l.Config = l.opts.ProxyConfig
	}
	if err := os.WriteFile(filepath.Join(l.KeysDir, proxy.ConfigFile), l.Config, 0o644); err != nil {
		return err
	}
	l.Apps = Apps{BundleID: set.BundleID, CertBundleID: set.CertBundleID, Package: set.Package, RNPackage: set.RNPackage, ProjectID: set.ProjectID}
	l.CA = set.CA.CertPEM()
	l.CAPool = set.CA.Pool()
	return nil
}

// files hands the key set to a container under dir, readable by any user
// (throwaway test credentials; the images run unprivileged).
func (l *Lab) files(dir string) ([]testcontainers.ContainerFile, error) {
	entries, err := os.ReadDir(l.KeysDir)
	if err != nil {
		return nil, err
	}
	var out []testcontainers.ContainerFile
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(l.KeysDir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, testcontainers.ContainerFile{Reader: bytes.NewReader(data), ContainerFilePath: dir + "/" + e.Name(), FileMode: 0o444})
	}
	return out, nil
}

func (l *Lab) startProxy(ctx context.Context) error {
	files, err := l.files(KeysDir)
	if err != nil {
		return err
	}
	files = append(files,
		testcontainers.ContainerFile{Reader: bytes.NewReader(l.CA), ContainerFilePath: CAPath, FileMode: 0o444},
		testcontainers.ContainerFile{Reader: bytes.NewReader(l.Config), ContainerFilePath: l.opts.ProxyConfigPath, FileMode: 0o444})
	env := map[string]string{"SSL_CERT_FILE": CAPath}
	for k, v := range l.opts.ProxyEnv {
		env[k] = v
	}
	return l.start(ctx, "proxy", testcontainers.ContainerRequest{
		Image: l.opts.ProxyImage, Cmd: l.opts.ProxyCmd, Env: env, ExposedPorts: []string{l.opts.ProxyPort}, Files: files,
		Networks: []string{l.Network}, NetworkAliases: map[string][]string{l.Network: {"push-proxy"}},
		WaitingFor: wait.ForHTTP(l.opts.ProxyHealthPath).WithPort(l.opts.ProxyPort).WithStartupTimeout(l.opts.StartupTimeout).
			WithStatusCodeMatcher(func(int) bool { return true }),
	})
}

func (l *Lab) start(ctx context.Context, name string, req testcontainers.ContainerRequest) error {
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if c != nil {
		l.mu.Lock()
		l.ctrs[name] = c
		l.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("pushlabtc: start %s (%s): %w%s", name, req.Image, err, tail(ctx, c))
	}
	return nil
}

// tail is the end of a container's log, for a start-up error.
func tail(ctx context.Context, c testcontainers.Container) string {
	if c == nil {
		return ""
	}
	rc, err := c.Logs(context.WithoutCancel(ctx))
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n--- its log ---\n" + string(b)
}

func (l *Lab) container(name string) testcontainers.Container {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ctrs[name]
}

func (l *Lab) endpoint(ctx context.Context, name, port, scheme string) (string, error) {
	c := l.container(name)
	if c == nil {
		return "", fmt.Errorf("pushlabtc: no %s container", name)
	}
	ep, err := c.PortEndpoint(ctx, port, scheme)
	if err != nil {
		return "", fmt.Errorf("pushlabtc: %s port %s: %w", name, port, err)
	}
	return ep, nil
}

func (l *Lab) retarget(ctx context.Context) error {
	ep, err := l.endpoint(ctx, "proxy", l.opts.ProxyPort, "")
	if err != nil {
		return err
	}
	l.fwd.setTarget(ep)
	return nil
}

// ProxyCommand is the command the proxy container was started with.
func (l *Lab) ProxyCommand() []string { return append([]string(nil), l.opts.ProxyCmd...) }

// ProxyEnvironment is the proxy container's environment, as K=V.
func (l *Lab) ProxyEnvironment() []string {
	out := []string{"SSL_CERT_FILE=" + CAPath}
	for k, v := range l.opts.ProxyEnv {
		out = append(out, k+"="+v)
	}
	sort.Strings(out[1:])
	return out
}

// RestartProxy stops the proxy container (SIGTERM, then a 10 s grace) and
// starts it again, waiting until it serves. ProxyURL keeps working.
func (l *Lab) RestartProxy(ctx context.Context) error {
	c := l.container("proxy")
	if c == nil {
		return errors.New("pushlabtc: no proxy container")
	}
	grace := 10 * time.Second
	if err := c.Stop(ctx, &grace); err != nil {
		return fmt.Errorf("pushlabtc: stop the proxy: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("pushlabtc: start the proxy again: %w%s", err, tail(ctx, c))
	}
	return l.retarget(ctx)
}

// Logs returns each container's log by name (mockapns, mockfcm, proxy).
func (l *Lab) Logs(ctx context.Context) map[string]string {
	l.mu.Lock()
	names := make([]string, 0, len(l.ctrs))
	for n := range l.ctrs {
		names = append(names, n)
	}
	l.mu.Unlock()
	sort.Strings(names)
	out := map[string]string{}
	for _, n := range names {
		rc, err := l.container(n).Logs(ctx)
		if err != nil {
			out[n] = "(no log: " + err.Error() + ")"
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		out[n] = string(b)
	}
	return out
}

// Terminate removes the containers, the network and the key files. It is
// safe to call more than once, and on a Lab that Run returned with an error.
func (l *Lab) Terminate(ctx context.Context) error {
	if l == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	if l.fwd != nil {
		l.fwd.close()
	}
	l.mu.Lock()
	ctrs := l.ctrs
	l.ctrs = map[string]testcontainers.Container{}
	l.mu.Unlock()
	for _, c := range ctrs {
		errs = append(errs, c.Terminate(ctx))
	}
	if l.nw != nil {
		errs = append(errs, l.nw.Remove(ctx))
		l.nw = nil
	}
	if l.tempDir != "" {
		errs = append(errs, os.RemoveAll(l.tempDir))
		l.tempDir = ""
	}
	return errors.Join(errs...)
}

// edit replaces top-level keys of a JSON object, then lets f change it.
func edit(doc []byte, with map[string]any, f func(map[string]any)) ([]byte, error) {
	if len(with) == 0 && f == nil {
		return doc, nil
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	for k, v := range with {
		m[k] = v
	}
	if f != nil {
		f(m)
	}
	out, err := json.MarshalIndent(m, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("pushlabtc: ConfigOverrides: %w", err)
	}
	return append(out, '\n'), nil
}
