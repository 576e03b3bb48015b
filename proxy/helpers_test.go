package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/testpki"
)

var (
	setOnce sync.Once
	set     *testpki.Set
	setErr  error
)

// testSet is one set of credentials per test binary (RSA keys are slow to make).
func testSet(t testing.TB) *testpki.Set {
	t.Helper()
	setOnce.Do(func() { set, setErr = testpki.NewSet(testpki.Options{}) })
	if setErr != nil {
		t.Fatal(setErr)
	}
	return set
}

// keysDir writes the test set into a fresh directory.
func keysDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := testSet(t).Write(dir, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logBuffer is a concurrency-safe log sink for asserting what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// post sends body to the handler and returns status and body.
func post(t testing.TB, h http.Handler, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// fakeSender is a sender whose tries answer from a script, for the retry
// loop's unit tests (the integration tests use mockapns and mockfcm).
type fakeSender struct {
	p     Provider
	mu    sync.Mutex
	tries []outcome // answered in order; the last repeats
	n     int
	block chan struct{} // if set, a try waits for it (shutdown tests)
}

func (f *fakeSender) provider() Provider { return f.p }
func (f *fakeSender) close()             {}
func (f *fakeSender) failText(o outcome) string {
	return "fake: " + o.reason()
}
func (f *fakeSender) build(n *mmpush.PushNotification, _ int, _ bool) delivery {
	return delivery{provider: f.p, payload: []byte(`{}`), send: func(ctx context.Context) outcome {
		if f.block != nil {
			select {
			case <-f.block:
			case <-ctx.Done():
				return outcome{Kind: kindTransport, Message: ctx.Err().Error()}
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		i := min(f.n, len(f.tries)-1)
		f.n++
		return f.tries[i]
	}}
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// newFakeServer is a proxy with one fake app type, "fake", and recorded waits.
func newFakeServer(t testing.TB, cfg runConfig, f *fakeSender) (*Server, *[]time.Duration) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger(t)
	}
	s, err := New(cfg.Config, cfg.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.targets["fake"] = &target{appType: "fake", platform: "apple", sender: f}
	var mu sync.Mutex
	waits := &[]time.Duration{}
	s.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return s, waits
}

// get fetches path from the handler.
func get(t testing.TB, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}
