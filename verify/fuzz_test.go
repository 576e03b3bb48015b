package verify

import (
	"crypto/x509"
	"testing"
	"time"
)

// The readers take files from outside: bad input is an error, never a panic.

func FuzzParseInfoPlist(f *testing.F) {
	w := newWorld(f)
	f.Add(w.infoPlist(w.ios[0])) // binary
	f.Add(w.infoPlist(w.ios[1])) // XML
	f.Add([]byte("bplist00"))
	f.Add([]byte(`<?xml version="1.0"?><plist><dict><key>CFBundleIdentifier</key><integer>1</integer></dict></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, _, format, err := ParseInfoPlist(b)
		if err == nil && (id == "" || (format != "xml" && format != "binary")) {
			t.Fatalf("accepted %q as %q (%s)", b, id, format)
		}
	})
}

func FuzzParseProfile(f *testing.F) {
	w := newWorld(f)
	f.Add(w.profile(w.ios[0]))
	f.Add(w.profile(w.ios[1]))
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02})
	roots := []*x509.Certificate{sharedApple.root}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProfile(b, roots, time.Now())
		if err == nil && p == nil {
			t.Fatal("nil profile without error")
		}
		if err == nil {
			_, _, _, _ = p.Kind(), p.APSEnvironment(), p.AppID(), p.EntitledTeam()
		}
	})
}

func FuzzParseGoogleServices(f *testing.F) {
	f.Add(googleServicesJSON("p", "123", []string{"a.b", "c.d"}))
	f.Add([]byte(`{"project_info":{"project_id":"x","project_number":"1"},"client":[{}]}`))
	f.Add([]byte(`{"project_info":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGoogleServices(b)
		if err == nil && (g.ProjectID == "" || g.ProjectNumber == "" || len(g.Clients) == 0) {
			t.Fatalf("accepted incomplete %q", b)
		}
	})
}

func FuzzParseP8(f *testing.F) {
	shared(f)
	f.Add(sharedSet.APNsKey.PEM())
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, summary, fix := parseP8(b)
		if k == nil && (summary == "" || fix == "") {
			t.Fatal("rejected without a reason and a fix")
		}
	})
}
