package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sideshow/apns2/certificate"
	gopkcs12 "golang.org/x/crypto/pkcs12"
	sslpkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/testpki"
)

// appleIDPattern is the shape of Apple key ids and team ids.
var appleIDPattern = regexp.MustCompile(`^[A-Z0-9]{10}$`)

// authKeyName is the name Apple gives a downloaded key: AuthKey_<KEYID>.p8.
var authKeyName = regexp.MustCompile(`^AuthKey_([A-Za-z0-9]+)\.p8$`)

// Auth methods of an Apple app type, as upstream chooses them.
const (
	authToken = "token"
	authCert  = "certificate"
)

// appleType is one ApplePushSettings entry with the files it names, read.
type appleType struct {
	s    proxy.ApplePushSettings
	auth string

	keyFile   string
	key       *ecdsa.PrivateKey
	keyFileID string // from AuthKey_<ID>.p8

	certFile string
	cert     *x509.Certificate
	certTLS  tls.Certificate
}

// env is the APNs environment the proxy sends to for this type.
func (a *appleType) env() string {
	if a.s.ApplePushUseDevelopment {
		return "development"
	}
	return "production"
}

// certTeam is the team id in an Apple certificate's subject (OU).
func (a *appleType) certTeam() string {
	if a.cert == nil || len(a.cert.Subject.OrganizationalUnit) == 0 {
		return ""
	}
	return a.cert.Subject.OrganizationalUnit[0]
}

// androidType is one AndroidPushSettings entry with its service account read.
type androidType struct {
	s    proxy.AndroidPushSettings
	file string
	raw  []byte
	sa   *testpki.ServiceAccount
}

// resolver finds the files a config names: as given (the proxy's working
// directory is the caller's), else beside the config file.
type resolver struct{ configDir string }

func (r resolver) path(p string) string {
	if p == "" || filepath.IsAbs(p) || r.configDir == "" {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if alt := filepath.Join(r.configDir, p); fileExists(alt) {
		return alt
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readAppleType reads the key or certificate of one Apple app type and
// reports the checks that need only the proxy's side.
func (v *run) readAppleType(s proxy.ApplePushSettings) *appleType {
	a := &appleType{s: s}
	subj := s.Type
	switch {
	case s.AppleAuthKeyFile != "" && s.AppleAuthKeyID != "" && s.AppleTeamID != "":
		a.auth = authToken
	case s.ApplePushCertPrivate != "":
		a.auth = authCert
	}
	switch {
	case a.auth == "":
		v.add(Check{ID: "apns.auth", Subject: subj, Status: Fail, Input: "ApplePushSettings[" + s.Type + "]",
			Summary: "neither token auth (AppleAuthKeyFile + AppleAuthKeyID + AppleTeamID) nor a certificate (ApplePushCertPrivate) is configured",
			Fix:     "set AppleAuthKeyFile, AppleAuthKeyID and AppleTeamID (a .p8 key) or ApplePushCertPrivate (an APNs certificate)"})
	case a.auth == authCert && s.AppleAuthKeyFile != "":
		v.add(Check{ID: "apns.auth", Subject: subj, Status: Warn, Input: "ApplePushSettings[" + s.Type + "]",
			Summary: fmt.Sprintf("AppleAuthKeyFile is set but AppleAuthKeyID %q / AppleTeamID %q is empty: the proxy uses the certificate", s.AppleAuthKeyID, s.AppleTeamID),
			Fix:     "set both AppleAuthKeyID and AppleTeamID to use the .p8, or remove AppleAuthKeyFile"})
	default:
		v.add(Check{ID: "apns.auth", Subject: subj, Status: Pass,
			Summary: fmt.Sprintf("%s auth to APNs %s", a.auth, a.env())})
	}
	v.checkTopicShape(a)
	switch a.auth {
	case authToken:
		v.readP8(a)
	case authCert:
		v.readCert(a)
	}
	return a
}

// checkTopicShape: the topic is a bundle id; upstream adds ".voip" itself
// for VoIP pushes, so a topic that already ends in it doubles the suffix.
func (v *run) checkTopicShape(a *appleType) {
	t := a.s.ApplePushTopic
	in := "ApplePushTopic of " + a.s.Type
	switch {
	case t == "" && a.auth == authToken:
		v.add(Check{ID: "apns.topic", Subject: a.s.Type, Status: Fail, Input: in,
			Summary: "ApplePushTopic is empty: with token auth every push is rejected MissingTopic",
			Fix:     "set ApplePushTopic to the app's bundle id (CFBundleIdentifier)"})
	case t == "":
		v.add(Check{ID: "apns.topic", Subject: a.s.Type, Status: Warn, Input: in,
			Summary: "ApplePushTopic is empty: APNs takes the certificate's topic, but VoIP pushes go to \".voip\"",
			Fix:     "set ApplePushTopic to the app's bundle id (CFBundleIdentifier)"})
	case strings.HasSuffix(t, ".voip"):
		v.add(Check{ID: "apns.topic", Subject: a.s.Type, Status: Fail, Input: in,
			Summary: fmt.Sprintf("ApplePushTopic %q ends in .voip: the proxy adds .voip for VoIP pushes, so they go to %q (DeviceTokenNotForTopic), and alerts to a VoIP topic", t, t+".voip"),
			Fix:     fmt.Sprintf("set ApplePushTopic to the bundle id %q", strings.TrimSuffix(t, ".voip"))})
	default:
		v.add(Check{ID: "apns.topic", Subject: a.s.Type, Status: Pass,
			Summary: fmt.Sprintf("topic %q; VoIP pushes go to %q", t, t+".voip")})
	}
}

func (v *run) readP8(a *appleType) {
	s := a.s
	a.keyFile = v.res.path(s.AppleAuthKeyFile)
	subj, in := s.Type, "AppleAuthKeyFile "+a.keyFile
	if m := authKeyName.FindStringSubmatch(filepath.Base(a.keyFile)); m != nil {
		a.keyFileID = m[1]
	}
	// The key id and team id, before the file: a swap is the most common mistake.
	switch {
	case !appleIDPattern.MatchString(s.AppleAuthKeyID):
		v.add(Check{ID: "apns.key_id", Subject: subj, Status: Fail, Input: "AppleAuthKeyID of " + s.Type,
			Summary: fmt.Sprintf("AppleAuthKeyID %q is not 10 upper-case letters or digits", s.AppleAuthKeyID),
			Fix:     "copy the Key ID from developer.apple.com → Keys (it is in the file name AuthKey_<KEYID>.p8)"})
	case s.AppleAuthKeyID == s.AppleTeamID:
		v.add(Check{ID: "apns.key_id", Subject: subj, Status: Fail, Input: "AppleAuthKeyID of " + s.Type,
			Summary: fmt.Sprintf("AppleAuthKeyID and AppleTeamID are both %q: one of them is wrong (InvalidProviderToken)", s.AppleAuthKeyID),
			Fix:     "AppleAuthKeyID is the Key ID of the .p8, AppleTeamID the Team ID from Membership details"})
	case a.keyFileID != "" && a.keyFileID == s.AppleTeamID:
		v.add(Check{ID: "apns.key_id", Subject: subj, Status: Fail, Input: "AppleAuthKeyID / AppleTeamID of " + s.Type,
			Summary: fmt.Sprintf("key id and team id are swapped: the file is AuthKey_%s.p8 but AppleTeamID is %q and AppleAuthKeyID %q (InvalidProviderToken)", a.keyFileID, s.AppleTeamID, s.AppleAuthKeyID),
			Fix:     fmt.Sprintf("set AppleAuthKeyID %q and AppleTeamID %q", a.keyFileID, s.AppleAuthKeyID)})
	case a.keyFileID != "" && a.keyFileID != s.AppleAuthKeyID:
		v.add(Check{ID: "apns.key_id", Subject: subj, Status: Fail, Input: "AppleAuthKeyID of " + s.Type,
			Summary: fmt.Sprintf("AppleAuthKeyID %q, but the key file is AuthKey_%s.p8 (InvalidProviderToken)", s.AppleAuthKeyID, a.keyFileID),
			Fix:     fmt.Sprintf("set AppleAuthKeyID %q, or point AppleAuthKeyFile at AuthKey_%s.p8", a.keyFileID, s.AppleAuthKeyID)})
	default:
		note := ""
		if a.keyFileID == "" {
			note = " (file not named AuthKey_<KEYID>.p8: the id could not be cross-checked)"
		}
		v.add(Check{ID: "apns.key_id", Subject: subj, Status: Pass,
			Summary: fmt.Sprintf("key id %q, distinct from team id %q%s", s.AppleAuthKeyID, s.AppleTeamID, note)})
	}
	if !appleIDPattern.MatchString(s.AppleTeamID) {
		v.add(Check{ID: "apns.team_id", Subject: subj, Status: Fail, Input: "AppleTeamID of " + s.Type,
			Summary: fmt.Sprintf("AppleTeamID %q is not 10 upper-case letters or digits", s.AppleTeamID),
			Fix:     "copy the Team ID from developer.apple.com → Membership details"})
	}

	b, err := os.ReadFile(a.keyFile)
	if err != nil {
		v.unreadable(subj, "apns.p8", a.keyFile, unwrapPathErr(err))
		return
	}
	key, summary, fix := parseP8(b)
	if key == nil {
		v.add(Check{ID: "apns.p8", Subject: subj, Status: Fail, Input: in, Summary: summary, Fix: fix})
		return
	}
	a.key = key
	fp := testpki.Fingerprint(&key.PublicKey)
	v.fingerprint(a.keyFile, fp)
	v.add(Check{ID: "apns.p8", Subject: subj, Status: Pass, Summary: "PKCS#8 EC P-256 key, public key " + fp})
}

// parseP8 reads an APNs auth key: PKCS#8 PEM holding an EC P-256 key. On
// failure it says what the file is instead, and the fix.
func parseP8(b []byte) (key *ecdsa.PrivateKey, summary, fix string) {
	const download = "download the key again from developer.apple.com → Keys (a .p8 can be downloaded once; else revoke and create one)"
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, "not PEM: a .p8 starts with -----BEGIN PRIVATE KEY-----", download
	}
	switch block.Type {
	case "PRIVATE KEY":
	case "EC PRIVATE KEY":
		return nil, "an EC PRIVATE KEY (SEC 1) block: apns2 and upstream read only PKCS#8 (BEGIN PRIVATE KEY)",
			"convert it: openssl pkcs8 -topk8 -nocrypt -in key.pem -out AuthKey_KEYID.p8"
	case "ENCRYPTED PRIVATE KEY":
		return nil, "an encrypted key: the proxy cannot read a passphrase-protected .p8",
			"decrypt it: openssl pkcs8 -in key.p8 -out AuthKey_KEYID.p8 -nocrypt"
	default:
		return nil, fmt.Sprintf("a PEM %q block, not a PRIVATE KEY", block.Type), download
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, "PKCS#8 does not parse: " + err.Error(), download
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Sprintf("a %s key: an APNs auth key is EC P-256", keyKind(k)), download
	}
	if ek.Curve != elliptic.P256() {
		return nil, fmt.Sprintf("an EC %s key: APNs signs ES256 with P-256", ek.Curve.Params().Name), download
	}
	return ek, "", ""
}

func keyKind(k any) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "EC"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", k), "*")
}

// readCert reads an APNs certificate (PEM or .p12) and checks it is one
// for this type's topic and environment, in date, with its key.
func (v *run) readCert(a *appleType) {
	s := a.s
	a.certFile = v.res.path(s.ApplePushCertPrivate)
	subj, in := s.Type, "ApplePushCertPrivate "+a.certFile
	b, err := os.ReadFile(a.certFile)
	if err != nil {
		v.unreadable(subj, "apns.cert", a.certFile, unwrapPathErr(err))
		return
	}
	isPEM := bytes.Contains(b, []byte("-----BEGIN"))
	var c tls.Certificate
	if isPEM {
		c, err = certificate.FromPemBytes(b, s.ApplePushCertPassword)
	} else {
		c, err = certificate.FromP12Bytes(b, s.ApplePushCertPassword)
	}
	if err != nil {
		sum, fix := "does not load: "+err.Error(), "export the certificate with its private key again from Keychain Access (Apple Push Services: <bundle id>)"
		switch {
		case errors.Is(err, gopkcs12.ErrIncorrectPassword):
			sum, fix = "the password (ApplePushCertPassword) does not open the .p12", "set ApplePushCertPassword to the export password"
		case !isPEM && opensWithModernReader(b, s.ApplePushCertPassword):
			sum = "the password opens the .p12, but it is encrypted with AES (PBES2, as recent Keychain and OpenSSL 3 export), which apns2 cannot read: " + err.Error()
			fix = "convert it to PEM (openssl pkcs12 -in cert.p12 -out cert.pem -nodes) and point ApplePushCertPrivate at the .pem"
		case errors.Is(err, certificate.ErrFailedToDecryptKey):
			sum, fix = "the password (ApplePushCertPassword) does not decrypt the PEM key", "set ApplePushCertPassword to the key's passphrase"
		case errors.Is(err, certificate.ErrNoPrivateKey):
			sum = "the file has no private key: the proxy needs the certificate and its key"
		}
		v.add(Check{ID: "apns.cert", Subject: subj, Status: Fail, Input: in, Summary: sum, Fix: fix})
		return
	}
	leaf := c.Leaf
	if leaf == nil && len(c.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	if leaf == nil {
		v.add(Check{ID: "apns.cert", Subject: subj, Status: Fail, Input: in, Summary: "no certificate in the file",
			Fix: "export the certificate with its private key from Keychain Access"})
		return
	}
	a.cert, a.certTLS = leaf, c
	fp := testpki.Fingerprint(leaf.PublicKey)
	v.fingerprint(a.certFile, fp)
	if pub, ok := c.PrivateKey.(crypto.Signer); !ok || !publicEqual(pub.Public(), leaf.PublicKey) {
		v.add(Check{ID: "apns.cert", Subject: subj, Status: Fail, Input: in,
			Summary: "the private key in the file is not the certificate's (public halves differ)",
			Fix:     "export the certificate together with its own private key (Keychain Access → My Certificates)"})
		return
	}
	v.add(Check{ID: "apns.cert", Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("%q, key matches, public key %s", leaf.Subject.CommonName, fp)})

	if !isPEM {
		v.add(Check{ID: "apns.cert.format", Subject: subj, Status: Warn, Input: in,
			Summary: "a .p12: pushlab reads it, upstream mattermost-push-proxy needs PEM (certificate and key in one file)",
			Fix:     "openssl pkcs12 -in cert.p12 -out cert.pem -nodes (add -legacy on OpenSSL 3), and point ApplePushCertPrivate at it"})
	}

	topic, envs := testpki.BundleID(leaf), testpki.APNsEnvironments(leaf)
	if topic == "" || len(envs) == 0 {
		v.add(Check{ID: "apns.cert.apple", Subject: subj, Status: Fail, Input: in,
			Summary: fmt.Sprintf("%q is not an Apple Push Services certificate (UID bundle id %q, APNs extensions %v)", leaf.Subject.CommonName, topic, envs),
			Fix:     "create an Apple Push Notification service SSL certificate for the App ID in developer.apple.com → Certificates"})
	} else {
		switch {
		case a.s.ApplePushTopic != "" && a.s.ApplePushTopic != topic && a.s.ApplePushTopic != topic+".voip":
			v.add(Check{ID: "apns.cert.topic", Subject: subj, Status: Fail, Input: in,
				Summary: fmt.Sprintf("certificate is for %q, ApplePushTopic is %q (TopicDisallowed)", topic, a.s.ApplePushTopic),
				Fix:     fmt.Sprintf("use the push certificate of %q, or set ApplePushTopic %q", a.s.ApplePushTopic, topic)})
		default:
			v.add(Check{ID: "apns.cert.topic", Subject: subj, Status: Pass, Summary: fmt.Sprintf("certificate topic %q", topic)})
		}
		if !slices.Contains(envs, testpki.Environment(a.env())) {
			v.add(Check{ID: "apns.cert.environment", Subject: subj, Status: Fail, Input: in,
				Summary: fmt.Sprintf("certificate is for %v, ApplePushUseDevelopment=%v sends to %s (BadCertificateEnvironment)", envs, a.s.ApplePushUseDevelopment, a.env()),
				Fix:     fmt.Sprintf("use a %s (or universal) push certificate, or set ApplePushUseDevelopment %v", a.env(), !a.s.ApplePushUseDevelopment)})
		} else {
			v.add(Check{ID: "apns.cert.environment", Subject: subj, Status: Pass,
				Summary: fmt.Sprintf("certificate valid for %v, proxy sends to %s", envs, a.env())})
		}
	}
	v.add(expiryCheck("apns.cert.expiry", subj, in, "certificate", leaf.NotBefore, leaf.NotAfter, v.now,
		"renew the APNs certificate in developer.apple.com → Certificates (or move to a .p8 key, which does not expire)"))
}

// opensWithModernReader tells whether a .p12 that apns2's reader (the
// legacy x/crypto/pkcs12) rejects opens with a reader of today's encryption.
func opensWithModernReader(b []byte, password string) bool {
	_, _, _, err := sslpkcs12.DecodeChain(b, password)
	return err == nil
}

// expiryCheck fails past notAfter or before notBefore, warns within 30 days.
func expiryCheck(id, subj, input, what string, notBefore, notAfter, now time.Time, fix string) Check {
	left := notAfter.Sub(now)
	days := int(left.Hours() / 24)
	switch {
	case !notBefore.IsZero() && now.Before(notBefore):
		return Check{ID: id, Subject: subj, Status: Fail, Input: input, Fix: fix,
			Summary: fmt.Sprintf("%s is not valid before %s", what, notBefore.UTC().Format(time.DateOnly))}
	case left <= 0:
		return Check{ID: id, Subject: subj, Status: Fail, Input: input, Fix: fix,
			Summary: fmt.Sprintf("%s expired on %s", what, notAfter.UTC().Format(time.DateOnly))}
	case left < 30*24*time.Hour:
		return Check{ID: id, Subject: subj, Status: Warn, Input: input, Fix: fix,
			Summary: fmt.Sprintf("%s expires on %s, in %d days", what, notAfter.UTC().Format(time.DateOnly), days)}
	}
	return Check{ID: id, Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("%s valid until %s (%d days)", what, notAfter.UTC().Format(time.DateOnly), days)}
}

func publicEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

// readAndroidType reads the service account an Android app type names.
func (v *run) readAndroidType(s proxy.AndroidPushSettings) *androidType {
	a := &androidType{s: s, file: v.res.path(s.ServiceFileLocation)}
	subj, in := s.Type, "ServiceFileLocation "+a.file
	if s.ServiceFileLocation == "" {
		v.add(Check{ID: "fcm.service_account", Subject: subj, Status: Fail, Input: "ServiceFileLocation of " + s.Type,
			Summary: "ServiceFileLocation is empty: the proxy cannot send to FCM",
			Fix:     "download a key in Firebase console → Project settings → Service accounts, and set ServiceFileLocation to it"})
		return a
	}
	b, err := os.ReadFile(a.file)
	if err != nil {
		v.unreadable(subj, "fcm.service_account", a.file, unwrapPathErr(err))
		return a
	}
	var probe map[string]any
	if err := json.Unmarshal(b, &probe); err != nil {
		v.unreadable(subj, "fcm.service_account", a.file, fmt.Errorf("not JSON: %w", err))
		return a
	}
	const fix = "download a new key in Firebase console → Project settings → Service accounts → Generate new private key"
	if _, ok := probe["project_info"]; ok {
		v.add(Check{ID: "fcm.service_account", Subject: subj, Status: Fail, Input: in,
			Summary: "this is a google-services.json (the app's config), not a service-account key", Fix: fix})
		return a
	}
	sa, err := testpki.ParseServiceAccount(b)
	if err != nil {
		v.add(Check{ID: "fcm.service_account", Subject: subj, Status: Fail, Input: in,
			Summary: strings.TrimPrefix(err.Error(), "testpki: "), Fix: fix})
		return a
	}
	if err := sa.Key.Validate(); err != nil {
		v.add(Check{ID: "fcm.service_account", Subject: subj, Status: Fail, Input: in,
			Summary: "private_key is inconsistent: " + err.Error(), Fix: fix})
		return a
	}
	if sa.ProjectID == "" || sa.ClientEmail == "" || sa.PrivateKeyID == "" {
		v.add(Check{ID: "fcm.service_account", Subject: subj, Status: Fail, Input: in,
			Summary: fmt.Sprintf("project_id %q, client_email %q, private_key_id %q: none may be empty", sa.ProjectID, sa.ClientEmail, sa.PrivateKeyID), Fix: fix})
		return a
	}
	a.sa, a.raw = sa, b
	fp := testpki.Fingerprint(&sa.Key.PublicKey)
	v.fingerprint(a.file, fp)
	v.add(Check{ID: "fcm.service_account", Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("%s of project %q, RSA key %s", sa.ClientEmail, sa.ProjectID, fp)})
	return a
}
