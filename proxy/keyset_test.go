package proxy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pushlab/pushlab/internal/testpki"
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
	if a := apple[1].(map[string]any); a["Type"] != "apple_rn" || a["ApplePushCertPrivate"] != "/keys/"+testpki.FileAPNsDevP12 || a["ApplePushUseDevelopment"] != true {
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
