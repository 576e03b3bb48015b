// Package testpki makes the credentials that Apple, Google and a Mattermost
// server would hand out, so that every actor of pushlab authenticates for real:
// a CA and server certificates for the mock hosts, an APNs auth key (.p8) and
// APNs client certificates with Apple's extension OIDs, a Firebase service
// account, and the server's notification signing key.
//
// A test makes a set in memory; `pushlab keys init` writes the same to disk:
//
//	set, err := testpki.NewSet(testpki.Options{}) // fresh keys, default ids
//	client := apns2.NewTokenClient(&token.Token{AuthKey: set.APNsKey.Key, KeyID: set.APNsKey.KeyID, TeamID: set.APNsKey.TeamID})
//	err = set.Write(dir, false) // AuthKey_<KEYID>.p8, certificates, service account, CA…
//	fmt.Println(set.Fingerprints()) // never the keys themselves
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/pushlab/pushlab/internal/pushcrypto"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Environment is an APNs environment; it is also the value of the iOS
// aps-environment entitlement.
type Environment string

const (
	Development Environment = "development" // api.sandbox.push.apple.com
	Production  Environment = "production"  // api.push.apple.com
)

// Apple marks what an Apple Push Services certificate may be used for with
// these extensions; APNs checks them against the host that was dialled.
var (
	OIDAPNsDevelopment = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 3, 1}
	OIDAPNsProduction  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 3, 2}
	// OIDUserID is the subject attribute (UID) that carries the bundle id.
	OIDUserID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

// MockHosts are the names the mock certificate is valid for: Apple's and
// Google's real hostnames (so an unmodified proxy can be pointed at the mocks
// by DNS alone) and loopback.
var MockHosts = []string{
	"api.push.apple.com", "api.sandbox.push.apple.com", "api.development.push.apple.com",
	// broadcast channel management (iOS 18): production on port 2196, sandbox on 2195
	"api-manage-broadcast.push.apple.com", "api-manage-broadcast.sandbox.push.apple.com",
	"fcm.googleapis.com", "oauth2.googleapis.com", "iid.googleapis.com",
	"localhost", "127.0.0.1", "::1",
}

// ProxyHosts are the names the proxy's own TLS certificate is valid for.
var ProxyHosts = []string{"push-proxy", "proxy", "localhost", "127.0.0.1", "::1"}

const validity = 2 * 365 * 24 * time.Hour

// CA is pushlab's certificate authority; clients trust it in place of the
// public roots when they talk to the mocks.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Leaf is a certificate issued by the CA with its private key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA makes an ECDSA P-256 CA.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "pushlab test CA", Organization: []string{"pushlab"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert, err := createCert(tmpl, tmpl, &key.PublicKey, key) // self-signed
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// CertPEM is the CA certificate as PEM, the file clients trust (SSL_CERT_FILE).
func (ca *CA) CertPEM() []byte { return certPEM(ca.Cert) }

// Pool is a pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// IssueServer issues a TLS server certificate (ECDSA P-256) for hosts, which
// may be DNS names or IP addresses.
func (ca *CA) IssueServer(hosts ...string) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"pushlab"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(tmpl, key)
}

// IssueAPNsClient issues an Apple Push Services client certificate as Apple
// does: RSA 2048, subject UID = bundle id, CN "Apple Push Services: <bundle>",
// OU = the team id, and one extension OID per environment it is valid for
// (both = a universal certificate).
func (ca *CA) IssueAPNsClient(teamID, bundleID string, envs ...Environment) (*Leaf, error) {
	if teamID == "" {
		return nil, fmt.Errorf("testpki: APNs certificate for %q needs a team id (its subject OU)", bundleID)
	}
	if len(envs) == 0 {
		return nil, fmt.Errorf("testpki: APNs certificate for %q needs at least one environment", bundleID)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	cn := "Apple Push Services: " + bundleID
	if len(envs) == 1 && envs[0] == Development {
		cn = "Apple Development IOS Push Services: " + bundleID
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{
			CommonName:         cn,
			OrganizationalUnit: []string{teamID},
			Organization:       []string{"pushlab"},
			Country:            []string{"US"},
			ExtraNames:         []pkix.AttributeTypeAndValue{{Type: OIDUserID, Value: bundleID}},
		},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, env := range envs {
		oid, ok := map[Environment]asn1.ObjectIdentifier{Development: OIDAPNsDevelopment, Production: OIDAPNsProduction}[env]
		if !ok {
			return nil, fmt.Errorf("testpki: unknown APNs environment %q", env)
		}
		// Apple's extensions carry an ASN.1 NULL.
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oid, Value: []byte{0x05, 0x00}})
	}
	return ca.issue(tmpl, key)
}

func (ca *CA) issue(tmpl *x509.Certificate, key crypto.Signer) (*Leaf, error) {
	cert, err := createCert(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

// createCert signs tmpl for pub with parent's key priv.
func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// CertPEM is the certificate as PEM.
func (l *Leaf) CertPEM() []byte { return certPEM(l.Cert) }

// KeyPEM is the private key as PKCS#8 PEM.
func (l *Leaf) KeyPEM() []byte { return keyPEM(l.Key) }

// TLS is the pair for a tls.Config.
func (l *Leaf) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
}

// P12 encodes certificate and key as a password-protected PKCS#12 file, with
// the legacy 3DES encryption that Keychain exports and that apns2 (via
// x/crypto/pkcs12) can read.
func (l *Leaf) P12(password string) ([]byte, error) {
	return pkcs12.LegacyDES.Encode(l.Key, l.Cert, nil, password)
}

// BundleID reads the UID subject attribute of an APNs client certificate.
func BundleID(cert *x509.Certificate) string {
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(OIDUserID) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// APNsEnvironments lists the environments an APNs client certificate is marked for.
func APNsEnvironments(cert *x509.Certificate) []Environment {
	var envs []Environment
	for _, ext := range cert.Extensions {
		switch {
		case ext.Id.Equal(OIDAPNsDevelopment):
			envs = append(envs, Development)
		case ext.Id.Equal(OIDAPNsProduction):
			envs = append(envs, Production)
		}
	}
	return envs
}

// APNsKey is a token-auth signing key as Apple issues it from the developer
// portal: a P-256 key with a 10-character key id, owned by a 10-character team.
type APNsKey struct {
	KeyID  string
	TeamID string
	Key    *ecdsa.PrivateKey
}

// NewAPNsKey makes a key for teamID (a random team id if empty).
func NewAPNsKey(teamID string) (*APNsKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if teamID == "" {
		teamID = AppleID()
	}
	return &APNsKey{KeyID: AppleID(), TeamID: teamID, Key: key}, nil
}

// FileName is the name Apple gives the download: AuthKey_<KEYID>.p8.
func (k *APNsKey) FileName() string { return "AuthKey_" + k.KeyID + ".p8" }

// PEM is the .p8 contents: PKCS#8 "PRIVATE KEY" PEM.
func (k *APNsKey) PEM() []byte { return keyPEM(k.Key) }

// AppleID returns a random 10-character identifier in Apple's alphabet
// (upper-case letters and digits), the shape of key ids and team ids.
func AppleID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 10)
	r := make([]byte, 10)
	rand.Read(r)
	for i := range b {
		b[i] = alphabet[int(r[i])%len(alphabet)]
	}
	return string(b)
}

// Fingerprint identifies a public key without revealing it, in pushlab's one
// format ("SHA256:" and the base64 SHA-256 of the SubjectPublicKeyInfo, as
// OpenSSH shows keys). Logs and the UI show this, never keys.
func Fingerprint(pub crypto.PublicKey) string { return pushcrypto.KeyFingerprint(pub) }

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(fmt.Sprintf("testpki: key of type %T cannot be PKCS#8: %v", k, err)) // only our own generated keys reach here
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}
