package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pushlab/pushlab/proxy"
)

// lookupIn is os.LookupEnv over a map.
func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// parsedProxyCmd is `pushlab proxy args…` parsed, with env applied, as
// the root's PersistentPreRunE leaves it for RunE.
func parsedProxyCmd(t *testing.T, env map[string]string, args ...string) *pflag.FlagSet {
	t.Helper()
	cmd, _, err := newRootCmd().Find([]string{"proxy"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(cmd.Flags(), lookupIn(env)); err != nil {
		t.Fatal(err)
	}
	return cmd.Flags()
}

// flagVars is each flag of cmd (its own and the inherited) with its variable.
func flagVars(cmd *cobra.Command) map[string]string {
	out := map[string]string{}
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { out[f.Name], _ = annotation(f, annEnv) })
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) { out[f.Name], _ = annotation(f, annEnv) })
	return out
}

// flag > variable > config file > default, for one setting of each layer.
func TestBindPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), proxy.ConfigFile)
	os.WriteFile(file, []byte(`{"ListenAddress":":1","ThrottlePerSec":1,"SendTimeoutSec":1,"LogFormat":"json"}`), 0o644)
	fs := parsedProxyCmd(t, map[string]string{
		"PUSHLAB_LISTEN_ADDRESS": ":2", "PUSHLAB_THROTTLE_PER_SEC": "2", "PUSHLAB_RETRY_BACKOFF_MS": "2",
	}, "--listen-address", ":3")
	cfg, err := proxyConfig(file, fs)
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string][2]any{
		"flag over variable":       {cfg.ListenAddress, ":3"},
		"variable over file":       {cfg.ThrottlePerSec, 2},
		"variable over default":    {cfg.RetryBackoffMs, 2},
		"file over default":        {cfg.SendTimeoutSec, 1},
		"file alone":               {cfg.LogFormat, "json"},
		"default where none sets":  {cfg.MaxTries, proxy.DefaultMaxTries},
		"file's zero stays a zero": {cfg.EnableConsoleLog, false},
	} {
		if got[0] != got[1] {
			t.Errorf("%s: %v, want %v", what, got[0], got[1])
		}
	}

	// The same for a command of the tree that has no file: flag > variable > default.
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, "127.0.0.1:2197"},
		{map[string]string{"PUSHLAB_APNS_LISTEN": "127.0.0.1:9"}, nil, "127.0.0.1:9"},
		{map[string]string{"PUSHLAB_APNS_LISTEN": "127.0.0.1:9"}, []string{"--listen", "127.0.0.1:8"}, "127.0.0.1:8"},
	} {
		cmd, _, _ := newRootCmd().Find([]string{"mockapns"})
		if err := cmd.ParseFlags(c.args); err != nil {
			t.Fatal(err)
		}
		if err := applyEnv(cmd.Flags(), lookupIn(c.env)); err != nil {
			t.Fatal(err)
		}
		if got := cmd.Flags().Lookup("listen").Value.String(); got != c.want {
			t.Errorf("env %v args %v: --listen %s, want %s", c.env, c.args, got, c.want)
		}
	}
}

// The short --listen is --listen-address given on the command line: it
// wins over the variable too.
func TestBindAliasWinsOverVariable(t *testing.T) {
	fs := parsedProxyCmd(t, map[string]string{"PUSHLAB_LISTEN_ADDRESS": ":2"}, "--listen", ":3")
	cfg, err := proxyConfig("", fs)
	if err != nil || cfg.ListenAddress != ":3" {
		t.Fatalf("ListenAddress %q, %v", cfg.ListenAddress, err)
	}
}

// A variable the flag cannot take stops the command before it runs, with
// an error naming the variable (every bad one, not just the first).
func TestBindBadVariable(t *testing.T) {
	cmd, _, _ := newRootCmd().Find([]string{"proxy"})
	err := applyEnv(cmd.Flags(), lookupIn(map[string]string{"PUSHLAB_THROTTLE_PER_SEC": "lots", "PUSHLAB_ENABLE_METRICS": "maybe",
		"PUSHLAB_APPLE_PUSH_SETTINGS": `{"Type":"apple"}`}))
	for _, want := range []string{`PUSHLAB_THROTTLE_PER_SEC="lots"`, "--throttle-per-sec", `PUSHLAB_ENABLE_METRICS="maybe"`,
		"PUSHLAB_APPLE_PUSH_SETTINGS", "want a JSON array"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}

	// End to end: mockfcm used to read a bad PUSHLAB_SEED as seed 0.
	t.Setenv("PUSHLAB_SEED", "one")
	if _, err := run(t, "mockfcm", "--keys", t.TempDir()); err == nil || !strings.Contains(err.Error(), "PUSHLAB_SEED") {
		t.Fatalf("err = %v, want it to name PUSHLAB_SEED", err)
	}
}

// The variables README and deployments use keep their names.
func TestBindKeepsVariableNames(t *testing.T) {
	root := newRootCmd()
	want := map[string]map[string]string{
		"mockapns": {"keys": "PUSHLAB_KEYS", "listen": "PUSHLAB_APNS_LISTEN", "dev-listen": "PUSHLAB_APNS_DEV_LISTEN",
			"control-listen": "PUSHLAB_APNS_CONTROL_LISTEN", "env": "PUSHLAB_APNS_ENV", "channels-listen": "PUSHLAB_APNS_CHANNELS_LISTEN",
			"dev-channels-listen": "PUSHLAB_APNS_DEV_CHANNELS_LISTEN", "log-level": "PUSHLAB_LOG_LEVEL", "control-token": "PUSHLAB_CONTROL_TOKEN"},
		"mockfcm": {"keys": "PUSHLAB_KEYS", "listen": "PUSHLAB_MOCKFCM_LISTEN", "control-listen": "PUSHLAB_MOCKFCM_CONTROL", "seed": "PUSHLAB_SEED"},
		"server": {"keys": "PUSHLAB_KEYS", "listen": "PUSHLAB_SERVER_LISTEN", "proxy": "PUSHLAB_PROXY_URL", "contents": "PUSHLAB_CONTENTS",
			"profile": "PUSHLAB_PROFILE", "server-id": "PUSHLAB_SERVER_ID", "server-version": "PUSHLAB_SERVER_VERSION", "hosts": "PUSHLAB_SERVER_HOSTS"},
		"devices": {"keys": "PUSHLAB_KEYS", "server": "PUSHLAB_SERVER_URL", "apns-control": "PUSHLAB_APNS_CONTROL",
			"fcm-control": "PUSHLAB_FCM_CONTROL", "listen": "PUSHLAB_DEVICES_LISTEN"},
		"proxy":  {"config": "PUSHLAB_CONFIG", "listen": ""},
		"verify": {"config": "PUSHLAB_CONFIG", "apple-push-settings": "PUSHLAB_APPLE_PUSH_SETTINGS", "android-push-settings": "PUSHLAB_ANDROID_PUSH_SETTINGS"},
		"web":    {"token": "PUSHLAB_WEB_TOKEN"},
		"demo":   {"web-token": "PUSHLAB_WEB_TOKEN"},
	}
	for name, flags := range want {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		got := flagVars(cmd)
		for flag, env := range flags {
			if got[flag] != env {
				t.Errorf("pushlab %s --%s: variable %q, want %q", name, flag, got[flag], env)
			}
		}
	}
}

// Every flag has a variable (aliases aside), --help names it, and no two
// flags of one command share one.
func TestBindEveryFlagHasAVariable(t *testing.T) {
	for _, c := range allCommands(newRootCmd()) {
		seen := map[string]string{}
		for flag, env := range flagVars(c) {
			f := c.Flags().Lookup(flag)
			if _, isAlias := annotation(f, annAliasOf); isAlias {
				continue
			}
			if env == "" || !strings.Contains(f.Usage, "env "+env) {
				t.Errorf("pushlab %s --%s: variable %q, usage %q", c.CommandPath(), flag, env, f.Usage)
			}
			if other, dup := seen[env]; dup {
				t.Errorf("pushlab %s: --%s and --%s share %s", c.CommandPath(), flag, other, env)
			}
			seen[env] = flag
		}
	}
}

// Each setting's flag and variable follow from its config key; what only
// code can give (proxy.Options) has neither.
func TestBindProxySettingNames(t *testing.T) {
	want := map[string][2]string{
		"ListenAddress":           {"PUSHLAB_LISTEN_ADDRESS", "listen-address"},
		"ThrottlePerSec":          {"PUSHLAB_THROTTLE_PER_SEC", "throttle-per-sec"},
		"ThrottleMemoryStoreSize": {"PUSHLAB_THROTTLE_MEMORY_STORE_SIZE", "throttle-memory-store-size"},
		"ThrottleVaryByHeader":    {"PUSHLAB_THROTTLE_VARY_BY_HEADER", "throttle-vary-by-header"},
		"ApplePushSettings":       {"PUSHLAB_APPLE_PUSH_SETTINGS", "apple-push-settings"},
		"APNsHost":                {"PUSHLAB_APNS_HOST", "apns-host"},
		"FCMEndpoint":             {"PUSHLAB_FCM_ENDPOINT", "fcm-endpoint"},
		"TLSCert":                 {"PUSHLAB_TLS_CERT", "tls-cert"},
		"TLSKey":                  {"PUSHLAB_TLS_KEY", "tls-key"},
		"CAFile":                  {"PUSHLAB_CA_FILE", "ca-file"},
		"RetryBackoffMs":          {"PUSHLAB_RETRY_BACKOFF_MS", "retry-backoff-ms"},
	}
	cmd, _, _ := newRootCmd().Find([]string{"proxy"})
	got := map[string][2]string{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if key, ok := annotation(f, annConfigKey); ok {
			if _, isAlias := annotation(f, annAliasOf); !isAlias {
				env, _ := annotation(f, annEnv)
				got[key] = [2]string{env, f.Name}
			}
		}
	})
	for key, names := range want {
		if got[key] != names {
			t.Errorf("%s: env and flag %v, want %v", key, got[key], names)
		}
	}
	// Every key of the file but LogLevel (the root's --log-level) is a flag.
	var keys map[string]any
	json.Unmarshal(proxy.Config{Settings: proxy.Settings{ResendPolicy: "x", APNsHost: "x", APNsDevelopmentHost: "x",
		FCMEndpoint: "x", TLSCert: "x", TLSKey: "x", CAFile: "x", MaxTries: 1, RetryBackoffMs: 1, MaxRequestBodyBytes: 1,
		UpstreamErrorText: true, UpstreamRetries: true, UpstreamThrottleKey: true, ShutdownTimeoutSec: 1}}.UpstreamJSON(), &keys)
	for key := range keys {
		if _, ok := got[key]; !ok {
			t.Errorf("config key %s has no flag", key)
		}
	}
	for _, code := range []string{"root-cas", "dial-context", "tls-config", "bus", "logger", "registerer", "gatherer"} {
		if cmd.Flags().Lookup(code) != nil {
			t.Errorf("--%s is in-process only but is a flag", code)
		}
	}
}

// Variables over upstream's sample file: each lands in its setting, and
// upstream's defaults then apply (the per-try timeout clamped to the total).
func TestBindProxyVariables(t *testing.T) {
	fs := parsedProxyCmd(t, map[string]string{
		"PUSHLAB_LISTEN_ADDRESS":         "127.0.0.1:9000",
		"PUSHLAB_THROTTLE_PER_SEC":       "7",
		"PUSHLAB_ENABLE_METRICS":         "true",
		"PUSHLAB_APNS_HOST":              "https://127.0.0.1:8443",
		"PUSHLAB_ANDROID_PUSH_SETTINGS":  `[{"Type":"android","ServiceFileLocation":"/keys/sa.json"}]`,
		"PUSHLAB_SEND_TIMEOUT_SEC":       "3",
		"PUSHLAB_RESEND_POLICY":          "never",
		"PUSHLAB_UNRELATED_VARIABLE_SET": "x",
	})
	cfg, err := proxyConfig("../../proxy/testdata/mattermost-push-proxy.json", fs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ListenAddress != "127.0.0.1:9000" || cfg.ThrottlePerSec != 7 || !cfg.EnableMetrics ||
		cfg.APNsHost != "https://127.0.0.1:8443" || cfg.SendTimeoutSec != 3 || cfg.RetryTimeoutSec != 3 || cfg.ResendPolicy != proxy.ResendNever {
		t.Errorf("after env: %+v", cfg)
	}
	if want := []proxy.AndroidPushSettings{{Type: "android", ServiceFileLocation: "/keys/sa.json"}}; !reflect.DeepEqual(cfg.AndroidPushSettings, want) {
		t.Errorf("AndroidPushSettings = %+v", cfg.AndroidPushSettings)
	}
	if len(cfg.ApplePushSettings) != 2 {
		t.Errorf("ApplePushSettings changed without a variable: %+v", cfg.ApplePushSettings)
	}
}

// Every setting goes through its flag unchanged: the file a config would
// be and the same values given as flags make one config.
func TestBindProxyFlagsRoundTrip(t *testing.T) {
	var a proxy.Config
	a.ApplePushSettings = []proxy.ApplePushSettings{{Type: "apple", ApplePushTopic: "t"}}
	a.AndroidPushSettings = []proxy.AndroidPushSettings{{Type: "android", ServiceFileLocation: "sa.json"}}
	a.ThrottlePerSec, a.EnableMetrics, a.APNsHost, a.ResendPolicy, a.LogFormat = 5, true, "https://h", proxy.ResendUpstream, "json"
	want, err := proxy.ParseConfig(a.UpstreamJSON())
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]json.RawMessage
	json.Unmarshal(a.UpstreamJSON(), &values)
	var args []string
	cmd, _, _ := newRootCmd().Find([]string{"proxy"})
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		key, _ := annotation(f, annConfigKey)
		raw, ok := values[key]
		if _, isAlias := annotation(f, annAliasOf); !ok || isAlias {
			return
		}
		text := string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			text = s
		}
		args = append(args, "--"+f.Name+"="+text)
	})
	fs := parsedProxyCmd(t, nil, args...)
	got, err := proxyConfig(writeJSON(t, `{}`), fs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n%+v\n%+v", got, want)
	}
}

func writeJSON(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
