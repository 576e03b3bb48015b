package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pushlab/pushlab/events"
)

// Config is what a proxy runs with: upstream's mattermost-push-proxy.json
// (FileConfig) and pushlab's own settings (Settings). Both are plain values
// and read as one JSON object, so one file can serve both proxies (upstream
// ignores the keys it does not know). What only code can give (a CA pool, a
// bus, a logger…) is Options, New's second argument.
type Config struct {
	FileConfig
	Settings
}

// FileConfig is upstream's mattermost-push-proxy.json, field for field: the
// JSON names are upstream's, so LoadConfig reads an unmodified upstream file
// and UpstreamJSON writes one upstream reads.
type FileConfig struct {
	// ListenAddress is where Serve's caller listens, e.g. ":8066".
	ListenAddress string
	// ThrottlePerSec is the number of requests a client may make per second
	// (a token bucket of that rate and burst). 0 turns throttling off.
	ThrottlePerSec int
	// ThrottleMemoryStoreSize bounds how many clients the throttle remembers;
	// the least recently seen is forgotten first. 0 means 50000.
	ThrottleMemoryStoreSize int
	// ThrottleVaryByHeader names the request headers (space-separated) whose
	// values identify a client, e.g. "X-Forwarded-For" behind a load balancer.
	// A request that carries none of them is keyed by its remote IP.
	ThrottleVaryByHeader string
	// EnableMetrics serves Prometheus metrics at GET /metrics.
	EnableMetrics bool
	// SendTimeoutSec bounds one send_push, all tries and waits included (default 30).
	SendTimeoutSec int
	// RetryTimeoutSec bounds one try (default 8, at most SendTimeoutSec).
	RetryTimeoutSec int

	ApplePushSettings   []ApplePushSettings
	AndroidPushSettings []AndroidPushSettings

	EnableConsoleLog bool
	EnableFileLog    bool
	LogFileLocation  string
	LogFormat        string // "json" or "plain"
	LogLevel         string `json:",omitempty"` // "debug", "info", "warn", "error"
}

// Settings are pushlab's own settings, which upstream's file does not have.
// Each is written to a file only when set.
type Settings struct {
	// APNsHost replaces the APNs host of every Apple app type, e.g.
	// "https://127.0.0.1:8443" for a mock. Empty: Apple's real hosts.
	APNsHost string `json:",omitempty"`
	// APNsDevelopmentHost, if set, replaces the host of the app types with
	// ApplePushUseDevelopment (else APNsHost does), for a mock that tells the
	// environments apart by listener.
	APNsDevelopmentHost string `json:",omitempty"`
	// FCMEndpoint replaces the FCM v1 endpoint, scheme and /v1 included, e.g.
	// "https://127.0.0.1:8444/v1". Empty: https://fcm.googleapis.com/v1. The
	// OAuth token endpoint is the service account file's token_uri.
	FCMEndpoint string `json:",omitempty"`
	// TLSCert and TLSKey are PEM files; with both set the proxy serves HTTPS.
	TLSCert string `json:",omitempty"`
	TLSKey  string `json:",omitempty"`
	// CAFile is a PEM bundle trusted for APNs, FCM and OAuth in addition to
	// the system roots (which SSL_CERT_FILE already replaces).
	CAFile string `json:",omitempty"`
	// MaxTries is the number of tries per send_push (default 3, as upstream).
	// Under ResendPolicy collapse it counts the tries the provider answered;
	// up to 8 more that got no answer may follow, within SendTimeoutSec.
	MaxTries int `json:",omitempty"`
	// RetryBackoffMs is the wait before the second try (default 1000); it
	// doubles for each later try. A longer Retry-After from the provider wins.
	RetryBackoffMs int `json:",omitempty"`
	// ResendPolicy is what happens to a try whose request was sent in full
	// and got no answer: "collapse" (default) resends it with a collapse id
	// that makes the resend harmless, "upstream" resends it blind as
	// mattermost-push-proxy does, "never" answers FAIL (see ResendPolicy).
	ResendPolicy ResendPolicy `json:",omitempty"`
	// MaxRequestBodyBytes bounds a send_push or ack body (default 1 MiB;
	// a Mattermost push is a few KiB). A larger one is answered FAIL
	// ("…: http: request body too large"). -1: no limit, as upstream.
	MaxRequestBodyBytes int `json:",omitempty"`
	// UpstreamErrorText answers an APNs FAIL with upstream's words only
	// ("unknown send response error"), without pushlab's ": <reason>".
	UpstreamErrorText bool `json:",omitempty"`
	// UpstreamRetries retries what upstream retries and nothing more: no
	// answered APNs error (5xx and 429 included), of FCM's answers only
	// INTERNAL and QUOTA_EXCEEDED (UNAVAILABLE is the SDK's). See verdictTable.
	UpstreamRetries bool `json:",omitempty"`
	// UpstreamThrottleKey puts every request without a ThrottleVaryByHeader
	// value in one shared bucket, as upstream does, instead of one per IP.
	UpstreamThrottleKey bool `json:",omitempty"`
	// ShutdownTimeoutSec bounds the drain of in-flight requests when Serve's
	// context ends (default SendTimeoutSec + 5).
	ShutdownTimeoutSec int `json:",omitempty"`
}

// Options wire a proxy into its process: values only code can give, never
// read from or written to a file. The zero Options is a standalone proxy.
type Options struct {
	// RootCAs, if set, is the only pool trusted for APNs, FCM and OAuth
	// (CAFile is then ignored). Tests pass their mock CA here.
	RootCAs *x509.CertPool
	// DialContext, if set, opens every connection to APNs, FCM and the OAuth
	// endpoint: in process, it is DNS for the transparent way (Apple's and
	// Google's real hostnames reaching the mocks).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig, if set, serves HTTPS with it (TLSCert and TLSKey are ignored).
	TLSConfig *tls.Config
	// Bus receives the proxy's hops (received, forwarded, responded, acked),
	// served at GET /events. Nil costs nothing.
	Bus *events.Bus
	// ControlToken, if set, is required by GET /events (Authorization:
	// Bearer); send_push and ack stay open, as upstream's.
	ControlToken string
	// Logger, if set, replaces the logger built from the Log* settings.
	Logger *slog.Logger
	// Registerer receives the proxy's metrics; nil gives each Server a
	// registry of its own, so several proxies live in one process. With a
	// shared registerer, wrap it (prometheus.WrapRegistererWith) per proxy.
	Registerer prometheus.Registerer
	// Gatherer is what /metrics serves; nil means the Registerer when it is
	// one, else prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
	// Version and Commit are reported by GET /version.
	Version string
	Commit  string
}

// runConfig is what a Server runs with: its Config and Options side by side,
// so the senders read a setting and a piece of wiring alike.
type runConfig struct {
	Config
	Options
}

// ApplePushSettings configures one Apple app type ("apple", "apple_rn", …).
// Token auth (AppleAuthKeyFile + AppleAuthKeyID + AppleTeamID) wins over
// certificate auth (ApplePushCertPrivate, a .pem or a .p12), as upstream.
type ApplePushSettings struct {
	Type                    string
	ApplePushUseDevelopment bool
	ApplePushCertPrivate    string
	ApplePushCertPassword   string
	ApplePushTopic          string
	AppleAuthKeyFile        string
	AppleAuthKeyID          string
	AppleTeamID             string
}

// AndroidPushSettings configures one Android app type ("android", "android_rn", …).
type AndroidPushSettings struct {
	Type string
	// AndroidAPIKey is the legacy FCM server key; upstream ignores it now and so
	// does pushlab (a warning is logged when it is set).
	AndroidAPIKey string `json:"AndroidApiKey"`
	// ServiceFileLocation is the Firebase service-account JSON file.
	ServiceFileLocation string
}

// ConfigFile is the name upstream gives its configuration file.
const ConfigFile = "mattermost-push-proxy.json"

// Defaults, as upstream's LoadConfig applies them.
const (
	DefaultSendTimeoutSec  = 30
	DefaultRetryTimeoutSec = 8
	DefaultMemoryStoreSize = 50000
	DefaultMaxTries        = 3 // upstream's MAX_RETRIES
	DefaultRetryBackoffMs  = 1000
	DefaultMaxRequestBody  = 1 << 20
	// drainFactor: past the limit, up to drainFactor times it is read and
	// discarded so that the answer ends the exchange cleanly (an HTTP/2
	// stream whose request is still arriving would otherwise be reset, and
	// clients such as curl drop the answer with it).
	drainFactor             = 16
	connectionTimeout       = 60 * time.Second // upstream's CONNECTION_TIMEOUT_SECONDS
	defaultLogFileName      = "push_proxy.log"
	defaultShutdownSlackSec = 5
)

// DefaultConfig is upstream's sample configuration without its app types,
// listening on 127.0.0.1 only (upstream's sample: every interface): what a
// proxy started without a config file runs with.
func DefaultConfig() Config {
	c := Config{FileConfig: FileConfig{
		ListenAddress: "127.0.0.1:8066", ThrottlePerSec: 300, ThrottleMemoryStoreSize: DefaultMemoryStoreSize,
		ThrottleVaryByHeader: "X-Forwarded-For", SendTimeoutSec: DefaultSendTimeoutSec,
		RetryTimeoutSec: DefaultRetryTimeoutSec, EnableConsoleLog: true, LogFormat: "plain", LogLevel: "info",
	}}
	c.applyDefaults()
	return c
}

// LoadConfig reads a mattermost-push-proxy.json (upstream's format) and
// applies upstream's defaults. Unknown keys are ignored, as upstream does.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("proxy: config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig is LoadConfig for bytes.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("proxy: config: %w", err)
	}
	c.applyDefaults()
	return c, nil
}

// UpstreamJSON is c as a mattermost-push-proxy.json that upstream reads:
// upstream's keys, and pushlab's own only when set.
func (c Config) UpstreamJSON() []byte {
	b, _ := json.MarshalIndent(c, "", "    ") // plain values only: cannot fail
	return append(b, '\n')
}

// applyDefaults is upstream's LoadConfig: zero timeouts take the defaults and
// the per-try timeout never exceeds the total.
func (c *Config) applyDefaults() {
	if c.SendTimeoutSec <= 0 {
		c.SendTimeoutSec = DefaultSendTimeoutSec
	}
	if c.RetryTimeoutSec <= 0 {
		c.RetryTimeoutSec = DefaultRetryTimeoutSec
	}
	if c.RetryTimeoutSec > c.SendTimeoutSec {
		c.RetryTimeoutSec = c.SendTimeoutSec
	}
	if c.ThrottleMemoryStoreSize <= 0 {
		c.ThrottleMemoryStoreSize = DefaultMemoryStoreSize
	}
	if c.MaxTries <= 0 {
		c.MaxTries = DefaultMaxTries
	}
	if c.RetryBackoffMs <= 0 {
		c.RetryBackoffMs = DefaultRetryBackoffMs
	}
	if c.ResendPolicy == "" {
		c.ResendPolicy = ResendCollapse
	}
	if c.ShutdownTimeoutSec <= 0 {
		c.ShutdownTimeoutSec = c.SendTimeoutSec + defaultShutdownSlackSec
	}
	if c.MaxRequestBodyBytes == 0 {
		c.MaxRequestBodyBytes = DefaultMaxRequestBody
	}
}

func (c *Config) sendTimeout() time.Duration  { return time.Duration(c.SendTimeoutSec) * time.Second }
func (c *Config) retryTimeout() time.Duration { return time.Duration(c.RetryTimeoutSec) * time.Second }
func (c *Config) retryBackoff() time.Duration {
	return time.Duration(c.RetryBackoffMs) * time.Millisecond
}

// newLogger builds the logger the Log* settings describe.
func (c *Config) newLogger() (*slog.Logger, io.Closer, error) {
	var ws []io.Writer
	var closer io.Closer
	if c.EnableConsoleLog {
		ws = append(ws, os.Stderr)
	}
	if c.EnableFileLog {
		name := c.LogFileLocation
		if name == "" {
			name = defaultLogFileName
		} else if st, err := os.Stat(name); err == nil && st.IsDir() {
			name = strings.TrimRight(name, "/") + "/" + defaultLogFileName
		}
		f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("proxy: log file: %w", err)
		}
		ws = append(ws, f)
		closer = f
	}
	if len(ws) == 0 {
		return slog.New(slog.DiscardHandler), nil, nil
	}
	var level slog.Level
	if c.LogLevel != "" {
		if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return nil, closer, fmt.Errorf("proxy: LogLevel %q: %w", c.LogLevel, err)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	w := io.MultiWriter(ws...)
	if strings.EqualFold(c.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts)), closer, nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), closer, nil
}
