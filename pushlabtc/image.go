package pushlabtc

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/testcontainers/testcontainers-go"
)

// Dockerfile is the repository's Dockerfile: the static binary in a FROM
// scratch image, no CA, no keys (every run mounts its own). A test keeps the
// two identical.
const Dockerfile = `# The pushlab image: one static binary and nothing else — no CA, no keys.
# Build it with ` + "`make image`" + ` (which compiles dist/pushlab with CGO_ENABLED=0);
# no base image is pulled. Every run mounts its own ` + "`pushlab keys init`" + ` set:
# the mocks read it with --keys, and a proxy under test trusts pushlab's CA
# through a mounted SSL_CERT_FILE, as an unmodified proxy image would.
FROM scratch
COPY pushlab /pushlab
USER 65532:65532
ENTRYPOINT ["/pushlab"]
CMD ["--help"]
`

// BuildOptions say where the pushlab binary comes from.
type BuildOptions struct {
	// Binary is a static linux pushlab executable (CGO_ENABLED=0). Empty:
	// build one from Source with the go tool.
	Binary string
	// Source is the module directory to build from (default ".").
	Source string
	// Tag names the image (default "pushlab:e2e").
	Tag string
}

// BuildImage builds the pushlab image from the repository's Dockerfile and
// returns its tag. Nothing is pulled.
func BuildImage(ctx context.Context, opts BuildOptions) (string, error) {
	if opts.Tag == "" {
		opts.Tag = "pushlab:e2e"
	}
	repo, tag, ok := strings.Cut(opts.Tag, ":")
	if !ok {
		tag = "latest"
	}
	dir, err := os.MkdirTemp("", "pushlabtc-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pushlab")
	if opts.Binary == "" {
		src := opts.Source
		if src == "" {
			src = "."
		}
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/pushlab")
		build.Dir = src
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("pushlabtc: static build in %s: %w\n%s", src, err, out)
		}
	} else {
		if err := checkStatic(opts.Binary); err != nil {
			return "", err
		}
		data, err := os.ReadFile(opts.Binary)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(Dockerfile), 0o644); err != nil {
		return "", err
	}
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("pushlabtc: docker: %w", err)
	}
	defer p.Close()
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Dockerfile: "Dockerfile", Repo: repo, Tag: tag, KeepImage: true}}
	if _, err := p.BuildImage(ctx, req); err != nil {
		return "", fmt.Errorf("pushlabtc: docker build: %w", err)
	}
	return repo + ":" + tag, nil
}

// checkStatic refuses a binary a FROM scratch image cannot run.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("pushlabtc: %s is not a linux executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("pushlabtc: " + path + " is dynamically linked; build it with CGO_ENABLED=0 (make build)")
		}
	}
	return nil
}
