package verify

import "testing"

// The certificates `pushlab keys init` writes carry the team id as their
// subject OU, as Apple's do, so the team check agrees with the set's .p8.
func TestKeysInitCertificateAgreesOnTeam(t *testing.T) {
	w := newWorld(t)
	w.override["apns-dev.pem"] = append(w.set.APNsDev.CertPEM(), w.set.APNsDev.KeyPEM()...)
	r := runWorld(t, w)
	cs := r.Find("ios.team", "Beta.app ↔ apple_rn")
	if len(cs) != 1 || cs[0].Status != Pass {
		t.Fatalf("team check of keys init's certificate: %+v\n%s", cs, dump(t, r))
	}
	if r.ExitCode() != ExitOK {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), dump(t, r))
	}
}
