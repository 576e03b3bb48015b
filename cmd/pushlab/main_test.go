package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// run executes the CLI in-process with args, on a tree of its own, and
// returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "pushlab "+version+" (commit "+commit) {
		t.Fatalf("version printed %q, %v", out, err)
	}
}

// The README's table of key files is a promise: keys init must write each file
// it names, and nothing it does not name.
func TestKeysInitWritesTheFilesREADMEDocuments(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "## Test credentials")
	if start < 0 {
		t.Fatal("README has no Test credentials section")
	}
	section = section[start:]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}
	if len(documented) < 10 {
		t.Fatalf("found only %v in the README table", documented)
	}

	dir := filepath.Join(t.TempDir(), "keys")
	out, err := run(t, "keys", "init", "--dir", dir)
	if err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(dir)
	written := map[string]bool{}
	for _, e := range entries {
		written[e.Name()] = true
	}
	for _, name := range documented {
		if strings.Contains(name, "<KEYID>") {
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(name), "<KEYID>", "[A-Z0-9]{10}") + "$")
			found := ""
			for w := range written {
				if re.MatchString(w) {
					found = w
				}
			}
			if found == "" {
				t.Errorf("README documents %s; keys init wrote none", name)
			}
			delete(written, found)
			continue
		}
		if !written[name] {
			t.Errorf("README documents %s; keys init did not write it", name)
		}
		delete(written, name)
	}
	for w := range written {
		t.Errorf("keys init wrote %s, which README does not document", w)
	}

	// Re-running keeps the set.
	before, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if out, err := run(t, "keys", "init", "--dir", dir); err != nil || !strings.Contains(out, "kept the existing key set") {
		t.Fatalf("second init: %v\n%s", err, out)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if !bytes.Equal(before, after) {
		t.Fatal("re-running keys init replaced the CA without --force")
	}
}

func TestDemoOnceShowsEveryPhonesNotification(t *testing.T) {
	out, err := run(t, "demo", "--once")
	if err != nil {
		t.Fatalf("demo --once: %v\n%s", err, out)
	}
	for _, want := range []string{"mock APNs (production)", "push proxy", "server simulator"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if n := strings.Count(out, "device.displayed"); n < 3 {
		t.Fatalf("demo timeline shows %d device.displayed hops, want one per phone (3)\n%s", n, out)
	}
	if strings.Contains(out, "signature_bad") || strings.Contains(out, "decrypt_failed") {
		t.Fatalf("demo shows a failure:\n%s", out)
	}
}

// The demo says how long its first notification took to show after the
// process started (issue #18's target); the figure itself is the lead's.
func TestDemoReportsTimeToFirstDisplay(t *testing.T) {
	out, err := run(t, "demo", "--once")
	if err != nil {
		t.Fatalf("demo --once: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`first notification displayed \d+ ms after the process started \(until the test PKI was made \d+ ms, actors started \d+ ms`).MatchString(out) {
		t.Fatalf("demo does not report the time to its first displayed notification:\n%s", out)
	}
	if processStart().After(initAt) {
		t.Fatal("processStart is after the package's initialisation")
	}
}
