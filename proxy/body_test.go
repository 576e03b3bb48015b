package proxy

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pushlab/pushlab/mmpush"
)

// countingReader counts what the client's transport read of a request body.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// An oversize body to send_push or ack is answered FAIL, over HTTP/2 as over
// HTTP/1.1, and the exchange completes: the proxy reads the body to its end
// before answering, where a reset stream would make clients like curl drop
// the answer (curl: "Stream error in the HTTP/2 framing layer").
func TestOversizeBody(t *testing.T) {
	l := newLab(t, nil)
	big := `{"server_id":"s","device_id":"d","platform":"apple","message":"` + strings.Repeat("x", 3*DefaultMaxRequestBody) + `"}`
	for _, h2 := range []bool{false, true} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: l.set.CA.Pool()}, ForceAttemptHTTP2: h2}}
		for path, want := range map[string]string{
			mmpush.PathSendPush: `{"error":"Failed to read message body: http: request body too large","status":"FAIL"}` + "\n",
			mmpush.PathAck:      `{"error":"Failed to read ack body: http: request body too large","status":"FAIL"}` + "\n",
		} {
			body := &countingReader{r: strings.NewReader(big)}
			req, _ := http.NewRequest(http.MethodPost, l.url+path, body)
			req.ContentLength = int64(len(big))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("h2=%v %s: %v", h2, path, err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || string(b) != want {
				t.Fatalf("h2=%v %s: %s %d %q %v, want 200 %q", h2, path, resp.Proto, resp.StatusCode, b, err, want)
			}
			if (resp.ProtoMajor == 2) != h2 {
				t.Fatalf("h2=%v: answered over %s", h2, resp.Proto)
			}
			if n := body.n.Load(); n != int64(len(big)) {
				t.Fatalf("h2=%v %s: the client could send %d of %d bytes before the stream ended", h2, path, n, len(big))
			}
		}
	}
}

// MaxRequestBodyBytes -1 reads any size, as upstream.
func TestNoBodyLimit(t *testing.T) {
	l := newLab(t, func(c *runConfig) { c.MaxRequestBodyBytes = -1 })
	big := `{"id":"a","platform":"ios","type":"message","post_id":"` + strings.Repeat("p", 2*DefaultMaxRequestBody) + `"}`
	if got := l.post(mmpush.PathAck, big); got != `{"status":"OK"}`+"\n" {
		t.Fatalf("answer %q", got)
	}
}
