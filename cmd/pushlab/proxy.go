package main

import (
	"fmt"
	"net"
	"os"
	"reflect"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/proxy"
)

func init() { rootCmd.AddCommand(newProxyCmd()) }

// proxyUsage describes each setting for --help; the flag and env names come
// from proxy.Settings.
var proxyUsage = map[string]string{
	"ListenAddress":           "address to listen on",
	"ThrottlePerSec":          "requests per second allowed per client (0 = no throttling)",
	"ThrottleMemoryStoreSize": "clients the throttle remembers",
	"ThrottleVaryByHeader":    "headers (space-separated) that identify a client; else its IP",
	"EnableMetrics":           "serve Prometheus metrics at /metrics",
	"SendTimeoutSec":          "seconds for one send_push, retries included",
	"RetryTimeoutSec":         "seconds for one try",
	"ApplePushSettings":       "Apple app types, a JSON array as in the config file (replaces the file's)",
	"AndroidPushSettings":     "Android app types, a JSON array as in the config file (replaces the file's)",
	"EnableConsoleLog":        "log to stderr",
	"EnableFileLog":           "log to LogFileLocation",
	"LogFileLocation":         "log file, or a directory for push_proxy.log",
	"LogFormat":               `log format: "plain" or "json"`,
	"APNsHost":                "APNs base URL for every Apple app type, e.g. https://mock:8443 (default: Apple's)",
	"APNsDevelopmentHost":     "APNs base URL for the development app types (default: --apns-host, else Apple's sandbox)",
	"FCMEndpoint":             "FCM v1 endpoint, e.g. https://mock:8444/v1 (default: Google's)",
	"TLSCert":                 "PEM certificate: serve HTTPS (with --tls-key)",
	"TLSKey":                  "PEM private key of --tls-cert",
	"CAFile":                  "PEM CA bundle to trust for APNs, FCM and OAuth, besides the system roots (SSL_CERT_FILE)",
	"MaxTries":                "tries per send_push",
	"RetryBackoffMs":          "milliseconds before the second try, doubling after (a longer Retry-After wins)",
	"ResendPolicy":            `a request sent and not answered: "collapse" resends it with a collapse id (default), "upstream" resends it blind (may show twice), "never" answers FAIL`,
	"ShutdownTimeoutSec":      "seconds to drain in-flight requests on SIGTERM (default SendTimeoutSec+5)",
	"MaxRequestBodyBytes":     "largest send_push or ack body; larger is answered FAIL (-1: no limit, as upstream)",
	"UpstreamErrorText":       "answer APNs failures with upstream's words only, without the reason",
	"UpstreamRetries":         "retry only what upstream retries (no APNs answer; FCM INTERNAL and QUOTA_EXCEEDED)",
	"UpstreamThrottleKey":     "throttle clients without a vary-by header value in one shared bucket, as upstream",
}

// flagAliases are short names for the flags one types most.
var flagAliases = map[string]string{"listen": "ListenAddress"}

func newProxyCmd() *cobra.Command {
	var configPath string
	values := map[string]*settingValue{}
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
			cfg := proxy.DefaultConfig()
			if configPath != "" {
				var err error
				if cfg, err = proxy.LoadConfig(configPath); err != nil {
					return err
				}
			}
			if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
				return err
			}
			for _, s := range proxy.Settings() {
				if v := values[s.Field]; v != nil && v.set {
					if err := s.Set(&cfg, v.raw); err != nil {
						return err
					}
				}
			}
			if _, ok := os.LookupEnv("PUSHLAB_LOG_LEVEL"); ok || cmd.Flags().Changed("log-level") {
				cfg.LogLevel = logLevel
			}
			cfg.Version, cfg.Commit = version, commit
			// Like every pushlab actor, the proxy serves its hops at GET /events:
			// with the access token, or, without one, only on a loopback listener
			// (send_push and ack are the proxy's product and bind wherever told,
			// as upstream's; the event stream shows tokens and payloads).
			cfg.ControlToken = controlToken
			if controlToken != "" || access.Loopback(cfg.ListenAddress) {
				cfg.Bus = events.NewBus()
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "pushlab proxy: %s is not loopback and no --control-token is set: GET /events is off\n", cfg.ListenAddress)
			}
			srv, err := proxy.New(cfg)
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
	f.StringVar(&configPath, "config", os.Getenv("PUSHLAB_CONFIG"), "mattermost-push-proxy.json to read (env PUSHLAB_CONFIG)")
	for _, s := range proxy.Settings() {
		if s.Field == "LogLevel" {
			continue // the root command's --log-level, same variable PUSHLAB_LOG_LEVEL
		}
		v := &settingValue{kind: s.Kind}
		values[s.Field] = v
		usage := proxyUsage[s.Field]
		if usage == "" {
			usage = s.Field
		}
		fl := f.VarPF(v, s.Flag, "", fmt.Sprintf("%s (config %s, env %s)", usage, s.Field, s.Env))
		if s.Kind == reflect.Bool {
			fl.NoOptDefVal = "true"
		}
	}
	for alias, field := range flagAliases {
		for _, s := range proxy.Settings() {
			if s.Field == field {
				f.Var(values[field], alias, "short for --"+s.Flag)
			}
		}
	}
	return cmd
}

// settingValue holds a flag's text until the config it overrides is loaded.
type settingValue struct {
	kind reflect.Kind
	raw  string
	set  bool
}

func (v *settingValue) String() string { return v.raw }
func (v *settingValue) Set(s string) error {
	v.raw, v.set = s, true
	return nil
}
func (v *settingValue) Type() string {
	switch v.kind {
	case reflect.Int:
		return "int"
	case reflect.Bool:
		return "bool"
	case reflect.Slice:
		return "json"
	}
	return "string"
}

var _ pflag.Value = (*settingValue)(nil)
