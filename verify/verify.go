package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/pushlab/pushlab/proxy"
)

// Config names the inputs of a verification and how to run it.
type Config struct {
	// ConfigFile is the proxy's mattermost-push-proxy.json. Relative file
	// names in it are tried as given, then beside it.
	ConfigFile string
	// ApplePushSettings and AndroidPushSettings, if not nil, replace the
	// file's lists (as pushlab proxy's flags and environment do).
	ApplePushSettings   []proxy.ApplePushSettings
	AndroidPushSettings []proxy.AndroidPushSettings

	// IOS are app builds: .ipa files, unpacked .app directories, .xcarchive directories.
	IOS []string
	// GoogleServices are google-services.json files.
	GoogleServices []string
	// Android are .apk files (an .aab gets instructions).
	Android []string
	// AndroidPackage names the app's package when no .apk is given and
	// google-services.json holds several clients.
	AndroidPackage string

	// Live sends one notification through mocks, proxy and a simulated
	// device built from these very inputs.
	Live bool
	// AppleRoots are trusted for provisioning-profile signatures; nil means
	// Apple's root certificate.
	AppleRoots []*x509.Certificate
	// AAPT is the aapt binary; "" looks it up on PATH.
	AAPT string
	// Now is the time expiry is judged at; zero means time.Now().
	Now    time.Time
	Logger *slog.Logger
}

// run holds one verification's state.
type run struct {
	cfg Config
	now time.Time
	log *slog.Logger
	res resolver
	rep *Report

	apple   []*appleType
	android []*androidType
	ios     []*IOSApp
	gs      []*GoogleServices
	apks    []*APK
}

func (v *run) add(c Check) { v.rep.add(c) }

func (v *run) fingerprint(file, fp string) {
	if v.rep.Fingerprints == nil {
		v.rep.Fingerprints = map[string]string{}
	}
	v.rep.Fingerprints[file] = fp
}

// unreadable reports an input that could not be read at all.
func (v *run) unreadable(subject, id, file string, err error) {
	var ie *InputError
	if errors.As(err, &ie) {
		file, err = ie.File, ie.Err
	}
	v.add(Check{ID: id, Subject: subject, Status: Error, Input: file,
		Summary: fmt.Sprintf("%s: %v", file, err), Fix: fixForUnreadable(err)})
}

func fixForUnreadable(err error) string {
	switch {
	case errors.Is(err, ErrNoAAPT):
		return "apt-get install aapt (or add Android SDK build-tools to PATH)"
	case errors.Is(err, ErrAAB):
		return "bundletool build-apks --mode=universal, then pass the universal .apk"
	}
	return "pass the right file (see the message)"
}

// Run reads every input, checks each against the others and, with
// Config.Live, sends one notification through them. It returns a report in
// all cases: unreadable inputs are Error checks (Report.ExitCode 2).
func Run(ctx context.Context, cfg Config) *Report {
	v := newRun(cfg)
	defer v.finish()
	pc, ok := v.check(ctx)
	if ok && cfg.Live {
		if l := v.live(ctx, pc); l != nil {
			l.close()
		}
	}
	return v.rep
}

func newRun(cfg Config) *run {
	v := &run{cfg: cfg, now: cfg.Now, log: cfg.Logger, rep: &Report{Started: time.Now()}}
	if v.now.IsZero() {
		v.now = time.Now()
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	return v
}

func (v *run) finish() { v.rep.Duration = time.Since(v.rep.Started) }

// check reads and compares every input; ok is false when the proxy's
// configuration itself could not be read.
func (v *run) check(ctx context.Context) (pc proxy.Config, ok bool) {
	cfg := v.cfg
	pc = proxy.DefaultConfig()
	if cfg.ConfigFile != "" {
		c, err := proxy.LoadConfig(cfg.ConfigFile)
		if err != nil {
			v.unreadable("proxy", "config", cfg.ConfigFile, unwrapPathErr(errors.Unwrap(err)))
			return pc, false
		}
		pc = c
		v.res.configDir = filepath.Dir(cfg.ConfigFile)
	}
	if cfg.ApplePushSettings != nil {
		pc.ApplePushSettings = cfg.ApplePushSettings
	}
	if cfg.AndroidPushSettings != nil {
		pc.AndroidPushSettings = cfg.AndroidPushSettings
	}
	if len(pc.ApplePushSettings)+len(pc.AndroidPushSettings) == 0 {
		v.add(Check{ID: "config", Subject: "proxy", Status: Fail, Input: cfg.ConfigFile,
			Summary: "no ApplePushSettings or AndroidPushSettings: the proxy has no credentials to check",
			Fix:     "pass --config mattermost-push-proxy.json (or --apple-push-settings / --android-push-settings)"})
	}
	for _, s := range pc.ApplePushSettings {
		v.apple = append(v.apple, v.readAppleType(s))
	}
	for _, s := range pc.AndroidPushSettings {
		v.android = append(v.android, v.readAndroidType(s))
	}

	for _, p := range cfg.IOS {
		app, err := ReadIOSApp(p, cfg.AppleRoots, v.now)
		if err != nil {
			v.unreadable(filepath.Base(p), "ios.read", p, err)
			continue
		}
		v.ios = append(v.ios, app)
		v.checkIOS(app)
	}
	for _, p := range cfg.GoogleServices {
		g, err := ReadGoogleServices(p)
		if err != nil {
			v.unreadable(filepath.Base(p), "android.google_services", p, err)
			continue
		}
		v.gs = append(v.gs, g)
		v.add(Check{ID: "android.google_services", Subject: filepath.Base(p), Status: Pass,
			Summary: fmt.Sprintf("project %q (number %s), apps %s", g.ProjectID, g.ProjectNumber, strings.Join(g.Packages(), ", "))})
	}
	for _, p := range cfg.Android {
		a, err := ReadAPK(ctx, p, cfg.AAPT)
		if err != nil {
			v.unreadable(filepath.Base(p), "android.apk", p, err)
			continue
		}
		v.apks = append(v.apks, a)
		v.add(Check{ID: "android.apk", Subject: filepath.Base(p), Status: Pass,
			Summary: fmt.Sprintf("package %q%s, google_app_id %q, gcm_defaultSenderId %q, project_id %q", a.Package, prefixed(" version ", a.VersionName), a.AppID, a.SenderID, a.ProjectID)})
	}
	v.checkAndroid()
	return pc, true
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
