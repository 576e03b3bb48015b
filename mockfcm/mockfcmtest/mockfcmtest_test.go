package mockfcmtest

import (
	"encoding/json"
	"testing"

	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/mockfcm"
)

// Every helper that can fail fails the test, saying why.
func TestFailsTheTest(t *testing.T) {
	s := NewServer(t)
	s.kit.CheckFailures(t, []mocktest.FailCase{
		{Name: "bad option", Do: func() {
			NewServer(s.kit.T, func(c *mockfcm.Config) { c.Cert.Certificate = [][]byte{[]byte("not DER")} })
		}, Want: "server certificate"},
		{Name: "no package", Do: func() { s.RegisterDevice("", s.ProjectID, "pixel") }, Want: "needs a project id and a package name"},
		{Name: "unknown token", Do: func() { s.Uninstall("nope") }, Want: "no device has token"},
		{Name: "an unknown FCM code with no status", Do: func() { s.AddFault(Fault{Reason: "NOT_A_CODE"}) }, Want: "not an HTTP status"},
		{Name: "not a credentials file", Do: func() { s.ClientOptions([]byte("not JSON")) }, Want: "mockfcmtest:"},
	})
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
