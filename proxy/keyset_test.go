package proxy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/token"
	"golang.org/x/oauth2/google"

	"github.com/pushlab/pushlab/testpki"
)

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
	back, err := ParseConfig(cfg.UpstreamJSON())
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
	st, err := os.Stat(filepath.Join(dir, ConfigFile))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("config file: %v %v", st, err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
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
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
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
