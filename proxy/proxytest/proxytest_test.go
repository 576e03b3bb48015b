package proxytest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/token"
	"golang.org/x/oauth2/google"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/testpki"
)

var (
	setOnce sync.Once
	set     *testpki.Set
	setErr  error
)

// testSet is one set of credentials per test binary (RSA keys are slow to make).
func testSet(t testing.TB) *testpki.Set {
	t.Helper()
	setOnce.Do(func() { set, setErr = testpki.NewSet(testpki.Options{}) })
	if setErr != nil {
		t.Fatal(setErr)
	}
	return set
}

// keysDir writes the test set into a fresh directory, and beside it the
// proxy config keys init writes.
func keysDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := testSet(t).Write(dir, true); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeySetConfig(testSet(t), dir, "", ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The config testpki writes (upstream's format, pushlab's credentials) brings
// up all four app types: token auth, .p12 certificate auth, two service accounts.
func TestNewFromTestPKIConfig(t *testing.T) {
	dir := keysDir(t)
	cfg, err := proxy.LoadConfig(filepath.Join(dir, proxy.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := proxy.New(cfg, proxy.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.Targets(), []string{"android", "android_rn", "apple", "apple_rn"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Targets = %v, want %v (init errors: %v)", got, want, s.InitErrors())
	}
}

// The config `pushlab keys init` writes, in upstream's format, read as is;
// only the hosts are pointed at the mocks.
func TestIntegrationUpstreamConfigFile(t *testing.T) {
	set := testSet(t)
	dir := keysDir(t)
	bus := events.NewBus()
	apns, err := mockapns.New(mockapns.Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Bus: bus, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := apns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(apns.Close)
	if err := apns.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		t.Fatal(err)
	}
	fcm, err := mockfcm.New(mockfcm.Config{Cert: set.Mock.TLS(), Bus: bus, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := fcm.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fcm.Close)
	sa := *set.Firebase // the file the config names, with this mock's token_uri
	sa.TokenURI = fcm.TokenURL()
	if err := fcm.RegisterServiceAccount(&sa); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, testpki.FileServiceAccount), sa.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := proxy.LoadConfig(filepath.Join(dir, proxy.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg.APNsHost, cfg.APNsDevelopmentHost, cfg.FCMEndpoint, cfg.ThrottlePerSec = apns.URL, apns.DevelopmentURL, fcm.Endpoint(), 0
	p, err := proxy.New(cfg, proxy.Options{RootCAs: set.CA.Pool(), Bus: bus, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if got := p.Targets(); !reflect.DeepEqual(got, []string{"android", "android_rn", "apple", "apple_rn"}) {
		t.Fatalf("targets %v", got)
	}
	iphone := func(bundle string, env testpki.Environment) string {
		reg, err := apns.RegisterDevice(bundle, env, "iphone-"+bundle)
		if err != nil {
			t.Fatal(err)
		}
		apns.Attach(reg.Token, mockapns.ReceiverFunc(func(mockapns.Delivery) {}))
		return reg.Token
	}
	pixel := func(pkg string) string {
		reg, err := fcm.RegisterDevice(pkg, sa.ProjectID, "pixel-"+pkg)
		if err != nil {
			t.Fatal(err)
		}
		fcm.Attach(reg.Token, mockfcm.ReceiverFunc(func(mockfcm.Delivery) {}))
		return reg.Token
	}
	for appType, tok := range map[string]string{
		"apple": iphone(set.BundleID, testpki.Production), "apple_rn": iphone(set.CertBundleID, testpki.Development),
		"android": pixel(set.Package), "android_rn": pixel(set.RNPackage),
	} {
		n := mmpush.PushNotification{Platform: appType, DeviceID: tok, AckID: "ack-" + appType, ServerID: "srv",
			Type: mmpush.TypeMessage, Message: "hello", ChannelID: "chan1", PostID: "post1", Version: mmpush.MessageV2}
		b, _ := json.Marshal(n)
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, mmpush.PathSendPush, bytes.NewReader(b)))
		if body := rec.Body.String(); body != `{"status":"OK"}`+"\n" {
			t.Errorf("%s: %q", appType, body)
		}
	}
}

// The file keys init writes is upstream's format: upstream's keys and no
// other, and it reads back as the same settings.
func TestKeySetConfigIsUpstreamFormat(t *testing.T) {
	set := testSet(t)
	cfg := KeySetConfig(set, "/keys", "")
	var file map[string]any
	if err := json.Unmarshal(cfg.UpstreamJSON(), &file); err != nil {
		t.Fatal(err)
	}
	upstream := []string{"ListenAddress", "ThrottlePerSec", "ThrottleMemoryStoreSize", "ThrottleVaryByHeader", "EnableMetrics",
		"SendTimeoutSec", "RetryTimeoutSec", "ApplePushSettings", "AndroidPushSettings", "EnableConsoleLog", "EnableFileLog",
		"LogFileLocation", "LogFormat"}
	for _, k := range upstream {
		if _, ok := file[k]; !ok {
			t.Errorf("file lacks upstream key %s", k)
		}
	}
	if len(file) != len(upstream) {
		t.Errorf("file has %d keys, want upstream's %d: %v", len(file), len(upstream), file)
	}
	apple := file["ApplePushSettings"].([]any)
	if a := apple[0].(map[string]any); a["Type"] != "apple" || a["AppleAuthKeyFile"] != "/keys/"+set.APNsKey.FileName() || a["AppleTeamID"] != set.TeamID {
		t.Errorf("apple settings %v", a)
	}
	if a := apple[1].(map[string]any); a["Type"] != "apple_rn" || a["ApplePushCertPrivate"] != "/keys/"+testpki.FileAPNsDevPEM || a["ApplePushUseDevelopment"] != true {
		t.Errorf("apple_rn settings %v", a)
	}
	back, err := proxy.ParseConfig(cfg.UpstreamJSON())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.ApplePushSettings, cfg.ApplePushSettings) || !reflect.DeepEqual(back.AndroidPushSettings, cfg.AndroidPushSettings) ||
		back.ListenAddress != cfg.ListenAddress || back.ThrottlePerSec != cfg.ThrottlePerSec {
		t.Fatalf("read back %+v", back)
	}
}

func TestWriteKeySetConfig(t *testing.T) {
	dir := t.TempDir()
	if err := WriteKeySetConfig(testSet(t), dir, "", ":9000"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, proxy.ConfigFile))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("config file: %v %v", st, err)
	}
	cfg, err := proxy.LoadConfig(filepath.Join(dir, proxy.ConfigFile))
	if err != nil || cfg.ListenAddress != ":9000" || filepath.Dir(cfg.AndroidPushSettings[0].ServiceFileLocation) != dir {
		t.Fatalf("loaded %+v, %v", cfg, err)
	}
}

// An unmodified upstream mattermost-push-proxy loads every file the written
// config names, with the loaders upstream calls: apns2's token.AuthKeyFromFile
// for AppleAuthKeyFile, certificate.FromPemFile (PEM only) for
// ApplePushCertPrivate, and for ServiceFileLocation a JSON object of strings
// whose project_id it reads, handed to Google's credentials loader. The
// container topology's service account names Google's own token endpoint.
func TestKeySetConfigLoadsWithUpstreamLoaders(t *testing.T) {
	set, err := testpki.NewSet(testpki.Options{TokenURI: testpki.GoogleTokenURI})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := set.Write(dir, true); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeySetConfig(set, dir, "", ""); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, proxy.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	// Upstream's own field names, decoded the way its LoadConfig does.
	var cfg struct {
		ApplePushSettings []struct {
			Type, ApplePushCertPrivate, ApplePushCertPassword, ApplePushTopic string
			AppleAuthKeyFile, AppleAuthKeyID, AppleTeamID                     string
			ApplePushUseDevelopment                                           bool
		}
		AndroidPushSettings []struct{ Type, AndroidAPIKey, ServiceFileLocation string }
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ApplePushSettings) == 0 || len(cfg.AndroidPushSettings) == 0 {
		t.Fatalf("config names no app types: %s", raw)
	}
	for _, a := range cfg.ApplePushSettings {
		switch {
		case a.AppleAuthKeyFile != "":
			key, err := token.AuthKeyFromFile(a.AppleAuthKeyFile)
			if err != nil {
				t.Errorf("%s: token.AuthKeyFromFile(%s): %v", a.Type, a.AppleAuthKeyFile, err)
				continue
			}
			if !key.PublicKey.Equal(&set.APNsKey.Key.PublicKey) || a.AppleAuthKeyID != set.APNsKey.KeyID || a.AppleTeamID != set.TeamID {
				t.Errorf("%s: the .p8, key id or team id is not the set's", a.Type)
			}
		case a.ApplePushCertPrivate != "":
			cert, err := certificate.FromPemFile(a.ApplePushCertPrivate, a.ApplePushCertPassword)
			if err != nil {
				t.Errorf("%s: certificate.FromPemFile(%s): %v", a.Type, a.ApplePushCertPrivate, err)
				continue
			}
			if cert.Leaf == nil || !strings.Contains(cert.Leaf.Subject.String(), a.ApplePushTopic) {
				t.Errorf("%s: certificate %v is not for topic %s", a.Type, cert.Leaf, a.ApplePushTopic)
			}
		default:
			t.Errorf("%s: neither a token key nor a certificate", a.Type)
		}
	}
	for _, a := range cfg.AndroidPushSettings {
		b, err := os.ReadFile(a.ServiceFileLocation)
		if err != nil {
			t.Errorf("%s: %v", a.Type, err)
			continue
		}
		var sa map[string]string // upstream reads project_id this way: every value must be a string
		if err := json.Unmarshal(b, &sa); err != nil || sa["project_id"] != set.Firebase.ProjectID {
			t.Errorf("%s: service account as map[string]string: %v, project_id %q", a.Type, err, sa["project_id"])
		}
		creds, err := google.CredentialsFromJSON(context.Background(), b, "https://www.googleapis.com/auth/firebase.messaging")
		if err != nil || creds.ProjectID != set.Firebase.ProjectID {
			t.Errorf("%s: google.CredentialsFromJSON: %v", a.Type, err)
		}
		jwt, err := google.JWTConfigFromJSON(b)
		if err != nil || jwt.TokenURL != testpki.GoogleTokenURI {
			t.Errorf("%s: token_uri %v (%v), want Google's %s, reached through the alias", a.Type, jwt, err, testpki.GoogleTokenURI)
		}
	}
}
