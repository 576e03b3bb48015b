package testpki

import (
	"testing"
)

// Service-account files are handed to mockfcm and the proxy by users: any
// bytes must give an account or an error, never a panic or an account without a key.
func FuzzParseServiceAccount(f *testing.F) {
	sa, err := NewServiceAccount("p", "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sa.JSON())
	f.Add([]byte(`{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`))
	f.Add([]byte(`{"type":"authorized_user"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseServiceAccount(data)
		if err == nil && (got == nil || got.Key == nil) {
			t.Fatal("ParseServiceAccount returned no key and no error")
		}
	})
}

// Key and certificate PEM files are read from user-given directories.
func FuzzParseLeafPEM(f *testing.F) {
	ca, err := NewCA()
	if err != nil {
		f.Fatal(err)
	}
	leaf, err := ca.IssueServer("localhost")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(leaf.CertPEM(), leaf.KeyPEM()...))
	f.Add(leaf.CertPEM())
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseLeafPEM(data)
		if err == nil && (got.Cert == nil || got.Key == nil) {
			t.Fatal("ParseLeafPEM returned a half leaf without an error")
		}
	})
}
