package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pushlab/pushlab/testpki"
)

// The processes tests start: a pushlab binary built once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func pushlabBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds pushlab and runs it as processes")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pushlab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pushlab")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePorts maps each of README's fixed ports to a free one on 127.0.0.1,
// so the test never collides with anything else on the machine. The ports
// come from below Linux's ephemeral range (32768 up): an actor started
// seconds later must not find its port taken by some outgoing connection.
func freePorts(t *testing.T, fixed ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	used := map[int]bool{}
	for _, p := range fixed {
		for tries := 0; ; tries++ {
			if tries == 1000 {
				t.Fatal("no free port below 32768")
			}
			n := 20000 + rand.IntN(12000)
			if used[n] {
				continue
			}
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", n))
			if err != nil {
				continue
			}
			ln.Close()
			used[n], m[p] = true, strconv.Itoa(n)
			break
		}
	}
	return m
}

// walkthroughPorts are the ports README's separate-process block names.
var walkthroughPorts = []string{"2197", "2198", "8197", "4443", "4444", "8066", "8065", "8070"}

// readmeBlock returns the shell block of README's "Running the actors as
// separate processes", continuation lines joined.
func readmeBlock(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "### Running the actors as separate processes")
	if i < 0 {
		t.Fatal("README lost its separate-process walkthrough")
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n") + len("```sh\n")
	end := strings.Index(s[start:], "```")
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(s[start:start+end], "\\\n", " "), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// group runs a shell script in its own process group, output to a file, and
// kills the whole group (the actors it started in the background) at cleanup.
func group(t *testing.T, dir, script string) (*exec.Cmd, *os.File) {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, fmt.Sprintf("out-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Listeners the walkthrough leaves at their defaults go to free ports too.
	extra := freePorts(t, "2196", "2195")
	cmd.Env = append(os.Environ(), "PUSHLAB_LOG_LEVEL=info",
		"PUSHLAB_APNS_CHANNELS_LISTEN=127.0.0.1:"+extra["2196"], "PUSHLAB_APNS_DEV_CHANNELS_LISTEN=127.0.0.1:"+extra["2195"])
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		out.Close()
	})
	return cmd, out
}

func logOf(f *os.File) string {
	b, _ := os.ReadFile(f.Name())
	return string(b)
}

// shows polls the devices' control API until name shows body.
func shows(t *testing.T, devicesURL, name, body string) (map[string]any, error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(devicesURL + "/devices/" + name)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			var st struct {
				Shown []map[string]any `json:"shown"`
			}
			json.Unmarshal(b, &st)
			for _, n := range st.Shown {
				if n["body"] == body {
					return n, nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil, fmt.Errorf("%s did not show %q; last state %s", name, body, last)
}

// README's separate-process walkthrough, run as written but on free ports
// (and keys init told the mock FCM's port for its token_uri), must end with
// the phone showing the message.
func TestREADMEWalkthrough(t *testing.T) {
	bin := pushlabBinary(t)
	dir := t.TempDir()
	ports := freePorts(t, walkthroughPorts...)
	portRe := regexp.MustCompile(`\b(` + strings.Join(walkthroughPorts, "|") + `)\b`)
	var script []string
	script = append(script, "set -e", "B="+bin)
	for _, l := range readmeBlock(t) {
		if strings.HasPrefix(l, "make build") {
			continue // the test built the binary
		}
		l = portRe.ReplaceAllStringFunc(l, func(p string) string { return ports[p] })
		if strings.Contains(l, "keys init") {
			l += " --token-uri " + strings.Replace(testpki.DefaultTokenURI, "4443", ports["4443"], 1)
		}
		script = append(script, l)
	}
	cmd, out := group(t, dir, strings.Join(script, "\n"))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the walkthrough failed: %v\n%s", err, logOf(out))
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("the walkthrough did not finish\n%s", logOf(out))
	}
	n, err := shows(t, "http://127.0.0.1:"+ports["8070"], "ios-1", "hello")
	if err != nil {
		t.Fatalf("%v\n%s", err, logOf(out))
	}
	if n["verified"] != true || n["decrypted"] != true {
		t.Fatalf("shown %v, want verified and decrypted\n%s", n, logOf(out))
	}
	if !strings.Contains(logOf(out), `"status":"OK"`) {
		t.Fatalf("the send was not OK\n%s", logOf(out))
	}
}

// The actors started in the worst order, each needing one started after it:
// devices before the server and the mocks, the server before the proxy.
// Every one waits, logs what for, and the push goes through.
func TestWorstStartOrder(t *testing.T) {
	bin := pushlabBinary(t)
	dir := t.TempDir()
	p := freePorts(t, walkthroughPorts...)
	keys := filepath.Join(dir, "keys")
	tokenURI := "https://localhost:" + p["4443"] + "/token"
	if out, err := exec.Command(bin, "keys", "init", "--dir", keys, "--token-uri", tokenURI).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	ca := filepath.Join(keys, "ca.pem")
	steps := []string{
		fmt.Sprintf("SSL_CERT_FILE=%s %s devices --keys %s --server https://localhost:%s --apns-control http://localhost:%s --fcm-control http://localhost:%s --listen 127.0.0.1:%s",
			ca, bin, keys, p["8065"], p["8197"], p["4444"], p["8070"]),
		fmt.Sprintf("SSL_CERT_FILE=%s %s server --keys %s --listen 127.0.0.1:%s --proxy https://localhost:%s --contents full",
			ca, bin, keys, p["8065"], p["8066"]),
		fmt.Sprintf("%s proxy --config %s/mattermost-push-proxy.json --listen 127.0.0.1:%s --tls-cert %s/proxy.pem --tls-key %s/proxy-key.pem --ca-file %s --apns-host https://localhost:%s --apns-development-host https://localhost:%s --fcm-endpoint https://localhost:%s/v1",
			bin, keys, p["8066"], keys, keys, ca, p["2197"], p["2198"], p["4443"]),
		fmt.Sprintf("%s mockfcm --keys %s --listen 127.0.0.1:%s --control-listen 127.0.0.1:%s", bin, keys, p["4443"], p["4444"]),
		fmt.Sprintf("%s mockapns --keys %s --listen 127.0.0.1:%s --dev-listen 127.0.0.1:%s --control-listen 127.0.0.1:%s",
			bin, keys, p["2197"], p["2198"], p["8197"]),
	}
	var logs []*os.File
	for _, s := range steps {
		_, out := group(t, dir, s)
		logs = append(logs, out)
		time.Sleep(700 * time.Millisecond) // long enough for the earlier ones to find their peers missing
	}
	all := func() string {
		var b strings.Builder
		for i, f := range logs {
			fmt.Fprintf(&b, "--- step %d\n%s", i, logOf(f))
		}
		return b.String()
	}
	devicesURL := "http://127.0.0.1:" + p["8070"]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(devicesURL + "/devices")
		if err == nil {
			resp.Body.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the phones never came up\n%s", all())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{"waiting for the server simulator", "waiting for the push proxy"} {
		if !strings.Contains(all(), want) {
			t.Errorf("no %q in the logs", want)
		}
	}
	pool := testpkiPool(t, ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post("https://localhost:"+p["8065"]+"/control/send", "application/json",
		strings.NewReader(`{"user_id":"alice","message":"worst order","channel_name":"town-square","sender_name":"bob"}`))
	if err != nil {
		t.Fatalf("send: %v\n%s", err, all())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Count(string(b), `"status":"OK"`) != 3 {
		t.Fatalf("send answered %d %s\n%s", resp.StatusCode, b, all())
	}
	for _, name := range []string{"ios-1", "ios-cert-1", "android-1"} {
		if _, err := shows(t, devicesURL, name, "worst order"); err != nil {
			t.Fatalf("%v\n%s", err, all())
		}
	}
}

func testpkiPool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", caFile)
	}
	return pool
}
