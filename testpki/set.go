package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"
)

// File names written by Set.Write (documented in README.md).
const (
	FileManifest       = "pushlab-keys.json"
	FileCA             = "ca.pem"
	FileCAKey          = "ca-key.pem"
	FileMockCert       = "mock.pem"
	FileMockKey        = "mock-key.pem"
	FileProxyCert      = "proxy.pem"
	FileProxyKey       = "proxy-key.pem"
	FileAPNsDevPEM     = "apns-development.pem"
	FileAPNsDevP12     = "apns-development.p12"
	FileAPNsProdPEM    = "apns-production.pem"
	FileAPNsProdP12    = "apns-production.p12"
	FileServiceAccount = "firebase-service-account.json"
	FileSigningKey     = "server-signing-key.pem"
	FileSigningPub     = "server-signing-pub.pem"
)

// Options choose the identities a Set is made for; zero values take the defaults.
type Options struct {
	TeamID       string // Apple team id (random if empty)
	BundleID     string // iOS app using token auth (proxy type "apple")
	CertBundleID string // iOS app using certificate auth (proxy type "apple_rn")
	Package      string // Android app (proxy type "android")
	RNPackage    string // Android app (proxy type "android_rn")
	ProjectID    string // Firebase project
	TokenURI     string // service account token_uri: where the OAuth2 mock listens
}

// Defaults used when Options leave a field empty.
const (
	DefaultBundleID     = "com.mattermost.rn"
	DefaultCertBundleID = "com.mattermost.rnbeta"
	DefaultPackage      = "com.mattermost.rn"
	DefaultRNPackage    = "com.mattermost.rnbeta"
	DefaultProjectID    = "pushlab-demo"
	DefaultTokenURI     = "https://localhost:4443/token"
)

func (o *Options) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.BundleID, DefaultBundleID)
	def(&o.CertBundleID, DefaultCertBundleID)
	def(&o.Package, DefaultPackage)
	def(&o.RNPackage, DefaultRNPackage)
	def(&o.ProjectID, DefaultProjectID)
	def(&o.TokenURI, DefaultTokenURI)
}

// Set is every credential one pushlab deployment needs.
type Set struct {
	Options
	CA    *CA
	Mock  *Leaf // TLS server certificate of mockapns and mockfcm (MockHosts)
	Proxy *Leaf // TLS server certificate of the push proxy (ProxyHosts)

	APNsKey     *APNsKey // token auth for BundleID
	APNsDev     *Leaf    // certificate auth for CertBundleID, development
	APNsProd    *Leaf    // certificate auth for CertBundleID, production
	P12Password string

	Firebase *ServiceAccount

	// The Mattermost server's notification signing key; its public half is
	// what the apps pin.
	Signing      *ecdsa.PrivateKey
	SigningKeyID string
}

// NewSet makes a complete set of fresh credentials. The keys are made at
// once on every core: the three RSA 2048 keys (two APNs certificates, the
// service account) take 20–120 ms each and dominate a demo's start.
func NewSet(opts Options) (*Set, error) {
	opts.defaults()
	s := &Set{Options: opts}
	var err error
	if s.CA, err = NewCA(); err != nil {
		return nil, err
	}
	if s.APNsKey, err = NewAPNsKey(opts.TeamID); err != nil {
		return nil, err
	}
	s.TeamID = s.APNsKey.TeamID
	var g errgroup.Group
	g.Go(func() (err error) { s.Mock, err = s.CA.IssueServer(MockHosts...); return err })
	g.Go(func() (err error) { s.Proxy, err = s.CA.IssueServer(ProxyHosts...); return err })
	g.Go(func() (err error) {
		s.APNsDev, err = s.CA.IssueAPNsClient(s.TeamID, opts.CertBundleID, Development)
		return err
	})
	g.Go(func() (err error) {
		s.APNsProd, err = s.CA.IssueAPNsClient(s.TeamID, opts.CertBundleID, Production)
		return err
	})
	g.Go(func() (err error) { s.Firebase, err = NewServiceAccount(opts.ProjectID, opts.TokenURI); return err })
	g.Go(func() (err error) { s.Signing, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s.P12Password = AppleID()
	s.SigningKeyID = "mm-" + AppleID()
	return s, nil
}

// manifest is pushlab-keys.json: the identities and where each file is; no key material.
type manifest struct {
	TeamID          string            `json:"team_id"`
	APNsKeyID       string            `json:"apns_key_id"`
	APNsKeyFile     string            `json:"apns_key_file"`
	BundleID        string            `json:"bundle_id"`
	CertBundleID    string            `json:"cert_bundle_id"`
	Package         string            `json:"package"`
	RNPackage       string            `json:"rn_package"`
	ProjectID       string            `json:"project_id"`
	ProjectNumber   string            `json:"project_number"`
	TokenURI        string            `json:"token_uri"`
	P12Password     string            `json:"p12_password"`
	SigningKeyID    string            `json:"signing_key_id"`
	Fingerprints    map[string]string `json:"fingerprints"`
	GeneratedByNote string            `json:"note"`
}

// Fingerprints names each key by its public fingerprint, for logs and the UI.
func (s *Set) Fingerprints() map[string]string {
	return map[string]string{
		"ca":             Fingerprint(s.CA.Key.Public()),
		"apns_auth_key":  Fingerprint(s.APNsKey.Key.Public()),
		"apns_cert_dev":  Fingerprint(s.APNsDev.Key.Public()),
		"apns_cert_prod": Fingerprint(s.APNsProd.Key.Public()),
		"firebase":       Fingerprint(s.Firebase.Key.Public()),
		"server_signing": Fingerprint(s.Signing.Public()),
		"mock_tls":       Fingerprint(s.Mock.Key.Public()),
		"proxy_tls":      Fingerprint(s.Proxy.Key.Public()),
	}
}

// Files lists what Write puts in a directory, in the order README documents them.
func (s *Set) Files() []string {
	return []string{FileManifest, FileCA, FileCAKey, FileMockCert, FileMockKey, FileProxyCert, FileProxyKey,
		s.APNsKey.FileName(), FileAPNsDevPEM, FileAPNsDevP12, FileAPNsProdPEM, FileAPNsProdP12,
		FileServiceAccount, FileSigningKey, FileSigningPub}
}

// ErrExists is returned by Write when dir already holds a set and force is false.
var ErrExists = errors.New("testpki: directory already holds a key set")

// Write stores the set in dir (created 0700 if missing): private keys 0600,
// certificates and public files 0644. Unless force, it refuses to overwrite an
// existing set (ErrExists); callers that want to keep it call Load.
func (s *Set) Write(dir string, force bool) error {
	if !force {
		if _, err := os.Stat(filepath.Join(dir, FileManifest)); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, dir)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	devP12, err := s.APNsDev.P12(s.P12Password)
	if err != nil {
		return err
	}
	prodP12, err := s.APNsProd.P12(s.P12Password)
	if err != nil {
		return err
	}
	m, _ := json.MarshalIndent(manifest{
		TeamID: s.TeamID, APNsKeyID: s.APNsKey.KeyID, APNsKeyFile: s.APNsKey.FileName(),
		BundleID: s.BundleID, CertBundleID: s.CertBundleID, Package: s.Package, RNPackage: s.RNPackage,
		ProjectID: s.Firebase.ProjectID, ProjectNumber: s.Firebase.ProjectNumber, TokenURI: s.Firebase.TokenURI,
		P12Password: s.P12Password, SigningKeyID: s.SigningKeyID,
		Fingerprints:    s.Fingerprints(),
		GeneratedByNote: "test credentials made by `pushlab keys init`; never register them with Apple or Google",
	}, "", "  ")
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{FileCA, s.CA.CertPEM(), 0o644},
		{FileCAKey, keyPEM(s.CA.Key), 0o600},
		{FileMockCert, s.Mock.CertPEM(), 0o644},
		{FileMockKey, s.Mock.KeyPEM(), 0o600},
		{FileProxyCert, s.Proxy.CertPEM(), 0o644},
		{FileProxyKey, s.Proxy.KeyPEM(), 0o600},
		{s.APNsKey.FileName(), s.APNsKey.PEM(), 0o600},
		{FileAPNsDevPEM, append(s.APNsDev.CertPEM(), s.APNsDev.KeyPEM()...), 0o600},
		{FileAPNsDevP12, devP12, 0o600},
		{FileAPNsProdPEM, append(s.APNsProd.CertPEM(), s.APNsProd.KeyPEM()...), 0o600},
		{FileAPNsProdP12, prodP12, 0o600},
		{FileServiceAccount, s.Firebase.JSON(), 0o600},
		{FileSigningKey, keyPEM(s.Signing), 0o600},
		{FileSigningPub, publicPEM(s.Signing.Public()), 0o644},
		{FileManifest, append(m, '\n'), 0o644}, // last: its presence marks a complete set
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil { // WriteFile keeps an existing file's mode
			return err
		}
	}
	return nil
}

// Load reads a set written by Write.
func Load(dir string) (*Set, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("testpki: load %s: %w", dir, err)
		}
		return b, nil
	}
	mb, err := read(FileManifest)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("testpki: %s: %w", FileManifest, err)
	}
	s := &Set{Options: Options{TeamID: m.TeamID, BundleID: m.BundleID, CertBundleID: m.CertBundleID,
		Package: m.Package, RNPackage: m.RNPackage, ProjectID: m.ProjectID, TokenURI: m.TokenURI},
		P12Password: m.P12Password, SigningKeyID: m.SigningKeyID}
	leaf := func(certFile, keyFile string) (*Leaf, error) {
		cb, err := read(certFile)
		if err != nil {
			return nil, err
		}
		kb := cb
		if keyFile != "" {
			if kb, err = read(keyFile); err != nil {
				return nil, err
			}
		}
		return ParseLeafPEM(append(append([]byte{}, cb...), kb...))
	}
	ca, err := leaf(FileCA, FileCAKey)
	if err != nil {
		return nil, err
	}
	caKey, ok := ca.Key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("testpki: %s is not an ECDSA key", FileCAKey)
	}
	s.CA = &CA{Cert: ca.Cert, Key: caKey}
	if s.Mock, err = leaf(FileMockCert, FileMockKey); err != nil {
		return nil, err
	}
	if s.Proxy, err = leaf(FileProxyCert, FileProxyKey); err != nil {
		return nil, err
	}
	if s.APNsDev, err = leaf(FileAPNsDevPEM, ""); err != nil {
		return nil, err
	}
	if s.APNsProd, err = leaf(FileAPNsProdPEM, ""); err != nil {
		return nil, err
	}
	kb, err := read(m.APNsKeyFile)
	if err != nil {
		return nil, err
	}
	apnsKey, err := parseECKey(kb)
	if err != nil {
		return nil, fmt.Errorf("testpki: %s: %w", m.APNsKeyFile, err)
	}
	s.APNsKey = &APNsKey{KeyID: m.APNsKeyID, TeamID: m.TeamID, Key: apnsKey}
	sab, err := read(FileServiceAccount)
	if err != nil {
		return nil, err
	}
	if s.Firebase, err = ParseServiceAccount(sab); err != nil {
		return nil, err
	}
	s.Firebase.ProjectNumber = m.ProjectNumber
	sk, err := read(FileSigningKey)
	if err != nil {
		return nil, err
	}
	if s.Signing, err = parseECKey(sk); err != nil {
		return nil, fmt.Errorf("testpki: %s: %w", FileSigningKey, err)
	}
	return s, nil
}

// ParseLeafPEM reads a certificate and its PKCS#8 private key from PEM blocks.
func ParseLeafPEM(data []byte) (*Leaf, error) {
	var l Leaf
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			if l.Cert != nil {
				continue // the leaf comes first; later ones are chain
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			l.Cert = c
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			signer, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("testpki: key of type %T cannot sign", k)
			}
			l.Key = signer
		}
	}
	if l.Cert == nil || l.Key == nil {
		return nil, errors.New("testpki: PEM needs a CERTIFICATE and a PRIVATE KEY block")
	}
	return &l, nil
}

func parseECKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want ECDSA", k)
	}
	return ek, nil
}

func publicPEM(pub crypto.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
