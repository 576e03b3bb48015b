package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/pushlab/pushlab/internal/growstack"
)

// The provider client libraries hide what the proxy needs to retry safely:
// apns2 drops the response headers (Retry-After), firebase-admin-go makes
// several HTTP attempts per Send. Both accept an http.RoundTripper, so the
// proxy watches every attempt there and writes what it saw into the try's
// attempts, which travel in the request context.

// attempts is what the transport saw during one try.
type attempts struct {
	mu         sync.Mutex
	n          int           // HTTP attempts (the client library may make several)
	lastStatus int           // status of the last answered attempt
	retryAfter time.Duration // the last answer's Retry-After
	unanswered bool          // some attempt was sent in full and got no answer
	why        string        // how that attempt ended (an unconfirmed reason)
	written    bool          // the attempt in progress has sent its request in full
	// trace follows the try's attempts one after the other (a client
	// library makes them in turn): it travels in the try's context, so
	// that the observer need not copy each request to add one.
	trace httptrace.ClientTrace
}

type attemptsKey struct{}

// withAttempts returns ctx carrying a and a's trace: the requests made
// with it record what the transport saw into a.
func withAttempts(ctx context.Context, a *attempts) context.Context {
	// A new connection for the request: whatever an earlier one wrote
	// was not processed (the transport retries only that).
	a.trace.GetConn = func(string) { a.setWritten(false) }
	a.trace.WroteRequest = func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			a.setWritten(true)
		}
	}
	return httptrace.WithClientTrace(context.WithValue(ctx, attemptsKey{}, a), &a.trace)
}

func (a *attempts) setWritten(v bool) {
	a.mu.Lock()
	a.written = v
	a.mu.Unlock()
}

func (a *attempts) snapshot() (n, status int, retryAfter time.Duration, unanswered bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n, a.lastStatus, a.retryAfter, a.unanswered
}

// sentNow reports whether the attempt in progress has sent its request in
// full: past that point, cancelling it no longer unsends it.
func (a *attempts) sentNow() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.written || a.unanswered
}

func (a *attempts) unconfirmedWhy() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.why
}

// tryClass is how far one HTTP attempt got, the fact the retry loop needs.
type tryClass int

const (
	// neverSent: the provider cannot have acted on the request: it was not
	// written in full, or the server said it did not process it
	// (REFUSED_STREAM, a GOAWAY below its stream, a connection refused).
	neverSent tryClass = iota
	// sentUnanswered: written in full, then no answer: delivery unknown.
	sentUnanswered
	// answered: the provider answered (any status).
	answered
)

func (c tryClass) String() string {
	return [...]string{"never_sent", "unconfirmed", "answered"}[c]
}

// classify judges one HTTP attempt from its result and whether the
// transport reported the request written in full since it last took a
// connection. The transports retry an unprocessed request themselves on a
// new connection (and trace it as a new GetConn), so only the last
// connection's write counts.
func classify(resp *http.Response, err error, written bool) tryClass {
	switch {
	case err == nil && resp != nil:
		return answered
	case !written || unprocessed(err):
		return neverSent
	default:
		return sentUnanswered
	}
}

// unprocessed reports errors by which HTTP/2 tells the client that the
// server did not act on its request, whatever was written: the server
// refused the stream, or went away (GOAWAY) below its id, or no connection
// could be had at all. Both x/net/http2 (apns2) and net/http's bundled copy
// (firebase) are recognized; the latter's types are unexported, hence the
// words.
func unprocessed(err error) bool {
	if err == nil {
		return false
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		return se.Code == http2.ErrCodeRefusedStream
	}
	if errors.Is(err, http2.ErrNoCachedConn) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	msg := err.Error()
	for _, m := range unprocessedWords {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

var unprocessedWords = []string{
	"REFUSED_STREAM",
	"Server's graceful shutdown GOAWAY", // the stream was above the GOAWAY's last stream id
	"http2: client conn not usable",
	"http2: client conn could not be established",
	"http2: no cached connection was available",
	"cannot retry err [", // a retryable (unprocessed) error whose body could not be rewound
}

// unconfirmedReason names how a written request lost its answer, for the
// metrics: the try's deadline, the connection, a GOAWAY, a stream reset.
func unconfirmedReason(err error) string {
	var ga http2.GoAwayError
	var se http2.StreamError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ReasonTimeout
	case errors.As(err, &ga), strings.Contains(err.Error(), "GOAWAY"):
		return "goaway"
	case errors.As(err, &se), strings.Contains(err.Error(), "stream error"):
		return "stream_reset"
	default:
		return "connection_lost"
	}
}

// observer is the RoundTripper the senders' clients go through.
type observer struct {
	base     http.RoundTripper
	provider Provider
	m        *metrics
	// guard, if set, may answer in the provider's place when an attempt
	// failed (sent: the request had been written in full); see fcmGuard.
	guard func(req *http.Request, err error, sent bool) *http.Response
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptsKey{}).(*attempts)
	if a == nil { // outside a try: this attempt's own
		a = &attempts{}
		req = req.WithContext(withAttempts(req.Context(), a))
	}
	if req.Body != nil && req.Body != http.NoBody {
		// The HTTP/2 transports send each request from a goroutine of
		// their own, on a new stack that writing the body through TLS
		// would grow deep in AES-GCM, a copy of the whole stack: grown
		// at the body's first read instead, a copy of a few frames.
		grown := *req
		grown.Body = growstack.Wrap(req.Body)
		req = &grown
	}
	resp, err := o.base.RoundTrip(req)
	a.mu.Lock()
	class := classify(resp, err, a.written)
	a.n++
	a.written = false
	if class == sentUnanswered {
		a.unanswered = true
		a.why = unconfirmedReason(err)
	}
	if resp != nil {
		a.lastStatus = resp.StatusCode
		a.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	a.mu.Unlock()
	if err == nil {
		o.m.observeAttempt(o.provider, resp.StatusCode)
	} else {
		o.m.observeAttempt(o.provider, 0)
	}
	if err != nil && o.guard != nil {
		if r := o.guard(req, err, class == sentUnanswered); r != nil {
			return r, nil
		}
	}
	return resp, err
}

// CloseIdleConnections lets apns2's Client.CloseIdleConnections reach the
// HTTP/2 transport underneath.
func (o *observer) CloseIdleConnections() {
	if c, ok := o.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// rootCAs is the pool the senders trust: RootCAs if set, else the system
// roots (SSL_CERT_FILE replaces them) plus CAFile. Nil means the system roots.
func (c *runConfig) rootCAs() (*x509.CertPool, error) {
	if c.RootCAs != nil {
		return c.RootCAs, nil
	}
	if c.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("proxy: CAFile: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("proxy: CAFile %s holds no PEM certificate", c.CAFile)
	}
	return pool, nil
}

// serverTLS is the TLS configuration the proxy serves with, or nil for HTTP.
func (c *runConfig) serverTLS() (*tls.Config, error) {
	if c.TLSConfig != nil {
		return c.TLSConfig, nil
	}
	if c.TLSCert == "" && c.TLSKey == "" {
		return nil, nil
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		return nil, errors.New("proxy: TLSCert and TLSKey go together")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("proxy: TLS: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
