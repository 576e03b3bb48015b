package testpki

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/token"
	"golang.org/x/oauth2/google"
)

func newSet(t *testing.T) *Set {
	t.Helper()
	s, err := NewSet(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMockCertificateIsTrustedForEveryHost(t *testing.T) {
	s := newSet(t)
	for _, host := range MockHosts {
		if _, err := s.Mock.Cert.Verify(x509.VerifyOptions{DNSName: host, Roots: s.CA.Pool()}); err != nil {
			t.Errorf("mock certificate not valid for %s: %v", host, err)
		}
	}
	if _, err := s.Mock.Cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: s.CA.Pool()}); err == nil {
		t.Error("mock certificate must not be valid for example.com")
	}
	if _, err := s.Mock.Cert.Verify(x509.VerifyOptions{DNSName: "api.push.apple.com", Roots: x509.NewCertPool()}); err == nil {
		t.Error("mock certificate verified without the CA")
	}
}

func TestMockCertificateServesTLS(t *testing.T) {
	s := newSet(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.Mock.TLS()}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool(), ServerName: "api.push.apple.com"}, ForceAttemptHTTP2: true}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "HTTP/2.0" {
		t.Fatalf("proto %q, want HTTP/2.0", b)
	}
}

func TestAPNsAuthKeySignsES256JWT(t *testing.T) {
	s := newSet(t)
	if len(s.APNsKey.KeyID) != 10 || len(s.APNsKey.TeamID) != 10 {
		t.Fatalf("key id %q and team id %q must be 10 characters", s.APNsKey.KeyID, s.APNsKey.TeamID)
	}
	if s.APNsKey.FileName() != "AuthKey_"+s.APNsKey.KeyID+".p8" {
		t.Fatalf("file name %q", s.APNsKey.FileName())
	}
	// The .p8 must load the way apns2 loads Apple's download, and sign what APNs verifies.
	key, err := token.AuthKeyFromBytes(s.APNsKey.PEM())
	if err != nil {
		t.Fatal(err)
	}
	tok := &token.Token{AuthKey: key, KeyID: s.APNsKey.KeyID, TeamID: s.APNsKey.TeamID}
	if _, err := tok.Generate(); err != nil {
		t.Fatal(err)
	}
	bearer := tok.Bearer
	parsed, err := jwt.Parse(bearer, func(tk *jwt.Token) (any, error) { return &s.APNsKey.Key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}))
	if err != nil || !parsed.Valid {
		t.Fatalf("JWT from the .p8 does not verify with its public key: %v", err)
	}
	if parsed.Header["kid"] != s.APNsKey.KeyID {
		t.Fatalf("kid %v", parsed.Header["kid"])
	}
	if iss, _ := parsed.Claims.GetIssuer(); iss != s.APNsKey.TeamID {
		t.Fatalf("iss %q", iss)
	}
	other, _ := NewAPNsKey("")
	if _, err := jwt.Parse(bearer, func(*jwt.Token) (any, error) { return &other.Key.PublicKey, nil }); err == nil {
		t.Fatal("JWT verified with another key")
	}
}

func TestAPNsClientCertificates(t *testing.T) {
	s := newSet(t)
	for _, tc := range []struct {
		leaf *Leaf
		env  Environment
	}{{s.APNsDev, Development}, {s.APNsProd, Production}} {
		if got := BundleID(tc.leaf.Cert); got != s.CertBundleID {
			t.Errorf("%s: UID = %q, want %q", tc.env, got, s.CertBundleID)
		}
		if got := APNsEnvironments(tc.leaf.Cert); !slices.Equal(got, []Environment{tc.env}) {
			t.Errorf("%s: environments %v", tc.env, got)
		}
		// Apple puts the team id in the subject's OU, where verify reads it.
		if got := tc.leaf.Cert.Subject.OrganizationalUnit; !slices.Equal(got, []string{s.TeamID}) {
			t.Errorf("%s: OU %q, want the team id %q", tc.env, got, s.TeamID)
		}
		if _, err := tc.leaf.Cert.Verify(x509.VerifyOptions{Roots: s.CA.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s: client cert does not chain to the CA: %v", tc.env, err)
		}
		// apns2 must load both the .p12 (with its password) and the .pem.
		p12, err := tc.leaf.P12(s.P12Password)
		if err != nil {
			t.Fatal(err)
		}
		c, err := certificate.FromP12Bytes(p12, s.P12Password)
		if err != nil {
			t.Fatalf("%s: apns2 cannot read the .p12: %v", tc.env, err)
		}
		if !c.Leaf.Equal(tc.leaf.Cert) {
			t.Errorf("%s: .p12 holds another certificate", tc.env)
		}
		if _, err := certificate.FromP12Bytes(p12, "wrong"); err == nil {
			t.Errorf("%s: .p12 opened with a wrong password", tc.env)
		}
		if _, err := certificate.FromPemBytes(append(tc.leaf.CertPEM(), tc.leaf.KeyPEM()...), ""); err != nil {
			t.Errorf("%s: apns2 cannot read the .pem: %v", tc.env, err)
		}
	}
	universal, err := s.CA.IssueAPNsClient(s.TeamID, "com.example.app", Development, Production)
	if err != nil {
		t.Fatal(err)
	}
	if got := APNsEnvironments(universal.Cert); len(got) != 2 {
		t.Fatalf("universal cert environments %v", got)
	}
	if _, err := s.CA.IssueAPNsClient(s.TeamID, "com.example.app"); err == nil {
		t.Fatal("a certificate without environment must be refused")
	}
	if _, err := s.CA.IssueAPNsClient("", "com.example.app", Production); err == nil {
		t.Fatal("a certificate without team id must be refused")
	}
}

func TestServiceAccountIsAcceptedByGoogleLibrary(t *testing.T) {
	s := newSet(t)
	data := s.Firebase.JSON()
	var fields map[string]string
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "project_id", "private_key_id", "private_key", "client_email", "client_id", "auth_uri", "token_uri", "auth_provider_x509_cert_url", "client_x509_cert_url", "universe_domain"} {
		if fields[k] == "" {
			t.Errorf("service account lacks %q", k)
		}
	}
	cfg, err := google.JWTConfigFromJSON(data, "https://www.googleapis.com/auth/firebase.messaging")
	if err != nil {
		t.Fatalf("JWTConfigFromJSON: %v", err)
	}
	if cfg.TokenURL != DefaultTokenURI || cfg.Email != s.Firebase.ClientEmail || cfg.PrivateKeyID != s.Firebase.PrivateKeyID {
		t.Fatalf("config %+v does not carry the account", cfg)
	}
	back, err := ParseServiceAccount(data)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Key.Equal(s.Firebase.Key) || back.ProjectID != s.Firebase.ProjectID {
		t.Fatal("service account does not round-trip")
	}
}

func TestWriteLoadAndKeep(t *testing.T) {
	s := newSet(t)
	dir := filepath.Join(t.TempDir(), "keys")
	if err := s.Write(dir, false); err != nil {
		t.Fatal(err)
	}
	for _, name := range s.Files() {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s missing: %v", name, err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, name))
		private := slices.Contains([]string{FileCAKey, FileMockKey, FileProxyKey, s.APNsKey.FileName(),
			FileAPNsDevPEM, FileAPNsDevP12, FileAPNsProdPEM, FileAPNsProdP12, FileServiceAccount, FileSigningKey}, name)
		if private && st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, private keys need 0600", name, st.Mode().Perm())
		}
		if !private && st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", name, st.Mode().Perm())
		}
		if name == FileManifest && !json.Valid(data) {
			t.Errorf("%s is not JSON", name)
		}
	}
	if err := s.Write(dir, false); err == nil {
		t.Fatal("Write over an existing set without force must fail")
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.CA.Cert.Equal(s.CA.Cert) || !loaded.APNsKey.Key.Equal(s.APNsKey.Key) || loaded.APNsKey.KeyID != s.APNsKey.KeyID ||
		!loaded.Signing.Equal(s.Signing) || !loaded.Firebase.Key.Equal(s.Firebase.Key) || loaded.Firebase.ProjectNumber != s.Firebase.ProjectNumber ||
		!loaded.APNsDev.Cert.Equal(s.APNsDev.Cert) || loaded.P12Password != s.P12Password || loaded.TeamID != s.TeamID {
		t.Fatal("Load does not give back what Write stored")
	}
	if _, ok := loaded.Mock.Key.(*ecdsa.PrivateKey); !ok {
		t.Fatal("mock key type lost")
	}
	again := newSet(t)
	if err := again.Write(dir, true); err != nil {
		t.Fatal(err)
	}
	if l2, _ := Load(dir); l2.CA.Cert.Equal(s.CA.Cert) {
		t.Fatal("force did not replace the set")
	}
}

func TestFingerprintNamesKeyNotContents(t *testing.T) {
	s := newSet(t)
	fp := Fingerprint(s.APNsKey.Key.Public())
	if len(fp) != len("SHA256:")+43 || fp[:7] != "SHA256:" {
		t.Fatalf("fingerprint %q", fp)
	}
	if fp == Fingerprint(s.Signing.Public()) {
		t.Fatal("two keys share a fingerprint")
	}
	if time.Until(s.CA.Cert.NotAfter) < 365*24*time.Hour {
		t.Fatal("CA expires within a year")
	}
}
