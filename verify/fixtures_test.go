package verify

import (
	"archive/zip"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/testpki"
)

// Fixture generators: everything a team would hand to verify, made here
// from a testpki set and a test "Apple" CA. No real artefact is committed.

// testApple is a stand-in for Apple's profile-signing PKI: root →
// intermediate → "Apple iPhone OS Provisioning Profile Signing".
type testApple struct {
	root, inter, signer *x509.Certificate
	signerKey           *ecdsa.PrivateKey
}

func newTestApple(t testing.TB, rootName string) *testApple {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, key
	}
	now := time.Now()
	ca := func(cn string, serial int64) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Apple Inc."}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
	}
	a := &testApple{}
	var rootKey, interKey *ecdsa.PrivateKey
	a.root, rootKey = mk(ca(rootName, 1), nil, nil)
	a.inter, interKey = mk(ca("Apple iPhone Certification Authority", 2), a.root, rootKey)
	a.signer, a.signerKey = mk(&x509.Certificate{SerialNumber: big.NewInt(3),
		Subject:   pkix.Name{CommonName: "Apple iPhone OS Provisioning Profile Signing", Organization: []string{"Apple Inc."}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature},
		a.inter, interKey)
	return a
}

// sign wraps content in CMS signed data as Apple signs profiles.
func (a *testApple) sign(t testing.TB, content []byte) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.AddSignerChain(a.signer, a.signerKey, []*x509.Certificate{a.inter, a.root}, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

var (
	sharedOnce  sync.Once
	sharedSet   *testpki.Set
	sharedApple *testApple
	otherApple  *testApple
	otherKey    *testpki.APNsKey
	otherSA     *testpki.ServiceAccount
	devCertPEM  []byte // apple_rn's development certificate, OU = the team (as Apple issues them)
)

// shared makes the slow parts (RSA keys) once per test binary.
func shared(t testing.TB) {
	t.Helper()
	sharedOnce.Do(func() {
		var err error
		if sharedSet, err = testpki.NewSet(testpki.Options{Package: "com.example.chat", ProjectID: "chat-prod"}); err != nil {
			t.Fatal(err)
		}
		sharedApple = newTestApple(t, "Test Apple Root CA")
		otherApple = newTestApple(t, "Not Apple Root CA")
		if otherKey, err = testpki.NewAPNsKey(""); err != nil {
			t.Fatal(err)
		}
		if otherSA, err = testpki.NewServiceAccount("chat-staging", ""); err != nil {
			t.Fatal(err)
		}
		devCertPEM = apnsCert(t, sharedSet, sharedSet.CertBundleID, time.Now().Add(300*24*time.Hour), testpki.OIDAPNsDevelopment)
	})
	if sharedSet == nil {
		t.Fatal("shared fixtures failed")
	}
}

// iosBuild describes one fake iOS build.
type iosBuild struct {
	file        string // "Chat.ipa", "Beta.app", "Chat.xcarchive"
	bundleID    string
	binaryPlist bool
	noProfile   bool
	team        string // TeamIdentifier
	appIDTeam   string // application-identifier prefix ("" = team)
	appID       string // full application-identifier override
	apsEnv      string // "" = no entitlement
	kind        string // development, ad-hoc, app-store, enterprise
	expires     time.Time
	signer      *testApple
}

// androidBuild describes google-services.json and the .apk.
type androidBuild struct {
	gsProject, gsNumber string
	gsPackages          []string
	apk                 bool
	apkPackage          string
	apkSender           string // "" = gsNumber
	apkProject          string // "" = gsProject
}

// world is one team's inputs: the proxy config and the files it names, and
// the app builds.
type world struct {
	t     testing.TB
	dir   string
	set   *testpki.Set
	apple []proxy.ApplePushSettings
	droid []proxy.AndroidPushSettings
	ios   []iosBuild
	andr  *androidBuild
	// file contents to write instead of the generated ones, by name
	override map[string][]byte
	extra    []string // extra inputs for Config.IOS
}

// newWorld is the all-good case: a token-auth production app, a
// certificate-auth development app, and an Android app, all consistent.
func newWorld(t testing.TB) *world {
	t.Helper()
	shared(t)
	set := sharedSet
	w := &world{t: t, dir: t.TempDir(), set: set, override: map[string][]byte{}}
	w.apple = []proxy.ApplePushSettings{
		{Type: "apple", ApplePushTopic: set.BundleID, AppleAuthKeyFile: set.APNsKey.FileName(), AppleAuthKeyID: set.APNsKey.KeyID, AppleTeamID: set.TeamID},
		{Type: "apple_rn", ApplePushUseDevelopment: true, ApplePushTopic: set.CertBundleID, ApplePushCertPrivate: "apns-dev.pem"},
	}
	w.droid = []proxy.AndroidPushSettings{{Type: "android", ServiceFileLocation: "service-account.json"}}
	year := time.Now().Add(300 * 24 * time.Hour)
	w.ios = []iosBuild{
		{file: "Chat.ipa", bundleID: set.BundleID, binaryPlist: true, team: set.TeamID, apsEnv: "production", kind: "app-store", expires: year, signer: sharedApple},
		{file: "Beta.app", bundleID: set.CertBundleID, team: set.TeamID, apsEnv: "development", kind: "development", expires: year, signer: sharedApple},
	}
	w.andr = &androidBuild{gsProject: set.Firebase.ProjectID, gsNumber: set.Firebase.ProjectNumber,
		gsPackages: []string{set.Package, "com.example.other"}, apk: true, apkPackage: set.Package}
	return w
}

func (w *world) path(name string) string { return filepath.Join(w.dir, name) }

func (w *world) write(name string, b []byte) {
	w.t.Helper()
	if o, ok := w.override[name]; ok {
		b = o
	}
	if err := os.MkdirAll(filepath.Dir(w.path(name)), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(w.path(name), b, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// config writes every file and returns the verify configuration.
func (w *world) config() Config {
	w.t.Helper()
	set := w.set
	w.write(set.APNsKey.FileName(), set.APNsKey.PEM())
	w.write("apns-dev.pem", devCertPEM)
	w.write("service-account.json", set.Firebase.JSON())
	for name, b := range w.override {
		if !fileExists(w.path(name)) {
			w.write(name, b)
		}
	}
	cfg := proxy.DefaultConfig()
	cfg.ApplePushSettings, cfg.AndroidPushSettings = w.apple, w.droid
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		w.t.Fatal(err)
	}
	w.write("mattermost-push-proxy.json", b)
	c := Config{ConfigFile: w.path("mattermost-push-proxy.json"), AppleRoots: []*x509.Certificate{sharedApple.root}}
	for _, b := range w.ios {
		c.IOS = append(c.IOS, w.writeIOS(b))
	}
	c.IOS = append(c.IOS, w.extra...)
	if a := w.andr; a != nil {
		c.GoogleServices = append(c.GoogleServices, w.writeGoogleServices(a))
		if a.apk {
			c.Android = append(c.Android, w.writeAPK(a))
		}
	}
	return c
}

func (w *world) infoPlist(b iosBuild) []byte {
	format := plist.XMLFormat
	if b.binaryPlist {
		format = plist.BinaryFormat
	}
	out, err := plist.Marshal(map[string]any{"CFBundleIdentifier": b.bundleID, "CFBundleShortVersionString": "2.31.0",
		"CFBundleVersion": "650", "CFBundleExecutable": "Chat"}, format)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) profile(b iosBuild) []byte {
	ent := map[string]any{}
	appID := b.appID
	if appID == "" {
		prefix := b.appIDTeam
		if prefix == "" {
			prefix = b.team
		}
		appID = prefix + "." + b.bundleID
	}
	ent[EntitlementAppID] = appID
	ent[EntitlementTeamID] = b.team
	if b.apsEnv != "" {
		ent[EntitlementAPSEnvironment] = b.apsEnv
	}
	ent[EntitlementGetTaskAllow] = b.kind == "development"
	p := map[string]any{
		"AppIDName": "Chat", "Name": "Chat " + b.kind, "UUID": "6F1C3A4B-1D2E-4F00-9A8B-0C1D2E3F4A5B",
		"TeamIdentifier": []string{b.team}, "TeamName": "Example Corp",
		"CreationDate": time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second), "ExpirationDate": b.expires.UTC().Truncate(time.Second),
		"Entitlements": ent, "Version": 1,
	}
	switch b.kind {
	case "development", "ad-hoc":
		p["ProvisionedDevices"] = []string{"00008110-000A1B2C3D4E5F60"}
	case "enterprise":
		p["ProvisionsAllDevices"] = true
	}
	out, err := plist.MarshalIndent(p, plist.XMLFormat, "\t")
	if err != nil {
		w.t.Fatal(err)
	}
	return b.signer.sign(w.t, out)
}

// writeIOS writes the build as its file kind says: a zipped .ipa (with an
// app extension whose Info.plist must not be taken for the app's), an
// unpacked .app, or an .xcarchive.
func (w *world) writeIOS(b iosBuild) string {
	w.t.Helper()
	info := w.infoPlist(b)
	var prof []byte
	if !b.noProfile {
		prof = w.profile(b)
	}
	switch {
	case strings.HasSuffix(b.file, ".ipa"):
		var files = map[string][]byte{
			"Payload/Chat.app/Info.plist":                                   info,
			"Payload/Chat.app/Chat":                                         []byte("\xcf\xfa\xed\xfe"),
			"Payload/Chat.app/PlugIns/Share.appex/Info.plist":               w.infoPlist(iosBuild{bundleID: b.bundleID + ".share"}),
			"Payload/Chat.app/PlugIns/Share.appex/embedded.mobileprovision": []byte("not this one"),
		}
		if prof != nil {
			files["Payload/Chat.app/embedded.mobileprovision"] = prof
		}
		w.write(b.file, zipOf(w.t, files))
		return w.path(b.file)
	case strings.HasSuffix(b.file, ".xcarchive"):
		app := filepath.Join(b.file, "Products", "Applications", "Chat.app")
		w.write(filepath.Join(b.file, "Info.plist"), w.infoPlist(iosBuild{bundleID: "archive.not.the.app"}))
		w.write(filepath.Join(app, "Info.plist"), info)
		if prof != nil {
			w.write(filepath.Join(app, "embedded.mobileprovision"), prof)
		}
		return w.path(b.file)
	default:
		w.write(filepath.Join(b.file, "Info.plist"), info)
		if prof != nil {
			w.write(filepath.Join(b.file, "embedded.mobileprovision"), prof)
		}
		return w.path(b.file)
	}
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf strings.Builder
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(buf.String())
}

func appIDFor(number, pkg string) string {
	return fmt.Sprintf("1:%s:android:%.8x", number, pkg)
}

func googleServicesJSON(project, number string, packages []string) []byte {
	type androidClientInfo struct {
		PackageName string `json:"package_name"`
	}
	type clientInfo struct {
		MobileSDKAppID    string            `json:"mobilesdk_app_id"`
		AndroidClientInfo androidClientInfo `json:"android_client_info"`
	}
	type client struct {
		ClientInfo  clientInfo          `json:"client_info"`
		OAuthClient []any               `json:"oauth_client"`
		APIKey      []map[string]string `json:"api_key"`
	}
	var clients []client
	for _, p := range packages {
		clients = append(clients, client{ClientInfo: clientInfo{MobileSDKAppID: appIDFor(number, p), AndroidClientInfo: androidClientInfo{p}},
			OAuthClient: []any{}, APIKey: []map[string]string{{"current_key": "AIzaSyFAKE-" + p}}})
	}
	b, _ := json.MarshalIndent(map[string]any{
		"project_info":          map[string]string{"project_number": number, "project_id": project, "storage_bucket": project + ".appspot.com"},
		"client":                clients,
		"configuration_version": "1",
	}, "", "  ")
	return b
}

func (w *world) writeGoogleServices(a *androidBuild) string {
	w.write("google-services.json", googleServicesJSON(a.gsProject, a.gsNumber, a.gsPackages))
	return w.path("google-services.json")
}

// writeAPK builds a real .apk with aapt: a manifest without android:
// attributes needs no android.jar; the string resources are the ones the
// google-services Gradle plugin generates.
func (w *world) writeAPK(a *androidBuild) string {
	w.t.Helper()
	aapt := requireAAPT(w.t)
	sender, project := a.apkSender, a.apkProject
	if sender == "" {
		sender = a.gsNumber
	}
	if project == "" {
		project = a.gsProject
	}
	src := filepath.Join(w.dir, "apk-src")
	w.write(filepath.Join("apk-src", "AndroidManifest.xml"), fmt.Appendf(nil,
		`<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="%s"/>
`, a.apkPackage))
	w.write(filepath.Join("apk-src", "res", "values", "values.xml"), fmt.Appendf(nil,
		`<?xml version="1.0" encoding="utf-8"?>
<resources>
  <string name="google_app_id" translatable="false">%s</string>
  <string name="gcm_defaultSenderId" translatable="false">%s</string>
  <string name="project_id" translatable="false">%s</string>
  <string name="google_api_key" translatable="false">AIzaSyFAKE</string>
  <string name="app_name">Chat</string>
</resources>
`, appIDFor(sender, a.apkPackage), sender, project))
	out := w.path("app-release.apk")
	cmd := exec.Command(aapt, "package", "-f", "-M", filepath.Join(src, "AndroidManifest.xml"), "-S", filepath.Join(src, "res"), "-F", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("aapt package: %v\n%s", err, b)
	}
	return out
}

// requireAAPT finds aapt; without it the test is skipped, except in CI,
// where .ci/run installs it and a skip would hide a broken check.
func requireAAPT(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("aapt")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("aapt is not on PATH under CI (.ci/run installs it): %v", err)
		}
		t.Skip("aapt not on PATH (apt-get install aapt)")
	}
	return p
}

// pemOf encodes a key as PKCS#8 PEM, or SEC 1 with sec1.
func pemOf(t testing.TB, k crypto.Signer, sec1 bool) []byte {
	t.Helper()
	if sec1 {
		der, err := x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// apnsCert issues an APNs certificate from the set's CA with chosen dates.
func apnsCert(t testing.TB, set *testpki.Set, bundleID string, notAfter time.Time, envs ...asn1.ObjectIdentifier) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject: pkix.Name{CommonName: "Apple Push Services: " + bundleID, OrganizationalUnit: []string{set.TeamID},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: testpki.OIDUserID, Value: bundleID}}},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, oid := range envs {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oid, Value: []byte{0x05, 0x00}})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, set.CA.Cert, &key.PublicKey, set.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pemOf(t, key, false)...)
}
