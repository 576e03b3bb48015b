package pushlabtc_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// The example starts containers: without a Docker engine the package is
// skipped, except under CI=true, where container tests must run.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1", "TESTCONTAINERS_RYUK_DISABLED": "true"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	if err := exec.Command("docker", "info").Run(); err != nil && os.Getenv("CI") == "" {
		fmt.Println("pushlabtc: no Docker engine; skipped (CI runs it):", err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
