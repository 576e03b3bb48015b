package mmpush

import "testing"

// ServerSigns reads a version a server reports about itself: never panic,
// and only a major.minor.patch is judged.
func FuzzServerSigns(f *testing.F) {
	for _, s := range []string{"9.8.0", "8.1.13", "10.11.0-rc1", "", "9..1", "1.2.3.4", "99999999999999999999.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		signs, ok := ServerSigns(v)
		if !ok && signs {
			t.Fatalf("%q: signs without a readable version", v)
		}
	})
}

// SplitDeviceID splits any session device id without losing a byte.
func FuzzSplitDeviceID(f *testing.F) {
	for _, s := range []string{"apple_rn:tok", "tok", ":", "a:b:c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		p, tok := SplitDeviceID(id)
		if p == "" && tok == id {
			return
		}
		if p+DevicePlatformSeparator+tok != id {
			t.Fatalf("%q split into %q and %q", id, p, tok)
		}
	})
}
