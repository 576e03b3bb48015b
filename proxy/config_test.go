package proxy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/testpki"
)

// testdata/mattermost-push-proxy.json is upstream's sample config, unmodified.
func TestLoadConfigUpstreamSample(t *testing.T) {
	cfg, err := LoadConfig("testdata/mattermost-push-proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ListenAddress: ":8066", ThrottlePerSec: 300, ThrottleMemoryStoreSize: 50000,
		ThrottleVaryByHeader: "X-Forwarded-For", SendTimeoutSec: 30, RetryTimeoutSec: 8,
		ApplePushSettings: []ApplePushSettings{
			{Type: "apple", ApplePushTopic: "com.mattermost.Mattermost"},
			{Type: "apple_rn", ApplePushTopic: "com.mattermost.react.native"},
		},
		AndroidPushSettings: []AndroidPushSettings{{Type: "android"}, {Type: "android_rn"}},
		EnableConsoleLog:    true, LogFormat: "plain", LogLevel: "info",
		MaxTries: DefaultMaxTries, RetryBackoffMs: DefaultRetryBackoffMs, ShutdownTimeoutSec: 35,
		ResendPolicy:        ResendCollapse,
		MaxRequestBodyBytes: DefaultMaxRequestBody,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("LoadConfig =\n%+v\nwant\n%+v", cfg, want)
	}
}

// Upstream starts with the sample config (no credentials at all): every app
// type fails to initialize, is logged, and the proxy serves anyway,
// answering send_push for them as an unknown platform.
func TestNewWithoutCredentialsServesAnyway(t *testing.T) {
	cfg, err := LoadConfig("testdata/mattermost-push-proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	var logs *logBuffer
	cfg.Logger, logs = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Targets(); len(got) != 0 {
		t.Fatalf("Targets = %v, want none", got)
	}
	wantErrs := map[string]string{
		"apple":      "apple push notifications not configured: missing ApplePushCertPrivate for type=apple",
		"apple_rn":   "apple push notifications not configured: missing ApplePushCertPrivate for type=apple_rn",
		"android":    "android push notifications not configured: missing ServiceFileLocation",
		"android_rn": "android push notifications not configured: missing ServiceFileLocation",
	}
	for typ, want := range wantErrs {
		if err := s.InitErrors()[typ]; err == nil || err.Error() != want {
			t.Errorf("InitErrors[%s] = %v, want %q", typ, err, want)
		}
	}
	if !strings.Contains(logs.String(), "failed to initialize client") {
		t.Errorf("init failures not logged:\n%s", logs)
	}
	_, body := post(t, s.Handler(), "/api/v1/send_push", `{"platform":"apple","server_id":"s1","device_id":"d1"}`)
	if want := `{"error":"Did not send message because of missing platform property type=apple serverId=s1","status":"FAIL"}` + "\n"; body != want {
		t.Fatalf("body = %q, want %q", body, want)
	}
}

// The config testpki writes (upstream's format, pushlab's credentials) brings
// up all four app types: token auth, .p12 certificate auth, two service accounts.
func TestNewFromTestPKIConfig(t *testing.T) {
	dir := keysDir(t)
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger, _ = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.Targets(), []string{"android", "android_rn", "apple", "apple_rn"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Targets = %v, want %v (init errors: %v)", got, want, s.InitErrors())
	}
}

func TestNewRejectsBadCredentials(t *testing.T) {
	dir := keysDir(t)
	bad := filepath.Join(dir, "bad.p8")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	cases := []struct {
		name    string
		apple   *ApplePushSettings
		android *AndroidPushSettings
		want    string
	}{
		{"bad .p8", &ApplePushSettings{Type: "a", AppleAuthKeyFile: bad, AppleAuthKeyID: "K", AppleTeamID: "T"}, nil,
			"failed to initialize apple notification service with AuthKey file"},
		{"wrong .p12 password", &ApplePushSettings{Type: "a", ApplePushCertPrivate: filepath.Join(dir, testpki.FileAPNsDevP12),
			ApplePushCertPassword: "wrong"}, nil, "failed to initialize apple notification service with pem cert"},
		{"missing service file", nil, &AndroidPushSettings{Type: "a", ServiceFileLocation: filepath.Join(dir, "nope.json")},
			"error reading service file"},
		{"service file is not one", nil, &AndroidPushSettings{Type: "a", ServiceFileLocation: bad}, "error getting JWT config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{}
			cfg.Logger, _ = testLogger(t)
			if c.apple != nil {
				cfg.ApplePushSettings = []ApplePushSettings{*c.apple}
			}
			if c.android != nil {
				cfg.AndroidPushSettings = []AndroidPushSettings{*c.android}
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.InitErrors()["a"]; err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("InitErrors[a] = %v, want %q", err, c.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"SendTimeoutSec": 5, "RetryTimeoutSec": 9}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SendTimeoutSec != 5 || cfg.RetryTimeoutSec != 5 {
		t.Errorf("timeouts = %d/%d, want the per-try timeout clamped to the total (5/5)", cfg.SendTimeoutSec, cfg.RetryTimeoutSec)
	}
	cfg, _ = ParseConfig([]byte(`{}`))
	if cfg.SendTimeoutSec != 30 || cfg.RetryTimeoutSec != 8 || cfg.ThrottleMemoryStoreSize != 50000 {
		t.Errorf("defaults = %+v", cfg)
	}
	if _, err := ParseConfig([]byte(`{"ThrottlePerSec": "many"}`)); err == nil {
		t.Error("a string ThrottlePerSec parsed")
	}
}

func TestSettingNames(t *testing.T) {
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
	got := map[string]Setting{}
	for _, s := range Settings() {
		got[s.Field] = s
	}
	for field, names := range want {
		s, ok := got[field]
		if !ok {
			t.Errorf("%s is not a setting", field)
			continue
		}
		if s.Env != names[0] || s.Flag != names[1] {
			t.Errorf("%s: env %s flag %s, want %s %s", field, s.Env, s.Flag, names[0], names[1])
		}
	}
	for _, code := range []string{"RootCAs", "Bus", "Logger", "Registerer", "TLSConfig"} {
		if _, ok := got[code]; ok {
			t.Errorf("%s is in-process only but is a setting", code)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	cfg, _ := LoadConfig("testdata/mattermost-push-proxy.json")
	env := map[string]string{
		"PUSHLAB_LISTEN_ADDRESS":         "127.0.0.1:9000",
		"PUSHLAB_THROTTLE_PER_SEC":       "7",
		"PUSHLAB_ENABLE_METRICS":         "true",
		"PUSHLAB_APNS_HOST":              "https://127.0.0.1:8443",
		"PUSHLAB_ANDROID_PUSH_SETTINGS":  `[{"Type":"android","ServiceFileLocation":"/keys/sa.json"}]`,
		"PUSHLAB_SEND_TIMEOUT_SEC":       "3",
		"PUSHLAB_UNRELATED_VARIABLE_SET": "x",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := cfg.ApplyEnv(lookup); err != nil {
		t.Fatal(err)
	}
	if cfg.ListenAddress != "127.0.0.1:9000" || cfg.ThrottlePerSec != 7 || !cfg.EnableMetrics ||
		cfg.APNsHost != "https://127.0.0.1:8443" || cfg.SendTimeoutSec != 3 || cfg.RetryTimeoutSec != 3 {
		t.Errorf("after env: %+v", cfg)
	}
	if want := []AndroidPushSettings{{Type: "android", ServiceFileLocation: "/keys/sa.json"}}; !reflect.DeepEqual(cfg.AndroidPushSettings, want) {
		t.Errorf("AndroidPushSettings = %+v", cfg.AndroidPushSettings)
	}
	if len(cfg.ApplePushSettings) != 2 {
		t.Errorf("ApplePushSettings changed without a variable: %+v", cfg.ApplePushSettings)
	}

	env = map[string]string{"PUSHLAB_THROTTLE_PER_SEC": "lots", "PUSHLAB_ENABLE_METRICS": "maybe"}
	err := cfg.ApplyEnv(lookup)
	if err == nil || !strings.Contains(err.Error(), "ThrottlePerSec") || !strings.Contains(err.Error(), "EnableMetrics") {
		t.Fatalf("bad values: err = %v, want both named", err)
	}
}

func TestSettingGetSetRoundTrip(t *testing.T) {
	var a, b Config
	a.ApplePushSettings = []ApplePushSettings{{Type: "apple", ApplePushTopic: "t"}}
	a.ThrottlePerSec, a.EnableMetrics, a.APNsHost = 5, true, "https://h"
	for _, s := range Settings() {
		if err := s.Set(&b, s.Get(&a)); err != nil {
			t.Fatalf("%s: %v", s.Field, err)
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip:\n%+v\n%+v", a, b)
	}
}

func TestServerTLSSettings(t *testing.T) {
	cfg := Config{TLSCert: "only-a-cert.pem"}
	cfg.Logger, _ = testLogger(t)
	if _, err := New(cfg); err == nil {
		t.Fatal("TLSCert without TLSKey accepted")
	}
	cfg = Config{CAFile: "testdata/mattermost-push-proxy.json"}
	cfg.Logger, _ = testLogger(t)
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Fatalf("CAFile without PEM: %v", err)
	}
}

func TestFileLog(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{EnableFileLog: true, LogFileLocation: dir, LogFormat: "json", LogLevel: "debug"}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	post(t, s.Handler(), "/api/v1/send_push", `{`)
	s.Close()
	b, err := os.ReadFile(filepath.Join(dir, defaultLogFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"bad request"`) {
		t.Fatalf("log file:\n%s", b)
	}
	if _, err := New(Config{LogLevel: "loud", EnableConsoleLog: true}); err == nil {
		t.Error("LogLevel loud accepted")
	}
}
