package mockfcmtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/mockfcm"
)

// Every helper that can fail fails the test, saying why.
func TestFailsTheTest(t *testing.T) {
	s := NewServer(t)
	for _, tc := range []struct {
		name string
		do   func(t testing.TB)
		want string
	}{
		{"bad option", func(t testing.TB) {
			NewServer(t, func(c *mockfcm.Config) { c.Cert.Certificate = [][]byte{[]byte("not DER")} })
		}, "server certificate"},
		{"no package", func(testing.TB) { s.RegisterDevice("", s.ProjectID, "pixel") }, "needs a project id and a package name"},
		{"unknown token", func(testing.TB) { s.Uninstall("nope") }, "no device has token"},
		{"an unknown FCM code with no status", func(testing.TB) { s.AddFault(Fault{Reason: "NOT_A_CODE"}) }, "not an HTTP status"},
		{"not a credentials file", func(testing.TB) { s.ClientOptions([]byte("not JSON")) }, "mockfcmtest:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.kit.FailsWith(t, func() { tc.do(s.kit.T) })
			if got == "" || !strings.Contains(got, tc.want) {
				t.Errorf("failed with %q, want %q", got, tc.want)
			}
		})
	}
}

// NewServiceAccountJSON is a file the mock knows: its project, the mock's
// token endpoint, and one the mock's public API registers too.
func TestNewServiceAccountJSON(t *testing.T) {
	s := NewServer(t)
	s.ProjectID = "other-project"
	raw := s.NewServiceAccountJSON()
	var f map[string]string
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f["type"] != "service_account" || f["project_id"] != "other-project" || f["token_uri"] != s.Mock.TokenURL() {
		t.Errorf("service account file: type %q, project_id %q, token_uri %q", f["type"], f["project_id"], f["token_uri"])
	}
	if err := s.Mock.RegisterServiceAccountJSON(raw); err != nil {
		t.Errorf("RegisterServiceAccountJSON(own file): %v", err)
	}
	if err := s.Mock.RegisterServiceAccountJSON([]byte(`{}`)); err == nil {
		t.Error("RegisterServiceAccountJSON({}) = nil, want an error")
	}
	d := s.RegisterDevice("com.example.app", s.ProjectID, "pixel")
	if d.Project != "other-project" || d.App != "com.example.app" || d.Token == "" {
		t.Errorf("device = %+v", d)
	}
}
