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
	want := Config{FileConfig: FileConfig{
		ListenAddress: ":8066", ThrottlePerSec: 300, ThrottleMemoryStoreSize: 50000,
		ThrottleVaryByHeader: "X-Forwarded-For", SendTimeoutSec: 30, RetryTimeoutSec: 8,
		ApplePushSettings: []ApplePushSettings{
			{Type: "apple", ApplePushTopic: "com.mattermost.Mattermost"},
			{Type: "apple_rn", ApplePushTopic: "com.mattermost.react.native"},
		},
		AndroidPushSettings: []AndroidPushSettings{{Type: "android"}, {Type: "android_rn"}},
		EnableConsoleLog:    true, LogFormat: "plain", LogLevel: "info",
	}, Settings: Settings{
		MaxTries: DefaultMaxTries, RetryBackoffMs: DefaultRetryBackoffMs, ShutdownTimeoutSec: 35,
		ResendPolicy:        ResendCollapse,
		MaxRequestBodyBytes: DefaultMaxRequestBody,
	}}
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
	log, logs := testLogger(t)
	s, err := New(cfg, Options{Logger: log})
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
			log, _ := testLogger(t)
			if c.apple != nil {
				cfg.ApplePushSettings = []ApplePushSettings{*c.apple}
			}
			if c.android != nil {
				cfg.AndroidPushSettings = []AndroidPushSettings{*c.android}
			}
			s, err := New(cfg, Options{Logger: log})
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

func TestServerTLSSettings(t *testing.T) {
	log, _ := testLogger(t)
	cfg := Config{Settings: Settings{TLSCert: "only-a-cert.pem"}}
	if _, err := New(cfg, Options{Logger: log}); err == nil {
		t.Fatal("TLSCert without TLSKey accepted")
	}
	cfg = Config{Settings: Settings{CAFile: "testdata/mattermost-push-proxy.json"}}
	if _, err := New(cfg, Options{Logger: log}); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Fatalf("CAFile without PEM: %v", err)
	}
}

func TestFileLog(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{FileConfig: FileConfig{EnableFileLog: true, LogFileLocation: dir, LogFormat: "json", LogLevel: "debug"}}
	s, err := New(cfg, Options{})
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
	if _, err := New(Config{FileConfig: FileConfig{LogLevel: "loud", EnableConsoleLog: true}}, Options{}); err == nil {
		t.Error("LogLevel loud accepted")
	}
}
