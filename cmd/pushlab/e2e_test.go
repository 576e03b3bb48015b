package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type junitDoc struct {
	Tests  int `xml:"tests,attr"`
	Fails  int `xml:"failures,attr"`
	Suites []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitDoc {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("JUnit XML: %v\n%s", err, raw)
	}
	return doc
}

// pushlab e2e in process: a summary, one JUnit testcase per scenario and
// topology, exit status 0.
func TestE2EInProcess(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "e2e.xml")
	out, err := run(t, "e2e", "--topology", "inprocess", "--proxy-url=", "--artifacts=", "--scenario", "deliver/full,uninstall/*", "--junit", junit)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"ok    deliver/full", "ok    uninstall/remove", "2 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	doc := readJUnit(t, junit)
	if doc.Tests != 2 || doc.Fails != 0 || len(doc.Suites) != 1 || doc.Suites[0].Cases[0].Name != "deliver/full [inprocess]" {
		t.Fatalf("JUnit: %+v", doc)
	}
}

// A proxy that answers OK and sends nothing: exit status non-zero, the
// JUnit failure and the artifacts carry the notification's timeline.
func TestE2EFailsABrokenProxy(t *testing.T) {
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"status":"OK"}`)
	}))
	defer liar.Close()
	dir := t.TempDir()
	junit, artifacts := filepath.Join(dir, "e2e.xml"), filepath.Join(dir, "artifacts")
	out, err := run(t, "e2e", "--topology", "inprocess", "--proxy-url", liar.URL, "--scenario", "deliver/full", "--junit", junit, "--artifacts", artifacts)
	if err == nil || !strings.Contains(err.Error(), "1 scenario(s) failed") {
		t.Fatalf("err %v, want 1 scenario failed\n%s", err, out)
	}
	doc := readJUnit(t, junit)
	f := doc.Suites[0].Cases[0].Failure
	if f == nil || !strings.Contains(f.Text, "lost silently") || !strings.Contains(f.Text, "server.answered") {
		t.Fatalf("JUnit failure %+v", f)
	}
	entries, _ := os.ReadDir(artifacts)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "inprocess-deliver-full.txt") || !strings.Contains(got, "inprocess-deliver-full.events.jsonl") ||
		!strings.Contains(got, "inprocess-timeline.jsonl") {
		t.Fatalf("artifacts: %v", names)
	}
}

func TestE2EUnknownScenario(t *testing.T) {
	if _, err := run(t, "e2e", "--scenario", "no-such-thing", "--proxy-url=", "--junit=", "--artifacts="); err == nil || !strings.Contains(err.Error(), "matches none") {
		t.Fatalf("err %v", err)
	}
}

// --json prints the results, accounting included, instead of the table.
func TestE2EJSON(t *testing.T) {
	out, err := run(t, "e2e", "--topology", "inprocess", "--proxy-url=", "--junit=", "--artifacts=", "--scenario", "uninstall/remove", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	i := strings.Index(out, "[")
	if i < 0 {
		t.Fatalf("no JSON array in:\n%s", out)
	}
	var results []struct {
		Scenario   string
		Topology   string
		Passed     bool
		Accounting struct{ Sent, Remove int }
	}
	if err := json.Unmarshal([]byte(out[i:]), &results); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(results) != 1 || !results[0].Passed || results[0].Topology != "inprocess" || results[0].Accounting.Sent != 3 || results[0].Accounting.Remove != 3 {
		t.Fatalf("results %+v", results)
	}
}
