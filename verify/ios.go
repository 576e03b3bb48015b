package verify

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"
)

// IOSApp is what an iOS build has compiled in that push depends on.
type IOSApp struct {
	// Path is the .ipa, .app or .xcarchive read.
	Path string `json:"path"`
	// BundleID is CFBundleIdentifier of the app's Info.plist.
	BundleID string `json:"bundle_id"`
	Version  string `json:"version,omitempty"` // CFBundleShortVersionString (CFBundleVersion)
	// PlistFormat is "binary" or "xml".
	PlistFormat string `json:"plist_format"`
	// Profile is embedded.mobileprovision; nil when the build has none (an
	// App Store build re-signed by Apple).
	Profile *Profile `json:"profile,omitempty"`
}

// Profile is a provisioning profile: the plist inside the CMS envelope, and
// who signed the envelope.
type Profile struct {
	Name                 string         `plist:"Name" json:"name"`
	UUID                 string         `plist:"UUID" json:"uuid"`
	AppIDName            string         `plist:"AppIDName" json:"app_id_name,omitempty"`
	TeamIdentifier       []string       `plist:"TeamIdentifier" json:"team_identifier"`
	TeamName             string         `plist:"TeamName" json:"team_name,omitempty"`
	CreationDate         time.Time      `plist:"CreationDate" json:"creation_date"`
	ExpirationDate       time.Time      `plist:"ExpirationDate" json:"expiration_date"`
	ProvisionedDevices   []string       `plist:"ProvisionedDevices" json:"-"`
	ProvisionsAllDevices bool           `plist:"ProvisionsAllDevices" json:"provisions_all_devices,omitempty"`
	Entitlements         map[string]any `plist:"Entitlements" json:"-"`

	// Signer is the subject of the certificate that signed the envelope,
	// Chain the subjects up to the root it ends at, and Trusted whether that
	// root is one of the trusted roots (Apple's, unless Config.AppleRoots).
	Signer       string   `plist:"-" json:"signer"`
	Chain        []string `plist:"-" json:"chain"`
	Trusted      bool     `plist:"-" json:"trusted"`
	SignatureErr string   `plist:"-" json:"signature_error,omitempty"`
	DeviceCount  int      `plist:"-" json:"provisioned_devices"`
}

// Entitlement names push depends on.
const (
	EntitlementAPSEnvironment = "aps-environment"
	EntitlementAppID          = "application-identifier"
	EntitlementTeamID         = "com.apple.developer.team-identifier"
	EntitlementGetTaskAllow   = "get-task-allow"
)

// APSEnvironment is the aps-environment entitlement ("development",
// "production"; "" when absent).
func (p *Profile) APSEnvironment() string {
	return entString(p.Entitlements, EntitlementAPSEnvironment)
}

// AppID is the application-identifier entitlement ("TEAMID.bundle.id").
func (p *Profile) AppID() string { return entString(p.Entitlements, EntitlementAppID) }

// EntitledTeam is the com.apple.developer.team-identifier entitlement.
func (p *Profile) EntitledTeam() string { return entString(p.Entitlements, EntitlementTeamID) }

// Kind tells the distribution the profile is for: "development",
// "ad-hoc", "enterprise" or "app-store" (App Store and TestFlight).
func (p *Profile) Kind() string {
	switch {
	case p.Entitlements[EntitlementGetTaskAllow] == true:
		return "development"
	case p.ProvisionsAllDevices:
		return "enterprise"
	case len(p.ProvisionedDevices) > 0:
		return "ad-hoc"
	}
	return "app-store"
}

func entString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// InputError is an input that could not be read at all.
type InputError struct {
	File string // the file (for an archive: archive!member)
	Err  error
}

func (e *InputError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(file string, format string, args ...any) *InputError {
	return &InputError{File: file, Err: fmt.Errorf(format, args...)}
}

// maxMember bounds what is read of one file inside an archive: an Info.plist
// or a profile is a few kilobytes; a hostile zip may claim anything.
const maxMember = 8 << 20

//go:embed apple_root_ca.pem
var appleRootPEM []byte

// AppleRootCA is Apple Inc.'s root certificate ("Apple Root CA", SHA-256
// B0:B1:73:0E:…:01:F0:24), which provisioning profiles chain to.
func AppleRootCA() *x509.Certificate {
	b, _ := pem.Decode(appleRootPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		panic("verify: embedded Apple root: " + err.Error()) // a build defect, never input
	}
	return c
}

// ReadIOSApp reads an .ipa (zip), an unpacked .app directory or an
// .xcarchive. roots are trusted for the profile's signature (nil: Apple's
// root); now decides expiry of the signing chain.
func ReadIOSApp(p string, roots []*x509.Certificate, now time.Time) (*IOSApp, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, &InputError{File: p, Err: unwrapPathErr(err)}
	}
	var info, prof []byte
	var infoName, profName string
	switch {
	case st.IsDir() && strings.HasSuffix(strings.TrimRight(p, "/"), ".xcarchive"):
		apps, _ := filepath.Glob(filepath.Join(p, "Products", "Applications", "*.app"))
		if len(apps) != 1 {
			return nil, inputErr(p, "an .xcarchive holds one app in Products/Applications; found %d", len(apps))
		}
		return ReadIOSApp(apps[0], roots, now)
	case st.IsDir():
		infoName, profName = filepath.Join(p, "Info.plist"), filepath.Join(p, "embedded.mobileprovision")
		if info, err = os.ReadFile(infoName); err != nil {
			return nil, inputErr(p, "no Info.plist: is this an .app bundle? (%v)", unwrapPathErr(err))
		}
		if prof, err = os.ReadFile(profName); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, &InputError{File: profName, Err: unwrapPathErr(err)}
		}
	default:
		infoName, profName, info, prof, err = readIPA(p)
		if err != nil {
			return nil, err
		}
	}
	app := &IOSApp{Path: p}
	if app.BundleID, app.Version, app.PlistFormat, err = ParseInfoPlist(info); err != nil {
		return nil, &InputError{File: infoName, Err: err}
	}
	if prof != nil {
		if app.Profile, err = ParseProfile(prof, roots, now); err != nil {
			return nil, &InputError{File: profName, Err: err}
		}
	}
	return app, nil
}

// readIPA finds Payload/<Name>.app/Info.plist and embedded.mobileprovision
// of the main app (not of its extensions, which sit deeper).
func readIPA(p string) (infoName, profName string, info, prof []byte, err error) {
	zr, zerr := zip.OpenReader(p)
	if zerr != nil {
		return "", "", nil, nil, inputErr(p, "not an .ipa (a zip archive): %v", zerr)
	}
	defer zr.Close()
	var infoF, profF *zip.File
	for _, f := range zr.File {
		parts := strings.Split(f.Name, "/")
		if len(parts) != 3 || parts[0] != "Payload" || !strings.HasSuffix(parts[1], ".app") {
			continue
		}
		switch parts[2] {
		case "Info.plist":
			if infoF != nil {
				return "", "", nil, nil, inputErr(p, "more than one app in Payload/ (%s, %s)", path.Dir(infoF.Name), path.Dir(f.Name))
			}
			infoF = f
		case "embedded.mobileprovision":
			profF = f
		}
	}
	if infoF == nil {
		return "", "", nil, nil, inputErr(p, "no Payload/<App>.app/Info.plist: not an iOS app archive")
	}
	infoName = p + "!" + infoF.Name
	if info, err = readMember(infoF, infoName); err != nil {
		return
	}
	if profF != nil {
		profName = p + "!" + profF.Name
		if prof, err = readMember(profF, profName); err != nil {
			return
		}
	}
	return
}

func readMember(f *zip.File, name string) ([]byte, error) {
	if f.UncompressedSize64 > maxMember {
		return nil, inputErr(name, "%d bytes: too large for what it should be", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &InputError{File: name, Err: err}
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxMember+1))
	if err != nil {
		return nil, &InputError{File: name, Err: err}
	}
	if len(b) > maxMember {
		return nil, inputErr(name, "larger than its zip entry says")
	}
	return b, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseInfoPlist reads CFBundleIdentifier and the version from an
// Info.plist, binary or XML; format is "binary" or "xml".
func ParseInfoPlist(data []byte) (bundleID, version, format string, err error) {
	var info struct {
		BundleID     string `plist:"CFBundleIdentifier"`
		ShortVersion string `plist:"CFBundleShortVersionString"`
		Build        string `plist:"CFBundleVersion"`
	}
	f, err := plist.Unmarshal(data, &info)
	if err != nil {
		return "", "", "", fmt.Errorf("not a property list: %w", err)
	}
	if f != plist.XMLFormat && f != plist.BinaryFormat {
		return "", "", "", fmt.Errorf("a %s property list; Xcode writes XML or binary", plist.FormatNames[f])
	}
	if info.BundleID == "" {
		return "", "", "", errors.New("Info.plist has no CFBundleIdentifier")
	}
	version = info.ShortVersion
	if info.Build != "" {
		version += " (" + info.Build + ")"
	}
	return info.BundleID, strings.TrimSpace(version), strings.ToLower(plist.FormatNames[f]), nil
}

// ParseProfile reads an embedded.mobileprovision: the CMS signed-data
// envelope (its signature checked, and the signer's chain against roots, nil
// meaning Apple's root), then the XML plist inside. A bad signature or an
// untrusted chain is reported in the Profile (SignatureErr, Trusted), not as
// an error: the contents are still worth comparing.
func ParseProfile(der []byte, roots []*x509.Certificate, now time.Time) (*Profile, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("not a CMS (PKCS#7) signed profile: %w", err)
	}
	if len(p7.Content) == 0 {
		return nil, errors.New("CMS envelope has no content (a detached signature?)")
	}
	var p Profile
	if f, err := plist.Unmarshal(p7.Content, &p); err != nil {
		return nil, fmt.Errorf("profile content is not a property list: %w", err)
	} else if f != plist.XMLFormat && f != plist.BinaryFormat {
		return nil, fmt.Errorf("profile content is a %s property list, not XML", plist.FormatNames[f])
	}
	if p.UUID == "" && len(p.TeamIdentifier) == 0 && p.Entitlements == nil {
		return nil, errors.New("profile plist has none of UUID, TeamIdentifier, Entitlements: not a provisioning profile")
	}
	p.DeviceCount = len(p.ProvisionedDevices)
	if roots == nil {
		roots = []*x509.Certificate{AppleRootCA()}
	}
	p.checkSignature(p7, roots, now)
	return &p, nil
}

func (p *Profile) checkSignature(p7 *pkcs7.PKCS7, roots []*x509.Certificate, now time.Time) {
	signer := p7.GetOnlySigner()
	if signer == nil {
		p.SignatureErr = fmt.Sprintf("the envelope has %d signers, want 1", len(p7.Signers))
		return
	}
	p.Signer = name(signer)
	if err := p7.Verify(); err != nil {
		p.SignatureErr = "signature does not verify: " + err.Error()
		return
	}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	for _, c := range p7.Certificates {
		if c != signer {
			inter.AddCert(c)
		}
	}
	// Apple's profile signing certificates carry no extended key usage for
	// this; any is what codesign accepts. The signing time is when it counts,
	// but profiles rarely carry one: check at now, and against the signer's
	// own validity if now is past it (Apple renews them; old profiles stay valid).
	at := now
	if at.After(signer.NotAfter) {
		at = signer.NotAfter.Add(-time.Second)
	}
	chains, err := signer.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		// Show where the chain the envelope carries ends.
		p.Chain = []string{p.Signer}
		cur := signer
		for range 8 {
			var up *x509.Certificate
			for _, c := range p7.Certificates {
				if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) {
					up = c
				}
			}
			if up == nil || up == cur {
				if !bytes.Equal(cur.RawSubject, cur.RawIssuer) {
					p.Chain = append(p.Chain, "(issuer not in the envelope) "+cur.Issuer.String())
				}
				break
			}
			p.Chain = append(p.Chain, name(up))
			if bytes.Equal(up.RawSubject, up.RawIssuer) {
				break
			}
			cur = up
		}
		p.SignatureErr = "signer's chain is not trusted: " + err.Error()
		return
	}
	for _, c := range chains[0] {
		p.Chain = append(p.Chain, name(c))
	}
	p.Trusted = true
}

// name is a certificate's common name and organization, for a human.
func name(c *x509.Certificate) string {
	n := c.Subject.CommonName
	if len(c.Subject.Organization) > 0 {
		n += " (" + c.Subject.Organization[0] + ")"
	}
	if n == "" {
		n = c.Subject.String()
	}
	return n
}
