package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
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
}

type attemptsKey struct{}

func withAttempts(ctx context.Context, a *attempts) context.Context {
	return context.WithValue(ctx, attemptsKey{}, a)
}

func (a *attempts) snapshot() (n, status int, retryAfter time.Duration, unanswered bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n, a.lastStatus, a.retryAfter, a.unanswered
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
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			sent.Store(true)
		}
	}}
	resp, err := o.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err == nil {
		o.m.observeAttempt(o.provider, resp.StatusCode)
	} else {
		o.m.observeAttempt(o.provider, 0)
	}
	if a != nil {
		a.mu.Lock()
		a.n++
		if err != nil && sent.Load() {
			a.unanswered = true
		}
		if resp != nil {
			a.lastStatus = resp.StatusCode
			a.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		a.mu.Unlock()
	}
	if err != nil && o.guard != nil {
		if r := o.guard(req, err, sent.Load()); r != nil {
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
func (c *Config) rootCAs() (*x509.CertPool, error) {
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
func (c *Config) serverTLS() (*tls.Config, error) {
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
