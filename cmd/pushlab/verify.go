package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/verify"
)

// exitError ends the process with its code (main honours ExitCode).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }

type verifyFlags struct {
	config, appleJSON, androidJSON, pkg, junit string
	ios, gs, android, roots                    []string
	live, asJSON, noColor                      bool
}

func newVerifyCmd(g *globals) *cobra.Command {
	var fl verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [files…]",
		Short: "Check that app builds and push-proxy credentials match, then prove it with one live notification",
		Long: `verify compares what an app build has compiled in (bundle id, team,
aps-environment, profile; Android package, Firebase project and sender id)
with the push proxy's credentials (.p8 key, APNs certificate, service account),
check by check, each with the values compared and a one-line fix. Then it
sends one notification through mock APNs/FCM that know exactly these keys, a
proxy configured from the given file, and a simulated phone built with the
app's identity, and shows it displayed, or where it broke with the provider's
own reason.

Inputs: --config mattermost-push-proxy.json (or --apple-push-settings /
--android-push-settings as for pushlab proxy), and any of: .ipa, .app or
.xcarchive (--ios), google-services.json (--google-services), .apk (--android;
needs aapt on PATH). Files given as arguments are told apart by their names.

Exit status: 0 nothing failed (warnings allowed), 1 a check failed, 2 an input
could not be read. No key material is printed, only fingerprints.`,
		Example: `  pushlab verify --config mattermost-push-proxy.json Mattermost.ipa google-services.json app-release.apk
  pushlab verify --config proxy.json --ios build/Mattermost.xcarchive --json
  pushlab verify --config proxy.json app.apk --junit verify.xml --live=false`,
		RunE: func(cmd *cobra.Command, args []string) error {
			g.quietUnlessAsked(cmd, "warn") // the actors of the round trip would bury the table
			cfg, err := fl.build(args, g.logger())
			if err != nil {
				return &exitError{code: verify.ExitUnreadable, msg: err.Error()}
			}
			rep := verify.Run(cmd.Context(), cfg)
			return writeReport(cmd.OutOrStdout(), rep, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.config, "config", "", "the proxy's mattermost-push-proxy.json")
	f.StringVar(&fl.appleJSON, "apple-push-settings", "", "Apple app types as a JSON array, replacing the config file's, as for pushlab proxy")
	f.StringVar(&fl.androidJSON, "android-push-settings", "", "Android app types as a JSON array, replacing the config file's")
	f.StringSliceVar(&fl.ios, "ios", nil, "iOS build: .ipa, .app directory or .xcarchive (repeatable)")
	f.StringSliceVar(&fl.gs, "google-services", nil, "google-services.json (repeatable)")
	f.StringSliceVar(&fl.android, "android", nil, ".apk (read with aapt; repeatable)")
	f.StringVar(&fl.pkg, "android-package", "", "the app's package when no .apk is given and google-services.json lists several")
	f.StringSliceVar(&fl.roots, "apple-root", nil, "PEM/DER root certificate to trust for profile signatures instead of Apple's root (for tests)")
	f.BoolVar(&fl.live, "live", true, "send one notification through mocks, proxy and a simulated phone built from these inputs")
	f.BoolVar(&fl.asJSON, "json", false, "print the report as JSON instead of a table")
	f.StringVar(&fl.junit, "junit", "", "also write the report as JUnit XML to this file")
	f.BoolVar(&fl.noColor, "no-color", false, "no colours even on a terminal (also NO_COLOR)")
	// The proxy's variables: one environment configures both commands.
	for _, flag := range []string{"config", "apple-push-settings", "android-push-settings"} {
		envName(f, flag, "PUSHLAB_"+strings.ToUpper(strings.ReplaceAll(flag, "-", "_")))
	}
	return envPrefix(cmd, "VERIFY_")
}

// build turns the flags and arguments into a verify.Config.
func (fl *verifyFlags) build(args []string, log *slog.Logger) (verify.Config, error) {
	cfg := verify.Config{ConfigFile: fl.config, IOS: fl.ios, GoogleServices: fl.gs, Android: fl.android,
		AndroidPackage: fl.pkg, Live: fl.live, Logger: log}
	for _, a := range args {
		switch ext := strings.ToLower(filepath.Ext(strings.TrimRight(a, "/"))); ext {
		case ".ipa", ".app", ".xcarchive":
			cfg.IOS = append(cfg.IOS, a)
		case ".apk", ".aab":
			cfg.Android = append(cfg.Android, a)
		case ".json":
			if strings.Contains(filepath.Base(a), "push-proxy") && cfg.ConfigFile == "" {
				cfg.ConfigFile = a
			} else {
				cfg.GoogleServices = append(cfg.GoogleServices, a)
			}
		default:
			return cfg, fmt.Errorf("%s: not an input verify knows (.ipa, .app, .xcarchive, .apk, .aab, google-services.json, mattermost-push-proxy.json)", a)
		}
	}
	if fl.appleJSON != "" {
		if err := json.Unmarshal([]byte(fl.appleJSON), &cfg.ApplePushSettings); err != nil {
			return cfg, fmt.Errorf("--apple-push-settings: want a JSON array as in the config file: %w", err)
		}
		if cfg.ApplePushSettings == nil {
			cfg.ApplePushSettings = []proxy.ApplePushSettings{}
		}
	}
	if fl.androidJSON != "" {
		if err := json.Unmarshal([]byte(fl.androidJSON), &cfg.AndroidPushSettings); err != nil {
			return cfg, fmt.Errorf("--android-push-settings: want a JSON array as in the config file: %w", err)
		}
		if cfg.AndroidPushSettings == nil {
			cfg.AndroidPushSettings = []proxy.AndroidPushSettings{}
		}
	}
	for _, r := range fl.roots {
		c, err := readCert(r)
		if err != nil {
			return cfg, err
		}
		cfg.AppleRoots = append(cfg.AppleRoots, c)
	}
	if cfg.ConfigFile == "" && cfg.ApplePushSettings == nil && cfg.AndroidPushSettings == nil {
		return cfg, fmt.Errorf("no proxy configuration: pass --config mattermost-push-proxy.json (or --apple-push-settings / --android-push-settings)")
	}
	if len(cfg.IOS)+len(cfg.GoogleServices)+len(cfg.Android) == 0 {
		return cfg, fmt.Errorf("no app build to check: pass an .ipa/.app/.xcarchive, google-services.json or an .apk")
	}
	return cfg, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--apple-root: %w", err)
	}
	if block, _ := pem.Decode(b); block != nil {
		b = block.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("--apple-root %s: not a certificate: %w", path, err)
	}
	return c, nil
}

// writeReport prints rep (table or JSON), writes JUnit if asked, and maps
// the outcome to the exit status.
func writeReport(out io.Writer, rep *verify.Report, fl verifyFlags) error {
	var err error
	if fl.asJSON {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteTable(out, verify.TableOptions{Color: !fl.noColor && colorTerminal(out)})
	}
	if err != nil {
		return err
	}
	if fl.junit != "" {
		f, err := os.Create(fl.junit)
		if err != nil {
			return &exitError{code: verify.ExitUnreadable, msg: "--junit: " + err.Error()}
		}
		werr := rep.WriteJUnit(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("--junit %s: %w", fl.junit, werr)
		}
	}
	switch code := rep.ExitCode(); code {
	case verify.ExitUnreadable:
		return &exitError{code: code, msg: fmt.Sprintf("verify: %d input(s) could not be read", rep.Count(verify.Error))}
	case verify.ExitFailed:
		return &exitError{code: code, msg: fmt.Sprintf("verify: %d check(s) failed", rep.Count(verify.Fail))}
	}
	return nil
}

// colorTerminal: colour only on a terminal, and never with NO_COLOR set.
func colorTerminal(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
