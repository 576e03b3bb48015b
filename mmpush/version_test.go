package mmpush

import "testing"

func TestServerSigns(t *testing.T) {
	for v, want := range map[string]bool{
		"10.11.0": true, "9.9.0": true, "9.8.0": true, "9.8.1": true,
		"9.7.3": true, "9.7.2": false, "9.6.3": true, "9.6.2": false,
		"9.5.5": true, "9.5.4": false, "9.4.9": false, "9.0.0": false,
		"8.1.14": true, "8.1.13": false, "8.2.0": false, "8.0.99": false, "7.10.5": false,
		"9.7.3-rc1": true, "9.7.2+build": false,
	} {
		got, ok := ServerSigns(v)
		if !ok || got != want {
			t.Errorf("ServerSigns(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, bad := range []string{"", "9", "9.8", "x.y.z", "9.-1.0"} {
		if _, ok := ServerSigns(bad); ok {
			t.Errorf("ServerSigns(%q) ok", bad)
		}
	}
}
