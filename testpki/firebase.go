package testpki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
)

// ServiceAccount is a Google service-account key as the Firebase console ships
// it (Project settings → Service accounts → Generate new private key).
type ServiceAccount struct {
	ProjectID     string
	ProjectNumber string // the FCM sender id
	PrivateKeyID  string
	ClientEmail   string
	ClientID      string
	TokenURI      string
	Key           *rsa.PrivateKey
}

// GoogleTokenURI is the token endpoint a real service account names.
const GoogleTokenURI = "https://oauth2.googleapis.com/token"

// NewServiceAccount makes an RSA 2048 service account for projectID whose
// token_uri is tokenURI (GoogleTokenURI if empty).
func NewServiceAccount(projectID, tokenURI string) (*ServiceAccount, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if tokenURI == "" {
		tokenURI = GoogleTokenURI
	}
	kid := make([]byte, 20)
	rand.Read(kid)
	return &ServiceAccount{
		ProjectID:     projectID,
		ProjectNumber: digits(12),
		PrivateKeyID:  hex.EncodeToString(kid),
		ClientEmail:   "firebase-adminsdk-pl1ab@" + projectID + ".iam.gserviceaccount.com",
		ClientID:      digits(21),
		TokenURI:      tokenURI,
		Key:           key,
	}, nil
}

// serviceAccountJSON is Google's file layout, field for field and in order.
type serviceAccountJSON struct {
	Type                    string `json:"type"`
	ProjectID               string `json:"project_id"`
	PrivateKeyID            string `json:"private_key_id"`
	PrivateKey              string `json:"private_key"`
	ClientEmail             string `json:"client_email"`
	ClientID                string `json:"client_id"`
	AuthURI                 string `json:"auth_uri"`
	TokenURI                string `json:"token_uri"`
	AuthProviderX509CertURL string `json:"auth_provider_x509_cert_url"`
	ClientX509CertURL       string `json:"client_x509_cert_url"`
	UniverseDomain          string `json:"universe_domain"`
}

// JSON is the service-account file.
func (sa *ServiceAccount) JSON() []byte {
	b, _ := json.MarshalIndent(serviceAccountJSON{
		Type:                    "service_account",
		ProjectID:               sa.ProjectID,
		PrivateKeyID:            sa.PrivateKeyID,
		PrivateKey:              string(keyPEM(sa.Key)),
		ClientEmail:             sa.ClientEmail,
		ClientID:                sa.ClientID,
		AuthURI:                 "https://accounts.google.com/o/oauth2/auth",
		TokenURI:                sa.TokenURI,
		AuthProviderX509CertURL: "https://www.googleapis.com/oauth2/v1/certs",
		ClientX509CertURL:       "https://www.googleapis.com/robot/v1/metadata/x509/" + url.PathEscape(sa.ClientEmail),
		UniverseDomain:          "googleapis.com",
	}, "", "  ")
	return append(b, '\n')
}

// ParseServiceAccount reads a service-account file. The project number is not
// in the file (Google keeps it in google-services.json); callers set it.
func ParseServiceAccount(data []byte) (*ServiceAccount, error) {
	var f serviceAccountJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("testpki: service account: %w", err)
	}
	if f.Type != "service_account" {
		return nil, fmt.Errorf("testpki: service account: type is %q, want \"service_account\"", f.Type)
	}
	block, _ := pem.Decode([]byte(f.PrivateKey))
	if block == nil {
		return nil, fmt.Errorf("testpki: service account %s: private_key is not PEM", f.ClientEmail)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("testpki: service account %s: %w", f.ClientEmail, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("testpki: service account %s: key is %T, want RSA", f.ClientEmail, k)
	}
	return &ServiceAccount{
		ProjectID: f.ProjectID, PrivateKeyID: f.PrivateKeyID, ClientEmail: f.ClientEmail,
		ClientID: f.ClientID, TokenURI: f.TokenURI, Key: rk,
	}, nil
}

func digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + d.Int64())
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}
