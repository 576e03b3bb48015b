package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
	"golang.org/x/net/http2"

	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// requireDocker skips outside CI when no Docker engine answers; under CI=true
// a container test must run, so a missing engine is a failure.
func requireDocker(t *testing.T) {
	t.Helper()
	// Containers are reached on loopback only: without the override
	// testcontainers aims at the default gateway, an address outside this
	// machine; and no reaper image can be pulled here.
	for k, v := range map[string]string{"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1", "TESTCONTAINERS_RYUK_DISABLED": "true"} {
		if os.Getenv(k) != v {
			t.Setenv(k, v)
		}
	}
	err := exec.Command("docker", "info").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI=true but the Docker engine does not answer (%v): container tests must run", err)
	}
	t.Skipf("no Docker engine (%v); CI runs this test", err)
}

// keyFiles hands a key set to a container at /keys, readable by the image's
// unprivileged user (these are throwaway test credentials).
func keyFiles(t *testing.T, set *testpki.Set) []testcontainers.ContainerFile {
	t.Helper()
	dir := t.TempDir()
	if err := set.Write(dir, true); err != nil {
		t.Fatal(err)
	}
	var files []testcontainers.ContainerFile
	for _, name := range set.Files() {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, testcontainers.ContainerFile{Reader: bytes.NewReader(data), ContainerFilePath: "/keys/" + name, FileMode: 0o444})
	}
	return files
}

// The image built from the repository's Dockerfile runs mockapns, and the real
// apns2 client on the host talks to it over TLS + HTTP/2 by Apple's host name.
func TestContainerMockAPNsServesTheRealClient(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	set, err := testpki.NewSet(testpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: pushlabImage(t),
			Cmd:   []string{"mockapns", "--keys", "/keys", "--listen", ":2197", "--control-listen", ":8197"},
			// Bound beyond the container's loopback, the control API needs a token.
			Env:          map[string]string{access.EnvToken: containerToken},
			ExposedPorts: []string{"2197/tcp", "8197/tcp"},
			Files:        keyFiles(t, set),
			// FROM scratch has no shell: wait on HTTP, never on exec.
			WaitingFor: wait.ForHTTP("/healthz").WithPort("8197/tcp").WithStartupTimeout(time.Minute),
		},
		Started: true,
	})
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatalf("start mockapns container: %v", err)
	}
	apnsAddr, err := c.PortEndpoint(ctx, "2197/tcp", "")
	if err != nil {
		t.Fatal(err)
	}
	control, err := c.PortEndpoint(ctx, "8197/tcp", "http")
	if err != nil {
		t.Fatal(err)
	}

	// A device registers through the control API, as a devicesim process does.
	body, _ := json.Marshal(map[string]string{"app": set.BundleID, "env": "production", "device": "c1"})
	controlClient := &http.Client{Transport: access.Transport(containerToken, nil)}
	resp, err := controlClient.Post(control+"/control/devices", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg pushtest.Registration
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || len(reg.Token) != 64 {
		t.Fatalf("register: HTTP %d, %+v", resp.StatusCode, reg)
	}

	// The real apns2 client, token auth with the set's .p8, trusting only pushlab's CA.
	client := apns2.NewTokenClient(&token.Token{AuthKey: set.APNsKey.Key, KeyID: set.APNsKey.KeyID, TeamID: set.TeamID}).Production()
	client.Host = "https://" + apnsAddr
	client.HTTPClient.Transport.(*http2.Transport).TLSClientConfig = &tls.Config{RootCAs: set.CA.Pool(), ServerName: "api.push.apple.com"}

	ok, err := client.PushWithContext(ctx, &apns2.Notification{DeviceToken: reg.Token, Topic: set.BundleID,
		Payload: []byte(`{"aps":{"alert":"from a container"},"ack_id":"c-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if ok.StatusCode != 200 || ok.ApnsID == "" {
		t.Fatalf("push: %d %s", ok.StatusCode, ok.Reason)
	}
	bad, err := client.PushWithContext(ctx, &apns2.Notification{DeviceToken: strings.Repeat("ab", 32), Topic: set.BundleID, Payload: []byte(`{"aps":{}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if bad.StatusCode != 400 || bad.Reason != apns2.ReasonBadDeviceToken {
		t.Fatalf("unknown token: %d %s, want 400 BadDeviceToken", bad.StatusCode, bad.Reason)
	}

	// The device is offline, so the mock stored the push for it.
	resp, err = controlClient.Get(fmt.Sprintf("%s/control/devices/%s/pending", control, reg.Token))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pending []pushtest.Delivery
	if err := json.Unmarshal(raw, &pending); err != nil || len(pending) != 1 || !strings.Contains(string(pending[0].Payload), "from a container") {
		t.Fatalf("pending for the offline device: %s (%v)", raw, err)
	}
}

// containerToken guards the control APIs of the actors in containers.
const containerToken = "pushlab-e2e-container"
