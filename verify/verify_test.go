package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"

	sslpkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/testpki"
)

func runWorld(t *testing.T, w *world) *Report {
	t.Helper()
	return Run(context.Background(), w.config())
}

// dump shows the report when a test fails.
func dump(t *testing.T, r *Report) string {
	var b bytes.Buffer
	r.WriteTable(&b, TableOptions{})
	return b.String()
}

func TestAllGood(t *testing.T) {
	w := newWorld(t)
	r := runWorld(t, w)
	if got := r.ExitCode(); got != ExitOK {
		t.Fatalf("exit %d, want 0:\n%s", got, dump(t, r))
	}
	for _, id := range []string{"apns.auth", "apns.p8", "apns.key_id", "apns.topic", "apns.cert", "apns.cert.topic",
		"apns.cert.environment", "apns.cert.expiry", "fcm.service_account", "ios.bundle", "ios.profile",
		"ios.profile.signature", "ios.profile.expiry", "ios.profile.push", "ios.profile.app_id", "ios.topic", "ios.team",
		"ios.environment", "android.google_services", "android.apk", "android.package", "android.sender_id", "android.project"} {
		cs := r.Find(id, "")
		if len(cs) == 0 {
			t.Errorf("no %s check:\n%s", id, dump(t, r))
		}
		for _, c := range cs {
			if c.Status != Pass {
				t.Errorf("%s %s: %s %s", id, c.Subject, c.Status, c.Summary)
			}
		}
	}
	// The .ipa's binary plist, the .app's XML plist; the extension inside the .ipa is not the app.
	if c := r.Find("ios.bundle", "Chat.ipa"); len(c) != 1 || !strings.Contains(c[0].Summary, "binary") || !strings.Contains(c[0].Summary, w.set.BundleID+`"`) {
		t.Errorf("ipa bundle: %+v", c)
	}
	if c := r.Find("ios.bundle", "Beta.app"); len(c) != 1 || !strings.Contains(c[0].Summary, "xml") {
		t.Errorf("app bundle: %+v", c)
	}
	if c := r.Find("ios.profile.signature", "Chat.ipa"); len(c) != 1 || !strings.Contains(c[0].Summary, "Apple iPhone OS Provisioning Profile Signing") ||
		!strings.Contains(c[0].Summary, "Test Apple Root CA") {
		t.Errorf("signer not reported: %+v", c)
	}
	// Fingerprints, never keys.
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"PRIVATE KEY", string(w.set.APNsKey.PEM()[30:60])} {
		if strings.Contains(js.String(), secret) || strings.Contains(dump(t, r), secret) {
			t.Errorf("output contains key material %q", secret)
		}
	}
	if fp := r.Fingerprints[w.path(w.set.APNsKey.FileName())]; fp != testpki.Fingerprint(&w.set.APNsKey.Key.PublicKey) {
		t.Errorf("p8 fingerprint %q", fp)
	}
}

func TestXCArchive(t *testing.T) {
	w := newWorld(t)
	w.ios = w.ios[:1]
	w.ios[0].file = "Chat.xcarchive"
	r := runWorld(t, w)
	if r.ExitCode() != ExitOK {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), dump(t, r))
	}
	if c := r.Find("ios.bundle", "Chat.app"); len(c) != 1 || !strings.Contains(c[0].Summary, w.set.BundleID) {
		t.Errorf("xcarchive app not read: %s", dump(t, r))
	}
}

// Each mistake yields its own failing check, with the values and the fix.
func TestMismatches(t *testing.T) {
	shared(t)
	set := sharedSet
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	soon := time.Now().Add(10 * 24 * time.Hour)
	past := time.Now().Add(-24 * time.Hour)
	cases := []struct {
		name    string
		mutate  func(w *world)
		id      string
		subject string   // "" = any
		status  Status   // Fail unless set
		summary []string // substrings of the summary
		fix     string   // substring of the fix
	}{
		{"topic is not the bundle id", func(w *world) { w.apple[0].ApplePushTopic = "com.example.wrong" },
			"ios.topic", "Chat.ipa", Fail, []string{`"` + set.BundleID + `"`, `apple="com.example.wrong"`, "DeviceTokenNotForTopic"}, `ApplePushTopic "` + set.BundleID + `"`},
		{"doubled .voip", func(w *world) { w.apple[0].ApplePushTopic = set.BundleID + ".voip" },
			"apns.topic", "apple", Fail, []string{set.BundleID + ".voip.voip"}, `bundle id "` + set.BundleID + `"`},
		{"doubled .voip against the build", func(w *world) { w.apple[0].ApplePushTopic = set.BundleID + ".voip" },
			"ios.topic", "Chat.ipa ↔ apple", Fail, []string{"bundle id + .voip"}, `ApplePushTopic "` + set.BundleID + `"`},
		{"key id and team id swapped", func(w *world) {
			w.apple[0].AppleAuthKeyID, w.apple[0].AppleTeamID = set.TeamID, set.APNsKey.KeyID
		}, "apns.key_id", "apple", Fail, []string{"swapped"}, `AppleAuthKeyID "` + set.APNsKey.KeyID + `" and AppleTeamID "` + set.TeamID + `"`},
		{"swapped ids disagree with the profile's team", func(w *world) {
			w.apple[0].AppleAuthKeyID, w.apple[0].AppleTeamID = set.TeamID, set.APNsKey.KeyID
		}, "ios.team", "Chat.ipa ↔ apple", Fail, []string{`AppleTeamID (.p8) "` + set.APNsKey.KeyID + `"`, `profile TeamIdentifier "` + set.TeamID + `"`, "swapped"}, `AppleTeamID "` + set.TeamID + `"`},
		{"key id malformed", func(w *world) { w.apple[0].AppleAuthKeyID = "abc123" },
			"apns.key_id", "apple", Fail, []string{`"abc123" is not 10`}, "Key ID"},
		{"key id is not the file's", func(w *world) { w.apple[0].AppleAuthKeyID = "ZZZZZZZZZZ" },
			"apns.key_id", "apple", Fail, []string{`"ZZZZZZZZZZ"`, "AuthKey_" + set.APNsKey.KeyID}, `AppleAuthKeyID "` + set.APNsKey.KeyID + `"`},
		{"team of another account", func(w *world) { w.apple[0].AppleTeamID = otherKey.TeamID },
			"ios.team", "Chat.ipa ↔ apple", Fail, []string{otherKey.TeamID, set.TeamID}, `AppleTeamID "` + set.TeamID + `"`},
		{"p8 is RSA", func(w *world) { w.override[set.APNsKey.FileName()] = pemOf(w.t, rsaKey, false) },
			"apns.p8", "apple", Fail, []string{"RSA key"}, "download the key again"},
		{"p8 is P-384", func(w *world) { w.override[set.APNsKey.FileName()] = pemOf(w.t, p384, false) },
			"apns.p8", "apple", Fail, []string{"P-384"}, "download"},
		{"p8 is SEC 1", func(w *world) { w.override[set.APNsKey.FileName()] = pemOf(w.t, set.APNsKey.Key, true) },
			"apns.p8", "apple", Fail, []string{"SEC 1"}, "openssl pkcs8 -topk8"},
		{"p8 is not PEM", func(w *world) { w.override[set.APNsKey.FileName()] = []byte("hello") },
			"apns.p8", "apple", Fail, []string{"not PEM"}, "download"},
		{"development build against production proxy", func(w *world) { w.ios[0].apsEnv, w.ios[0].kind = "development", "development" },
			"ios.environment", "Chat.ipa ↔ apple", Fail, []string{"build registers development tokens", "ApplePushUseDevelopment=false", "BadDeviceToken"}, "ApplePushUseDevelopment true"},
		{"store build against development proxy", func(w *world) { w.ios[0].noProfile = true; w.apple[0].ApplePushUseDevelopment = true },
			"ios.environment", "Chat.ipa ↔ apple", Fail, []string{"production tokens", "Apple re-signed", "ApplePushUseDevelopment=true"}, "ApplePushUseDevelopment false"},
		{"App Store profile with development push", func(w *world) { w.ios[0].apsEnv = "development" },
			"ios.profile.distribution", "Chat.ipa", Fail, []string{"App Store / TestFlight"}, "production"},
		{"no push entitlement", func(w *world) { w.ios[0].apsEnv = "" },
			"ios.profile.push", "Chat.ipa", Fail, []string{"no aps-environment"}, "Push Notifications capability"},
		{"profile expired", func(w *world) { w.ios[0].expires = past },
			"ios.profile.expiry", "Chat.ipa", Fail, []string{"expired on " + past.UTC().Format(time.DateOnly)}, "regenerate the profile"},
		{"profile expires soon", func(w *world) { w.ios[0].expires = soon },
			"ios.profile.expiry", "Chat.ipa", Warn, []string{"in 9 days"}, "regenerate"},
		{"profile not signed by Apple", func(w *world) { w.ios[0].signer = otherApple },
			"ios.profile.signature", "Chat.ipa", Fail, []string{"Not Apple Root CA", "not trusted"}, "issued by Apple"},
		{"wildcard App ID", func(w *world) { w.ios[0].appID = set.TeamID + ".*" },
			"ios.profile.app_id", "Chat.ipa", Fail, []string{"wildcard"}, "explicit App ID"},
		{"application-identifier of another team", func(w *world) { w.ios[0].appIDTeam = otherKey.TeamID },
			"ios.team", "Chat.ipa ↔ apple", Fail, []string{`application-identifier prefix "` + otherKey.TeamID + `"`}, ""},
		{"certificate for production, proxy on development", func(w *world) {
			w.override["apns-dev.pem"] = apnsCert(w.t, set, set.CertBundleID, time.Now().Add(200*24*time.Hour), testpki.OIDAPNsProduction)
		}, "apns.cert.environment", "apple_rn", Fail, []string{"[production]", "development", "BadCertificateEnvironment"}, "ApplePushUseDevelopment false"},
		{"certificate of another app", func(w *world) { w.apple[1].ApplePushTopic = "com.example.wrong" },
			"apns.cert.topic", "apple_rn", Fail, []string{`"` + set.CertBundleID + `"`, `"com.example.wrong"`, "TopicDisallowed"}, ""},
		{"certificate expired", func(w *world) {
			w.override["apns-dev.pem"] = apnsCert(w.t, set, set.CertBundleID, past, testpki.OIDAPNsDevelopment)
		}, "apns.cert.expiry", "apple_rn", Fail, []string{"expired"}, "renew"},
		{"certificate expires soon", func(w *world) {
			w.override["apns-dev.pem"] = apnsCert(w.t, set, set.CertBundleID, soon, testpki.OIDAPNsDevelopment)
		}, "apns.cert.expiry", "apple_rn", Warn, []string{"in 9 days"}, "renew"},
		{"not an APNs certificate", func(w *world) { w.override["apns-dev.pem"] = append(set.Proxy.CertPEM(), set.Proxy.KeyPEM()...) },
			"apns.cert.apple", "apple_rn", Fail, []string{"not an Apple Push Services certificate"}, "Apple Push Notification service SSL"},
		{"certificate with another key", func(w *world) {
			w.override["apns-dev.pem"] = append(set.APNsDev.CertPEM(), set.APNsProd.KeyPEM()...)
		}, "apns.cert", "apple_rn", Fail, []string{"not the certificate's"}, "its own private key"},
		{"p12 with the wrong password", func(w *world) {
			w.override["apns-dev.p12"] = p12Of(w.t, devCertPEM, "right")
			w.apple[1].ApplePushCertPrivate, w.apple[1].ApplePushCertPassword = "apns-dev.p12", "wrong"
		}, "apns.cert", "apple_rn", Fail, []string{"password", "does not open"}, "ApplePushCertPassword"},
		{"p12 in AES, which apns2 cannot read", func(w *world) {
			l, _ := testpki.ParseLeafPEM(devCertPEM)
			p12, err := sslpkcs12.Modern2023.Encode(l.Key, l.Cert, nil, "right")
			if err != nil {
				w.t.Fatal(err)
			}
			w.override["apns-dev.p12"] = p12
			w.apple[1].ApplePushCertPrivate, w.apple[1].ApplePushCertPassword = "apns-dev.p12", "right"
		}, "apns.cert", "apple_rn", Fail, []string{"the password opens the .p12", "AES"}, "openssl pkcs12"},
		{"p12 works but upstream needs PEM", func(w *world) {
			w.override["apns-dev.p12"] = p12Of(w.t, devCertPEM, "right")
			w.apple[1].ApplePushCertPrivate, w.apple[1].ApplePushCertPassword = "apns-dev.p12", "right"
		}, "apns.cert.format", "apple_rn", Warn, []string{"upstream mattermost-push-proxy needs PEM"}, "openssl pkcs12"},
		{"no credentials", func(w *world) { w.apple[0].AppleAuthKeyFile = ""; w.apple[0].AppleAuthKeyID = "" },
			"apns.auth", "apple", Fail, []string{"neither token auth"}, "AppleAuthKeyFile"},
		{"package not in google-services", func(w *world) { w.andr.gsPackages = []string{"com.example.other"} },
			"android.package", "app-release.apk", Fail, []string{`"` + set.Package + `"`, "com.example.other"}, "Firebase console"},
		{"service account of another project", func(w *world) { w.override["service-account.json"] = otherSA.JSON() },
			"android.project", "app-release.apk", Fail, []string{`"chat-prod"`, `"chat-staging"`, "SENDER_ID_MISMATCH"}, `project "chat-prod"`},
		{"apk built with another project's file", func(w *world) { w.andr.apkSender, w.andr.apkProject = "999999999999", "chat-staging" },
			"android.sender_id", "app-release.apk", Fail, []string{`gcm_defaultSenderId "999999999999" ≠ project_number "` + set.Firebase.ProjectNumber + `"`, "SENDER_ID_MISMATCH"}, "rebuild"},
		{"google-services.json given as service account", func(w *world) {
			w.override["service-account.json"] = googleServicesJSON("chat-prod", "1", []string{"a.b"})
		}, "fcm.service_account", "android", Fail, []string{"google-services.json"}, "Service accounts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.mutate(w)
			r := runWorld(t, w)
			got := r.Find(tc.id, tc.subject)
			var hit *Check
			for i := range got {
				if got[i].Status == tc.status {
					hit = &got[i]
				}
			}
			if hit == nil {
				t.Fatalf("no %s %s check for %q:\n%s", tc.status, tc.id, tc.subject, dump(t, r))
			}
			for _, s := range tc.summary {
				if !strings.Contains(hit.Summary, s) {
					t.Errorf("summary %q lacks %q", hit.Summary, s)
				}
			}
			if hit.Fix == "" || !strings.Contains(hit.Fix, tc.fix) {
				t.Errorf("fix %q lacks %q", hit.Fix, tc.fix)
			}
			want := ExitFailed
			if tc.status == Warn {
				want = ExitOK
			}
			if r.ExitCode() != want {
				t.Errorf("exit %d, want %d:\n%s", r.ExitCode(), want, dump(t, r))
			}
		})
	}
}

// Unreadable inputs: exit 2, and the message names the file and the problem.
func TestUnreadable(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(w *world) Config
		file   string
		msg    string
	}{
		{"missing .ipa", func(w *world) Config { c := w.config(); c.IOS = []string{w.path("Nope.ipa")}; return c },
			"Nope.ipa", "no such file"},
		{".ipa that is not a zip", func(w *world) Config {
			w.ios = w.ios[:0]
			w.write("Bad.ipa", []byte("not a zip"))
			c := w.config()
			c.IOS = []string{w.path("Bad.ipa")}
			return c
		}, "Bad.ipa", "not an .ipa"},
		{"Info.plist garbage", func(w *world) Config {
			w.ios = w.ios[:0]
			w.write("Junk.app/Info.plist", []byte("<?xml version=\"1.0\"?><plist><dict><key>x</key>"))
			c := w.config()
			c.IOS = []string{w.path("Junk.app")}
			return c
		}, "Junk.app/Info.plist", "not a property list"},
		{"profile not CMS", func(w *world) Config {
			w.ios = w.ios[1:]
			c := w.config()
			os.WriteFile(w.path("Beta.app/embedded.mobileprovision"), []byte("<plist/>"), 0o600)
			return c
		}, "embedded.mobileprovision", "not a CMS"},
		{"aab", func(w *world) Config {
			w.write("app.aab", []byte("PK"))
			c := w.config()
			c.Android = []string{w.path("app.aab")}
			return c
		}, "app.aab", "bundletool build-apks"},
		{"config not JSON", func(w *world) Config {
			c := w.config()
			os.WriteFile(c.ConfigFile, []byte("{"), 0o600)
			return c
		}, "mattermost-push-proxy.json", "unexpected end of JSON"},
		{"missing key file", func(w *world) Config {
			w.apple[0].AppleAuthKeyFile = "AuthKey_ABCDEFGHIJ.p8"
			w.apple[0].AppleAuthKeyID = "ABCDEFGHIJ"
			return w.config()
		}, "AuthKey_ABCDEFGHIJ.p8", "no such file"},
		{"google-services not JSON", func(w *world) Config {
			c := w.config()
			os.WriteFile(c.GoogleServices[0], []byte("nope"), 0o600)
			return c
		}, "google-services.json", "not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.andr.apk = false
			cfg := tc.mutate(w)
			r := Run(context.Background(), cfg)
			if r.ExitCode() != ExitUnreadable {
				t.Fatalf("exit %d, want 2:\n%s", r.ExitCode(), dump(t, r))
			}
			var hit bool
			for _, c := range r.Checks {
				if c.Status == Error && strings.Contains(c.Summary, tc.file) && strings.Contains(c.Summary, tc.msg) {
					hit = true
				}
			}
			if !hit {
				t.Errorf("no error naming %q with %q:\n%s", tc.file, tc.msg, dump(t, r))
			}
		})
	}
}

func TestNoAAPT(t *testing.T) {
	w := newWorld(t)
	cfg := w.config()
	cfg.AAPT = "aapt-that-does-not-exist"
	r := Run(context.Background(), cfg)
	cs := r.Find("android.apk", "")
	if len(cs) != 1 || cs[0].Status != Error || !strings.Contains(cs[0].Summary, "apt-get install aapt") {
		t.Fatalf("want an instruction to install aapt:\n%s", dump(t, r))
	}
}

func TestGoogleServicesAlone(t *testing.T) {
	w := newWorld(t)
	w.apple, w.ios = nil, nil
	w.andr.apk = false
	cfg := w.config()
	cfg.AndroidPackage = w.set.Package
	r := Run(context.Background(), cfg)
	if r.ExitCode() != ExitOK {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), dump(t, r))
	}
	if c := r.Find("android.project", "google-services.json"); len(c) != 1 || c[0].Status != Pass {
		t.Fatalf("project not checked:\n%s", dump(t, r))
	}
}

func TestOutputs(t *testing.T) {
	w := newWorld(t)
	w.andr.apk = false
	w.apple[0].ApplePushTopic = "com.example.wrong"
	r := runWorld(t, w)

	var tbl bytes.Buffer
	r.WriteTable(&tbl, TableOptions{})
	if strings.Contains(tbl.String(), "\x1b[") {
		t.Error("colour without Color")
	}
	if !strings.Contains(tbl.String(), "FAIL    ios.topic") || !strings.Contains(tbl.String(), "→ fix: set ApplePushTopic") {
		t.Errorf("table:\n%s", tbl.String())
	}
	tbl.Reset()
	r.WriteTable(&tbl, TableOptions{Color: true})
	if !strings.Contains(tbl.String(), "\x1b[31;1mFAIL") {
		t.Errorf("no colour:\n%q", tbl.String())
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Checks) != len(r.Checks) || back.ExitCode() != ExitFailed {
		t.Errorf("JSON round trip: %d checks, exit %d", len(back.Checks), back.ExitCode())
	}

	var ju bytes.Buffer
	if err := r.WriteJUnit(&ju); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
		t.Fatalf("JUnit is not XML: %v", err)
	}
	if suites.Tests != len(r.Checks) || suites.Failures != r.Count(Fail) || suites.Failures == 0 {
		t.Errorf("JUnit counts: tests %d failures %d, report %d/%d", suites.Tests, suites.Failures, len(r.Checks), r.Count(Fail))
	}
	var failed bool
	for _, c := range suites.Suites[0].Cases {
		if c.Failure != nil && strings.HasPrefix(c.Name, "ios.topic") && strings.Contains(c.Failure.Body, "fix: ") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("ios.topic is not a JUnit failure with its fix:\n%s", ju.String())
	}
}

func TestFlagsReplaceConfigLists(t *testing.T) {
	w := newWorld(t)
	w.andr = nil
	cfg := w.config()
	cfg.ApplePushSettings = []proxy.ApplePushSettings{{Type: "apple", ApplePushTopic: "com.example.flag",
		AppleAuthKeyFile: w.path(w.set.APNsKey.FileName()), AppleAuthKeyID: w.set.APNsKey.KeyID, AppleTeamID: w.set.TeamID}}
	r := Run(context.Background(), cfg)
	if c := r.Find("apns.topic", "apple"); len(c) != 1 || !strings.Contains(c[0].Summary, "com.example.flag") {
		t.Fatalf("flag settings not used:\n%s", dump(t, r))
	}
	if len(r.Find("apns.auth", "apple_rn")) != 0 {
		t.Errorf("the file's apple_rn still checked")
	}
}

func p12Of(t testing.TB, certAndKey []byte, password string) []byte {
	t.Helper()
	l, err := testpki.ParseLeafPEM(certAndKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.P12(password)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The all-good inputs, sent through for real: every phone shows its notification.
func TestLiveAllGood(t *testing.T) {
	w := newWorld(t)
	cfg := w.config()
	cfg.Live = true
	r := Run(context.Background(), cfg)
	if r.ExitCode() != ExitOK {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), dump(t, r))
	}
	for _, want := range []struct{ id, subject string }{
		{"live.ios", "Chat.ipa ↔ apple"}, {"live.ios", "Beta.app ↔ apple_rn"}, {"live.android", "app-release.apk ↔ android"},
	} {
		cs := r.Find(want.id, want.subject)
		if len(cs) != 1 || cs[0].Status != Pass || !strings.Contains(cs[0].Summary, "displayed") {
			t.Errorf("%s %s: %+v\n%s", want.id, want.subject, cs, dump(t, r))
			continue
		}
		if tr := strings.Join(cs[0].Trace, "\n"); !strings.Contains(tr, string("device.displayed")) || !strings.Contains(tr, "proxy.acked") {
			t.Errorf("%s trace lacks display and ack:\n%s", want.subject, tr)
		}
	}
}

// A mismatch, sent through: the provider's own reason, and the input behind it.
func TestLiveShowsWhereItBroke(t *testing.T) {
	shared(t)
	set := sharedSet
	cases := []struct {
		name    string
		mutate  func(w *world)
		subject string
		reason  string
		input   string
	}{
		{"environment", func(w *world) { w.apple[0].ApplePushUseDevelopment = true }, "Chat.ipa ↔ apple", "BadDeviceToken", "ApplePushUseDevelopment=true"},
		{"swapped ids", func(w *world) { w.apple[0].AppleAuthKeyID, w.apple[0].AppleTeamID = set.TeamID, set.APNsKey.KeyID }, "Chat.ipa ↔ apple", "InvalidProviderToken", "AppleAuthKeyID"},
		{"topic", func(w *world) { w.ios[0].bundleID = "com.example.renamed"; w.apple = w.apple[:1] }, "Chat.ipa ↔ apple", "DeviceTokenNotForTopic", "ApplePushTopic"},
		{"other project", func(w *world) { w.override["service-account.json"] = otherSA.JSON() }, "app-release.apk ↔ android", "SENDER_ID_MISMATCH", "ServiceFileLocation"},
		{"apk of another sender", func(w *world) { w.andr.apkSender = "999999999999" }, "app-release.apk ↔ android", "SENDER_ID_MISMATCH", "compiled into app-release.apk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.mutate(w)
			cfg := w.config()
			cfg.Live = true
			r := Run(context.Background(), cfg)
			var hit *Check
			for _, c := range r.Checks {
				if strings.HasPrefix(c.ID, "live.") && c.Subject == tc.subject {
					hit = &c
				}
			}
			if hit == nil || hit.Status != Fail || !strings.Contains(hit.Summary, tc.reason) || !strings.Contains(hit.Input, tc.input) || hit.Fix == "" {
				t.Fatalf("want live failure %s caused by %s:\n%s", tc.reason, tc.input, dump(t, r))
			}
		})
	}
}

func TestStartLabKeepsRunning(t *testing.T) {
	w := newWorld(t)
	w.ios, w.apple = w.ios[:1], w.apple[:1]
	w.andr = nil
	cfg := w.config()
	lab, rep := StartLab(context.Background(), cfg)
	if lab == nil || rep.ExitCode() != ExitOK {
		t.Fatalf("lab %v, exit %d:\n%s", lab, rep.ExitCode(), dump(t, rep))
	}
	defer lab.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hops := lab.Hops(ctx)
	got := lab.Send(ctx, "second")
	if len(got) != 1 || got[0].Status != Pass || !strings.Contains(got[0].Summary, `"second"`) {
		t.Fatalf("second send: %+v", got)
	}
	for h := range hops {
		if h.Hop == "device.displayed" {
			return
		}
	}
	t.Fatal("no device.displayed hop streamed")
}

// One bundle id, two app types (production and development): a store build
// is served by the production one; the other is not a failure.
func TestOneTopicTwoEnvironments(t *testing.T) {
	w := newWorld(t)
	w.andr = nil
	dev := w.apple[0]
	dev.Type, dev.ApplePushUseDevelopment = "apple_dev", true
	w.apple = append(w.apple, dev)
	cfg := w.config()
	cfg.Live = true
	r := Run(context.Background(), cfg)
	if r.ExitCode() != ExitOK {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), dump(t, r))
	}
	if c := r.Find("ios.environment", "Chat.ipa ↔ apple_dev"); len(c) != 1 || c[0].Status != Skip || !strings.Contains(c[0].Summary, "served by apple") {
		t.Errorf("apple_dev: %+v", c)
	}
	if c := r.Find("live.ios", "Chat.ipa ↔ apple"); len(c) != 1 || c[0].Status != Pass {
		t.Errorf("live went through the wrong type:\n%s", dump(t, r))
	}
}
