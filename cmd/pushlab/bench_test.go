package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/bench"
)

// A short bench through the whole in-process pipeline: the command runs end
// to end and its report balances.
func TestBenchShortRun(t *testing.T) {
	html := filepath.Join(t.TempDir(), "bench.html")
	out, err := run(t, "bench", "--duration", "2s", "--devices", "10", "--concurrency", "4", "--json", "--html", html, "--fail-on-loss")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	rep := decodeReport(t, out)
	if a := rep.Accounting; a.Sent == 0 || a.Delivered != a.Sent || rep.Setup.Target != "in-process" {
		t.Fatalf("report %+v", rep)
	}
	page, err := os.ReadFile(html)
	// Self-contained: four plots inline, nothing fetched.
	if err != nil || strings.Count(string(page), "<svg") != 4 || strings.Contains(string(page), "<script") ||
		strings.Contains(string(page), "<link") || strings.Contains(string(page), "src=") {
		t.Fatalf("html report: %v, %d bytes", err, len(page))
	}
}

// bench --proxy-url drives a proxy in another process: pushlab proxy started
// from this test binary, configured (like any proxy would be) with the key
// set and the mocks' addresses.
func TestBenchAgainstAProxyInAnotherProcess(t *testing.T) {
	addrs := freeAddrs(t, 3)
	keys := filepath.Join(t.TempDir(), "keys")
	if out, err := run(t, "keys", "init", "--dir", keys, "--token-uri", "https://localhost:"+port(addrs[2])+"/token"); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	args := []string{"proxy", "--config", filepath.Join(keys, "mattermost-push-proxy.json"), "--listen", "127.0.0.1:0",
		"--tls-cert", filepath.Join(keys, "proxy.pem"), "--tls-key", filepath.Join(keys, "proxy-key.pem"),
		"--ca-file", filepath.Join(keys, "ca.pem"), "--apns-host", "https://localhost:" + port(addrs[0]),
		"--apns-development-host", "https://localhost:" + port(addrs[1]), "--fcm-endpoint", "https://localhost:" + port(addrs[2]) + "/v1",
		"--throttle-per-sec", "0", "--log-level", "error"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPushlabProcess$")
	cmd.Dir = keys
	cmd.Env = append(os.Environ(), "PUSHLAB_HELPER_ARGS="+strings.Join(args, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "push proxy on "); ok {
				url <- strings.Fields(rest)[0]
			}
		}
		close(url)
	}()
	var proxyURL string
	select {
	case proxyURL = <-url:
	case <-time.After(time.Minute):
	}
	if proxyURL == "" {
		t.Fatal("the proxy process did not say where it listens")
	}
	proxyURL = strings.Replace(proxyURL, "127.0.0.1", "localhost", 1)

	out, err := run(t, "bench", "--proxy-url", proxyURL, "--ca-file", filepath.Join(keys, "ca.pem"), "--keys", keys,
		"--apns-listen", addrs[0], "--apns-dev-listen", addrs[1], "--fcm-listen", addrs[2],
		"--proxy-pid", strconv.Itoa(cmd.Process.Pid), "--total", "200", "--devices", "10", "--concurrency", "4", "--json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	rep := decodeReport(t, out)
	if a := rep.Accounting; a.Sent != 200 || a.Delivered != 200 || a.Lost != 0 || rep.Setup.Target != proxyURL {
		t.Fatalf("accounting %+v, target %s, errors %+v", a, rep.Setup.Target, rep.Errors)
	}
	var separate bool
	for _, a := range rep.CPU.ByActor {
		if a.Actor == "proxy" {
			t.Errorf("in-process CPU for a proxy in another process: %+v", a)
		}
		if a.Separate && strings.Contains(a.Actor, strconv.Itoa(cmd.Process.Pid)) && a.MicrosPerNotification > 0 {
			separate = true
		}
	}
	if !separate {
		t.Errorf("no CPU for the proxy process in %+v", rep.CPU.ByActor)
	}
	// The proxy's own hops come from its process's GET /events onto this
	// run's spine, so the stage into it is timed too.
	var intoProxy int64
	for _, st := range rep.Stages {
		if st.Name == bench.StageServerToProxy {
			intoProxy = st.Count
		}
	}
	if intoProxy == 0 {
		t.Errorf("no %s stage from the proxy's events: %+v, notes %v", bench.StageServerToProxy, rep.Stages, rep.Notes)
	}
}

// TestHelperPushlabProcess is pushlab itself, run by the tests above as
// another process (os/exec's helper-process pattern).
func TestHelperPushlabProcess(t *testing.T) {
	args := os.Getenv("PUSHLAB_HELPER_ARGS")
	if args == "" {
		t.Skip("runs only as a helper process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRootCmd()
	root.SetArgs(strings.Split(args, "\x1f"))
	if err := root.ExecuteContext(ctx); err != nil {
		os.Stderr.WriteString("pushlab: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

func decodeReport(t *testing.T, out string) bench.Report {
	t.Helper()
	var rep bench.Report
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rep
}

// freeAddrs reserves n loopback ports for actors of another process to
// share with this one.
func freeAddrs(t *testing.T, n int) []string {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ln.Addr().String())
		defer ln.Close()
	}
	return out
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
