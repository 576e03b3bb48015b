package main

import (
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/proxy"
)

func newProxyCmd(g *globals) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run the push proxy, a drop-in for mattermost-push-proxy (APNs via apns2, FCM via firebase v4)",
		Long: `proxy serves the Mattermost push-proxy API (POST /api/v1/send_push and /api/v1/ack,
GET /version, /metrics, /healthz) and forwards to APNs and FCM, or to pushlab's mocks.

Settings come from, lowest first: upstream's config file (--config, unchanged
mattermost-push-proxy.json; without one, upstream's sample defaults and no app
types), PUSHLAB_* environment variables, then flags. Every setting has both,
named from its config key: ThrottlePerSec is PUSHLAB_THROTTLE_PER_SEC and
--throttle-per-sec; APNsHost is PUSHLAB_APNS_HOST and --apns-host. The app-type
lists take a JSON array (PUSHLAB_APPLE_PUSH_SETTINGS='[{"Type":"apple",…}]').

It serves HTTPS with --tls-cert/--tls-key, HTTP otherwise. To reach the mocks,
either point --apns-host/--fcm-endpoint (and the service account's token_uri)
at them and trust their CA (--ca-file), or the transparent way: resolve Apple's
and Google's hostnames to the mocks and set SSL_CERT_FILE to pushlab's CA.
SIGTERM or SIGINT stops accepting and finishes the sends in flight.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := proxyConfig(configPath, cmd.Flags())
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("log-level") { // the root's flag, the same variable PUSHLAB_LOG_LEVEL
				cfg.LogLevel = g.logLevel
			}
			// Like every pushlab actor, the proxy serves its hops at GET /events:
			// with the access token, or, without one, only on a loopback listener
			// (send_push and ack are the proxy's product and bind wherever told,
			// as upstream's; the event stream shows tokens and payloads).
			opts := proxy.Options{ControlToken: g.controlToken, Version: version, Commit: commit}
			if g.controlToken != "" || access.Loopback(cfg.ListenAddress) {
				opts.Bus = events.NewBus()
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "pushlab proxy: %s is not loopback and no --control-token is set: GET /events is off\n", cfg.ListenAddress)
			}
			srv, err := proxy.New(cfg, opts)
			if err != nil {
				return err
			}
			defer srv.Close()
			if len(cfg.ApplePushSettings)+len(cfg.AndroidPushSettings) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "pushlab proxy: no app types configured (--config, or --apple-push-settings / --android-push-settings): every send_push will FAIL")
			}
			for typ, err := range srv.InitErrors() {
				fmt.Fprintf(cmd.ErrOrStderr(), "pushlab proxy: app type %s is not served: %v\n", typ, err)
			}
			ln, err := net.Listen("tcp", cfg.ListenAddress)
			if err != nil {
				return err
			}
			scheme := "http"
			if cfg.TLSCert != "" {
				scheme = "https"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "push proxy on %s://%s serving %v\n", scheme, ln.Addr(), srv.Targets())
			return srv.Serve(cmd.Context(), ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "mattermost-push-proxy.json to read")
	proxySettingFlags(f)
	alias(f, "listen", "listen-address") // the flag one types most
	return cmd
}

// proxyConfig is the file at path (upstream's sample defaults without one),
// overridden by the settings given as flags or variables, then completed
// with upstream's defaults, as upstream's LoadConfig completes its file.
func proxyConfig(path string, fs *pflag.FlagSet) (proxy.Config, error) {
	file := proxy.DefaultConfig().UpstreamJSON()
	if path != "" {
		var err error
		if file, err = os.ReadFile(path); err != nil {
			return proxy.Config{}, fmt.Errorf("proxy: config: %w", err)
		}
	}
	merged, err := overlay(file, fs)
	if err != nil {
		return proxy.Config{}, fmt.Errorf("proxy: config: %w", err)
	}
	return proxy.ParseConfig(merged)
}

// proxySettingFlags adds a flag for every plain setting of proxy.Config
// (LogLevel is the root's --log-level), each overriding its config key. Its
// name is the key's words, lower-cased and joined by "-"; its variable
// (bind.go) the same words upper-cased, after PUSHLAB_.
func proxySettingFlags(f *pflag.FlagSet) {
	str := func(key, name, usage string) { f.String(name, "", usage); configKey(f, name, key) }
	num := func(key, name, usage string) { f.Int(name, 0, usage); configKey(f, name, key) }
	flag := func(key, name, usage string) { f.Bool(name, false, usage); configKey(f, name, key) }
	list := func(key, name, usage string, v *jsonFlag) { f.Var(v, name, usage); configKey(f, name, key) }

	// upstream's file
	str("ListenAddress", "listen-address", "address to listen on")
	num("ThrottlePerSec", "throttle-per-sec", "requests per second allowed per client (0 = no throttling)")
	num("ThrottleMemoryStoreSize", "throttle-memory-store-size", "clients the throttle remembers")
	str("ThrottleVaryByHeader", "throttle-vary-by-header", "headers (space-separated) that identify a client; else its IP")
	flag("EnableMetrics", "enable-metrics", "serve Prometheus metrics at /metrics")
	num("SendTimeoutSec", "send-timeout-sec", "seconds for one send_push, retries included")
	num("RetryTimeoutSec", "retry-timeout-sec", "seconds for one try")
	list("ApplePushSettings", "apple-push-settings", "Apple app types, a JSON array as in the config file (replaces the file's)",
		newJSONFlag[[]proxy.ApplePushSettings]())
	list("AndroidPushSettings", "android-push-settings", "Android app types, a JSON array as in the config file (replaces the file's)",
		newJSONFlag[[]proxy.AndroidPushSettings]())
	flag("EnableConsoleLog", "enable-console-log", "log to stderr")
	flag("EnableFileLog", "enable-file-log", "log to LogFileLocation")
	str("LogFileLocation", "log-file-location", "log file, or a directory for push_proxy.log")
	str("LogFormat", "log-format", `log format: "plain" or "json"`)

	// pushlab's own
	str("APNsHost", "apns-host", "APNs base URL for every Apple app type, e.g. https://mock:8443 (default: Apple's)")
	str("APNsDevelopmentHost", "apns-development-host", "APNs base URL for the development app types (default: --apns-host, else Apple's sandbox)")
	str("FCMEndpoint", "fcm-endpoint", "FCM v1 endpoint, e.g. https://mock:8444/v1 (default: Google's)")
	str("TLSCert", "tls-cert", "PEM certificate: serve HTTPS (with --tls-key)")
	str("TLSKey", "tls-key", "PEM private key of --tls-cert")
	str("CAFile", "ca-file", "PEM CA bundle to trust for APNs, FCM and OAuth, besides the system roots (SSL_CERT_FILE)")
	num("MaxTries", "max-tries", "tries per send_push")
	num("RetryBackoffMs", "retry-backoff-ms", "milliseconds before the second try, doubling after (a longer Retry-After wins)")
	str("ResendPolicy", "resend-policy", `a request sent and not answered: "collapse" resends it with a collapse id (default), "upstream" resends it blind (may show twice), "never" answers FAIL`)
	num("MaxRequestBodyBytes", "max-request-body-bytes", "largest send_push or ack body; larger is answered FAIL (-1: no limit, as upstream)")
	flag("UpstreamErrorText", "upstream-error-text", "answer APNs failures with upstream's words only, without the reason")
	flag("UpstreamRetries", "upstream-retries", "retry only what upstream retries (no APNs answer; FCM INTERNAL and QUOTA_EXCEEDED)")
	flag("UpstreamThrottleKey", "upstream-throttle-key", "throttle clients without a vary-by header value in one shared bucket, as upstream")
	num("ShutdownTimeoutSec", "shutdown-timeout-sec", "seconds to drain in-flight requests on SIGTERM (default SendTimeoutSec+5)")
}
