// Package growstack grows a goroutine's stack once, near its top, where
// copying it is cheap.
//
// net/http starts a goroutine for each request it serves and, over HTTP/2,
// one for each request it sends. Each begins on a small stack and grows it
// on the way down through JSON, TLS and AES-GCM, every time copying the
// stack and adjusting each frame on it: a few percent of a notification's
// CPU in the server and the phones. Grown at the top, the copy is of a few
// frames, once. (CockroachDB's growstack does the same.)
package growstack

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// Grow grows the calling goroutine's stack to 16 KiB (a 12 KiB frame),
// enough for a handler's JSON and its own requests below it.
//
//go:noinline
func Grow() {
	var buf [12 << 10]byte
	keepFrame(buf[:]) // buf must exist, so the frame has its size
}

// growFor8K grows a stack under 8 KiB to 8 KiB (a 4 KiB frame, a few
// frames deep), which the transport's TLS write of a body then fits in; a
// stack of 8 KiB already (the runtime starts goroutines on the average
// stack size it saw) is left alone. A larger frame would grow that one
// too, for nothing.
//
//go:noinline
func growFor8K() {
	var buf [4 << 10]byte
	keepFrame(buf[:])
}

// keepFrame uses nothing of b; not inlined, it keeps b from being optimised
// away (and, not storing it, keeps it on the stack, with no shared write for
// concurrent goroutines to race on).
//
//go:noinline
func keepFrame(b []byte) {}

// Body is a request body that grows the stack of the goroutine reading it,
// at its first read. The HTTP/2 transport sends a request from a goroutine
// of its own, which reads the body just before it writes the body's frame
// through TLS; that write would grow the fresh stack deep in AES-GCM.
type Body struct {
	r bytes.Reader
	firstRead
}

// NewBody reads b.
func NewBody(b []byte) *Body {
	body := &Body{}
	body.r.Reset(b)
	return body
}

func (b *Body) Read(p []byte) (int, error) {
	b.grow()
	return b.r.Read(p)
}

// Close does nothing: the bytes stay the caller's.
func (*Body) Close() error { return nil }

var _ io.ReadCloser = (*Body)(nil)

// Wrap is body, read through a reader that grows the stack of the
// goroutine reading it at its first read, as Body does: for a request a
// client library made, whose body is not ours to choose.
func Wrap(body io.ReadCloser) io.ReadCloser { return &wrapped{ReadCloser: body} }

type wrapped struct {
	io.ReadCloser
	firstRead
}

func (w *wrapped) Read(p []byte) (int, error) {
	w.grow()
	return w.ReadCloser.Read(p)
}

// firstRead grows the reading goroutine's stack once, at a body's first read.
type firstRead struct{ grown bool }

func (f *firstRead) grow() {
	if !f.grown {
		f.grown = true
		growFor8K()
	}
}

// NewRequest is http.NewRequestWithContext with body as a Body: its length
// is known, and a retry on a fresh connection (GetBody) reads it again.
func NewRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	req.Body, req.ContentLength = NewBody(body), int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return NewBody(body), nil }
	return req, nil
}
