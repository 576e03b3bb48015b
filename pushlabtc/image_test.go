package pushlabtc

import (
	"os"
	"testing"
)

// The image BuildImage makes is the repository's Dockerfile, byte for byte.
func TestDockerfileIsTheRepositorys(t *testing.T) {
	repo, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if string(repo) != Dockerfile {
		t.Fatalf("pushlabtc.Dockerfile and ../Dockerfile differ: keep them identical\n--- repo ---\n%s\n--- pushlabtc ---\n%s", repo, Dockerfile)
	}
}
