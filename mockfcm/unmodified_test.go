package mockfcm_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
)

// TestUnmodifiedProcess checks the recipe for a process that cannot be
// changed (a proxy binary): plain firebase.NewApp with a credentials file and
// an endpoint, trusting the mock through SSL_CERT_FILE only. The client runs
// in a child process because the system roots are read once per process.
func TestUnmodifiedProcess(t *testing.T) {
	if os.Getenv("MOCKFCM_CHILD") == "1" {
		unmodifiedClient()
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	f := newFixture(t, false)
	a, _ := accounts(t)
	dev := f.device(t, testProjectA, "com.example", true)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.s.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	sa := *a
	sa.TokenURI = f.s.TokenURL()
	saFile := filepath.Join(dir, "sa.json")
	if err := os.WriteFile(saFile, sa.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnmodifiedProcess$")
	cmd.Env = append(os.Environ(), "MOCKFCM_CHILD=1", "SSL_CERT_FILE="+ca, "MOCKFCM_SA="+saFile,
		"MOCKFCM_ENDPOINT="+f.s.Endpoint(), "MOCKFCM_TOKEN="+dev.reg.Token)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "name=projects/pushlab-a/messages/0:") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := dev.next(t); !strings.Contains(string(got.Payload), `"unmodified"`) {
		t.Fatalf("payload %s", got.Payload)
	}
}

func unmodifiedClient() {
	ctx := context.Background()
	app, err := firebase.NewApp(ctx, nil, option.WithCredentialsFile(os.Getenv("MOCKFCM_SA")), //nolint:staticcheck // what proxies call
		option.WithEndpoint(os.Getenv("MOCKFCM_ENDPOINT")))
	if err != nil {
		fmt.Println("app:", err)
		os.Exit(2)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		fmt.Println("messaging:", err)
		os.Exit(2)
	}
	name, err := client.Send(ctx, &messaging.Message{Token: os.Getenv("MOCKFCM_TOKEN"), Data: map[string]string{"via": "unmodified"}})
	if err != nil {
		fmt.Println("send:", err)
		os.Exit(2)
	}
	fmt.Println("name=" + name)
}
