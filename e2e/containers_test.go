package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/proxy/proxytest"
	"github.com/pushlab/pushlab/pushlabtc"
	"github.com/pushlab/pushlab/testpki"
)

// One image build per test binary, shared by every container test.
var (
	imageOnce sync.Once
	imageTag  string
	imageErr  error
)

func pushlabImage(t *testing.T) string {
	t.Helper()
	requireDocker(t)
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		imageTag, imageErr = pushlabtc.BuildImage(ctx, pushlabtc.BuildOptions{Source: "..", Tag: "pushlab:e2e-test"})
		t.Logf("image %s built in %v", imageTag, time.Since(start).Round(time.Millisecond))
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return imageTag
}

// The scenario library in the container topology, with pushlab's own proxy
// as an image under test that knows nothing of pushlab: started with only
// the upstream-format config file and SSL_CERT_FILE (no endpoint flags), it
// reaches the mocks purely through Apple's and Google's host names.
func TestScenariosInContainers(t *testing.T) {
	image := pushlabImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	dep, err := StartContainers(ctx, ContainerOptions{Options: pushlabtc.Options{Image: image}})
	if err != nil {
		t.Fatal(err)
	}
	defer dep.Close()
	t.Logf("container topology up in %v", time.Since(start).Round(time.Millisecond))
	lab := dep.(*containers).lab
	for _, forbidden := range []string{"--apns-host", "--fcm-endpoint", "--ca-file", "PUSHLAB_"} {
		for _, arg := range append(lab.ProxyCommand(), lab.ProxyEnvironment()...) {
			if arg == forbidden || len(arg) > len(forbidden) && arg[:len(forbidden)] == forbidden {
				t.Fatalf("the proxy under test was given %q: it must need nothing but the config and SSL_CERT_FILE", arg)
			}
		}
	}
	scenarios, err := Select(Scenarios(), os.Getenv("PUSHLAB_E2E_SCENARIO"))
	if err != nil {
		t.Fatal(err)
	}
	results := Run(ctx, dep, scenarios, RunOptions{Short: testing.Short()})
	report(t, results)
	// The server simulators ran in containers of their own, not here.
	servers := 0
	for name, log := range dep.Logs(ctx) {
		if strings.HasPrefix(name, "server-") {
			servers++
			if !strings.Contains(log, "server: https://") {
				t.Errorf("container %s did not start a server simulator:\n%s", name, log)
			}
		}
	}
	if servers == 0 {
		t.Error("no server simulator container ran")
	}
	// And the phones of every scenario without LocalDevices in devices
	// containers: each scenario's phones are there, under its prefix.
	remote := map[string]bool{}
	for _, s := range dep.(*containers).servers {
		<-s.done
		if s.err != nil {
			t.Fatal(s.err)
		}
		a := s.actor
		var phones []devicesim.State
		if err := httpjson.Call(ctx, a.devices.client, http.MethodGet, a.devices.url+"/devices", nil, &phones, http.StatusOK); err != nil {
			t.Fatal(err)
		}
		for _, p := range phones {
			remote[p.Name] = true
		}
	}
	for _, s := range scenarios {
		if !s.Runs(Containers) || len(s.Devices) == 0 || s.Heavy && testing.Short() {
			continue
		}
		name := unsafeName.ReplaceAllString(s.Name, "-") + "-" + s.Devices[0].Name
		if remote[name] == (s.LocalDevices != "") {
			t.Errorf("%s: phone %s in a devices container: %v, want %v (LocalDevices %q)", s.Name, name, remote[name], s.LocalDevices == "", s.LocalDevices)
		}
	}
	if t.Failed() {
		// The containers go when the test ends: keep the end of each log.
		for name, log := range dep.Logs(context.WithoutCancel(ctx)) {
			t.Logf("--- end of the %s container's log ---\n%s", name, log[max(0, len(log)-4000):])
		}
	}
	t.Logf("container topology: %v in all", time.Since(start).Round(time.Millisecond))
}

// A proxy image configured with the wrong topic fails in the container
// topology too, and the failure names the provider's reason.
func TestContainersCatchAWrongTopic(t *testing.T) {
	image := pushlabImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dep, err := StartContainers(ctx, ContainerOptions{Options: pushlabtc.Options{Image: image,
		ConfigOverrides: HarnessConfigOverrides(),
		EditConfig: func(cfg map[string]any) {
			cfg["ApplePushSettings"].([]any)[0].(map[string]any)["ApplePushTopic"] = "com.example.not.the.app"
		}}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			dep.Close()
		}
	}()
	deliver, err := Select(Scenarios(), "deliver/full")
	if err != nil {
		t.Fatal(err)
	}
	r := Run(ctx, dep, deliver, RunOptions{})[0]
	if r.Passed {
		t.Fatal("a proxy with the wrong topic passed deliver/full")
	}
	if text := r.Failure(); !strings.Contains(text, "proxy answered REMOVE, want OK") || !strings.Contains(text, "DeviceTokenNotForTopic") {
		t.Fatalf("the failure does not name the wrong topic:\n%s", text)
	}

	// A failed run leaves nothing behind: no container, no network.
	nw := dep.(*containers).lab.Network
	closed = true
	if err := dep.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if out, err := exec.Command("docker", "ps", "-aq", "--filter", "network="+nw).Output(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("containers left on %s: %q %v", nw, out, err)
	}
	if err := exec.Command("docker", "network", "inspect", nw).Run(); err == nil {
		t.Errorf("network %s still exists", nw)
	}
}

// --proxy-url: a proxy already running elsewhere (here, pushlab's proxy in
// this process, dialling Apple's and Google's names to the containers'
// mapped ports) is put under test against the container mocks.
func TestContainersProxyRunningElsewhere(t *testing.T) {
	image := pushlabImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The proxy's address must be known before the mocks start: listen first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dep, err := StartContainers(ctx, ContainerOptions{Options: pushlabtc.Options{Image: image}, ProxyURL: "http://" + ln.Addr().String()})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	defer dep.Close()
	lab := dep.(*containers).lab
	set, err := testpki.Load(lab.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	hostOf := func(u string) string { return strings.TrimPrefix(u, "https://") }
	routes := map[string]string{}
	for _, h := range pushlabtc.APNsAliases {
		routes[h+":443"] = hostOf(lab.APNsURL)
	}
	for _, h := range pushlabtc.FCMAliases {
		routes[h+":443"] = hostOf(lab.FCMURL)
	}
	cfg := proxytest.KeySetConfig(set, lab.KeysDir, "")
	HarnessProxyConfig(&cfg)
	var opts proxy.Options
	opts.RootCAs = lab.CAPool
	opts.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := routes[addr]
		if !ok {
			return nil, fmt.Errorf("the proxy under test dialled %s, which is not Apple's or Google's", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	opts.Bus = events.NewBus()
	srv, err := proxy.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve(ctx, ln)

	scenarios, err := Select(Scenarios(), "deliver/full,uninstall/*,retry/apns-503-shutdown")
	if err != nil {
		t.Fatal(err)
	}
	report(t, Run(ctx, dep, scenarios, RunOptions{}))
}
