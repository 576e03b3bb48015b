package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
	"github.com/pushlab/pushlab/verify"
	"github.com/pushlab/pushlab/web"
)

// easDir writes what a team has: the proxy's config and .p8, and an App
// Store build re-signed by Apple (an .app with no profile: production).
func easDir(t *testing.T, development bool) string {
	t.Helper()
	set, err := testpki.NewSet(testpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(set.APNsKey.FileName(), set.APNsKey.PEM())
	cfg := proxy.DefaultConfig()
	cfg.ApplePushSettings = []proxy.ApplePushSettings{{Type: "apple", ApplePushTopic: set.BundleID, ApplePushUseDevelopment: development,
		AppleAuthKeyFile: set.APNsKey.FileName(), AppleAuthKeyID: set.APNsKey.KeyID, AppleTeamID: set.TeamID}}
	b, _ := json.Marshal(cfg)
	write("mattermost-push-proxy.json", b)
	write("Chat.app/Info.plist", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>`+set.BundleID+`</string></dict></plist>`))
	return dir
}

func exitCodeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestVerifyExitCodes(t *testing.T) {
	good, bad := easDir(t, false), easDir(t, true)
	junit := filepath.Join(t.TempDir(), "verify.xml")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"all good", []string{"verify", "--live=false", "--config", filepath.Join(good, "mattermost-push-proxy.json"), filepath.Join(good, "Chat.app")},
			0, "PASS    ios.environment"},
		{"environment mismatch", []string{"verify", "--live=false", "--junit", junit, "--config", filepath.Join(bad, "mattermost-push-proxy.json"), "--ios", filepath.Join(bad, "Chat.app")},
			1, "fix: set ApplePushUseDevelopment false"},
		{"unreadable build", []string{"verify", "--live=false", "--config", filepath.Join(good, "mattermost-push-proxy.json"), filepath.Join(good, "Missing.ipa")},
			2, "Missing.ipa: no such file or directory"},
		{"json", []string{"verify", "--json", "--live=false", "--config", filepath.Join(good, "mattermost-push-proxy.json"), filepath.Join(good, "Chat.app")},
			0, `"id": "ios.topic"`},
		{"no inputs", []string{"verify", "--config", filepath.Join(good, "mattermost-push-proxy.json")}, 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.args...)
			if got := exitCodeOf(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d:\n%s", got, err, tc.code, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "\x1b[") {
				t.Errorf("key material or colour in output:\n%s", out)
			}
		})
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), `<failure message="build registers production tokens`) {
		t.Errorf("junit: %v\n%s", err, b)
	}
}

// demo --profile eas --keys DIR: verify on the user's files, then the
// demo's round trip with them.
func TestDemoEASKeys(t *testing.T) {
	out, err := run(t, "demo", "--profile", "eas", "--keys", easDir(t, false), "--once")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "PASS    live.ios") || !strings.Contains(out, "displayed") || !strings.Contains(out, "push proxy") {
		t.Errorf("no verified round trip:\n%s", out)
	}

	out, err = run(t, "demo", "--profile", "eas", "--keys", easDir(t, true), "--once")
	if exitCodeOf(err) != verify.ExitFailed || !strings.Contains(out, "BadDeviceToken") {
		t.Errorf("a mismatch must stop the demo with exit 1 and the provider's reason: %v\n%s", err, out)
	}
	if _, err := run(t, "demo", "--profile", "hpns", "--keys", t.TempDir(), "--once"); err == nil || !strings.Contains(err.Error(), "--profile eas") {
		t.Errorf("--keys without eas: %v", err)
	}
}

func TestColorOnlyOnATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if colorTerminal(w) {
		t.Error("a pipe is not a terminal")
	}
	if colorTerminal(new(strings.Builder)) {
		t.Error("a buffer is not a terminal")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		t.Setenv("NO_COLOR", "1")
		if colorTerminal(tty) {
			t.Error("NO_COLOR set, still colour")
		}
	}
}

// The eas demo's live view drives the verified lab: its phones are on the
// page, and a send from the view reaches them through the user's proxy.
func TestDemoEASWebViewDrivesTheLab(t *testing.T) {
	cfg, err := easInputs(easDir(t, false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lab, rep := verify.StartLab(ctx, cfg)
	if lab == nil || rep.ExitCode() != verify.ExitOK {
		t.Fatalf("lab %v, exit %d", lab, rep.ExitCode())
	}
	defer lab.Close()
	view, err := web.New(web.Config{Lab: lab.Actors()})
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	srv := httptest.NewServer(view.Handler())
	defer srv.Close()

	var state struct {
		Controls bool              `json:"controls"`
		Devices  []json.RawMessage `json:"devices"`
		Users    []string          `json:"users"`
	}
	res, err := http.Get(srv.URL + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&state)
	res.Body.Close()
	if !state.Controls || len(state.Devices) != len(lab.Phones()) || len(state.Users) == 0 {
		t.Fatalf("state %+v, want controls and %d phones", state, len(lab.Phones()))
	}
	body := `{"user_id":"` + state.Users[0] + `","message":"from the view"}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/send", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", srv.URL)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Results []serversim.SendResult `json:"results"`
	}
	json.NewDecoder(res.Body).Decode(&sent)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(sent.Results) == 0 {
		t.Fatalf("send: %d %+v", res.StatusCode, sent)
	}
	for _, r := range sent.Results {
		if r.Status != serversim.StatusOK {
			t.Errorf("%s: proxy %s %s", r.DeviceName, r.Status, r.Error)
		}
	}
}
