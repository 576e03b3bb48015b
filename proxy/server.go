package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/internal/httpserve"
	"github.com/pushlab/pushlab/internal/workers"
	"github.com/pushlab/pushlab/mmpush"
)

// actor is the proxy's name on the event spine.
const actor = "proxy"

// Server is a push proxy: the Mattermost push-proxy API in front of one
// long-lived APNs or FCM client per configured app type.
type Server struct {
	cfg       runConfig
	log       *slog.Logger
	logCloser io.Closer
	bus       *events.Bus
	targets   map[string]*target
	failed    map[string]error // app types that did not initialize
	metrics   *metrics
	gatherer  prometheus.Gatherer
	throttle  *throttle
	workers   *workers.Pool // run the sends and their tries
	tls       *tls.Config
	handler   http.Handler

	// sleep waits between tries; tests replace it to record the waits.
	sleep func(ctx context.Context, d time.Duration) error

	servers   httpserve.Group // Shutdown: drain
	closeOnce sync.Once
}

// New builds a proxy from cfg, wired into the process by opts: one sender
// per app type. As upstream, an app type whose credentials do not load is
// logged and left out (a send_push for it is answered as an unknown
// platform); see Targets and InitErrors. New fails only on settings that
// concern the whole proxy (TLS, CA, metrics).
func New(c Config, opts Options) (*Server, error) {
	c.applyDefaults()
	if err := c.ResendPolicy.check(); err != nil {
		return nil, err
	}
	cfg := runConfig{Config: c, Options: opts}
	s := &Server{cfg: cfg, bus: cfg.Bus, targets: map[string]*target{}, failed: map[string]error{}, sleep: sleepCtx,
		workers: workers.New(workerLinger, nil)}
	if cfg.Logger != nil {
		s.log = cfg.Logger
	} else {
		l, c, err := cfg.newLogger()
		if err != nil {
			return nil, err
		}
		s.log, s.logCloser = l, c
	}
	reg := cfg.Registerer
	s.gatherer = cfg.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, s.gatherer = r, r
	}
	if s.gatherer == nil {
		if g, ok := reg.(prometheus.Gatherer); ok {
			s.gatherer = g
		} else {
			s.gatherer = prometheus.DefaultGatherer
		}
	}
	var err error
	if s.metrics, err = newMetrics(reg); err != nil {
		s.closeLog()
		return nil, fmt.Errorf("proxy: metrics: %w", err)
	}
	if s.tls, err = cfg.serverTLS(); err != nil {
		s.closeLog()
		return nil, err
	}
	if _, err := cfg.rootCAs(); err != nil {
		s.closeLog()
		return nil, err
	}
	for _, as := range cfg.ApplePushSettings {
		s.log.Info("initializing apple notification server", "type", as.Type)
		snd, err := newAPNsSender(as, &s.cfg, s.metrics, s.log)
		s.addTarget(as.Type, "apple", snd, err)
	}
	for _, an := range cfg.AndroidPushSettings {
		s.log.Info("initializing android notification server", "type", an.Type)
		snd, err := newFCMSender(an, &s.cfg, s.metrics, s.log)
		s.addTarget(an.Type, "android", snd, err)
	}
	s.throttle = newThrottle(cfg.ThrottlePerSec, cfg.ThrottleMemoryStoreSize, cfg.ThrottleVaryByHeader)
	if s.throttle != nil {
		s.throttle.shared = cfg.UpstreamThrottleKey
	}
	s.handler = s.routes()
	s.servers.Shutdown = s.drain
	return s, nil
}

func (s *Server) addTarget(appType, platform string, snd sender, err error) {
	if err != nil {
		s.log.Error("failed to initialize client", "type", appType, "error", err)
		s.failed[appType] = err
		return
	}
	if old, dup := s.targets[appType]; dup {
		s.log.Warn("app type configured twice: the later one wins", "type", appType)
		old.sender.close()
	}
	s.targets[appType] = &target{appType: appType, platform: platform, sender: snd}
}

// Targets lists the app types the proxy can send to, sorted.
func (s *Server) Targets() []string {
	out := make([]string, 0, len(s.targets))
	for k := range s.targets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// InitErrors are the app types whose sender did not initialize, and why.
func (s *Server) InitErrors() map[string]error { return s.failed }

// Handler is the proxy's HTTP API, throttled:
//
//	GET  /                    upstream's banner
//	POST /api/v1/send_push    PushNotification → Response
//	POST /api/v1/ack          Ack → Response
//	GET  /version             build information
//	GET  /metrics             Prometheus (when EnableMetrics)
//	GET  /healthz             liveness and the app types served (not throttled)
//	GET  /events              the proxy's event stream, websocket (when Options.Bus is set; not throttled)
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "<html><body>Mattermost Push Proxy</body></html>")
	})
	sendPush := s.timed("send_push", s.sendPushOnWorker)
	mux.Handle("POST "+mmpush.PathSendPush, sendPush)
	mux.Handle("POST "+mmpush.PathAck, s.timed("ack", s.ackOnWorker))
	mux.HandleFunc("GET /version", s.handleVersion)
	if s.cfg.EnableMetrics {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	}
	throttled := s.throttle.wrap(mux, func(r *http.Request, key string) {
		s.metrics.throttled.Inc()
		s.log.Warn("request throttled", "code", http.StatusTooManyRequests, "path", r.URL.Path, "client", key)
	})
	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.handleHealthz)
	if s.bus != nil {
		root.Handle("GET /events", access.Guard(s.cfg.ControlToken, events.Handler(s.bus)))
	}
	root.Handle("/", throttled)
	if s.throttle != nil {
		return s.recoverer(root)
	}
	// Unthrottled, a send_push (the request every notification makes) goes
	// straight to its handler, the one both muxes would pick, without their
	// pattern matching twice.
	return s.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == mmpush.PathSendPush && r.URL.RawPath == "" {
			sendPush.ServeHTTP(w, r)
			return
		}
		root.ServeHTTP(w, r)
	}))
}

func (s *Server) timed(endpoint string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h(w, r)
		s.metrics.observeRequest(endpoint, time.Since(start).Seconds())
	})
}

// recoverer keeps the server serving if a handler panics.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				buf := make([]byte, 4096)
				buf = buf[:runtime.Stack(buf, false)]
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(buf))
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// serveSendPush answers a send_push; it runs on a worker (sendPushOnWorker).
func (s *Server) serveSendPush(w http.ResponseWriter, r *http.Request) {
	body, drain := s.limitBody(w, r)
	n, appVersion, err := ParseSendPush(body)
	drain()
	var resp mmpush.Response
	if err != nil {
		resp = s.badRequest(n.AckID, "send_push", err)
	} else {
		resp, _ = s.send(r.Context(), &n, appVersion)
	}
	if err := writeResponse(w, resp); err != nil {
		s.log.Warn("failed to write response", "error", err)
	}
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	body, drain := s.limitBody(w, r)
	a, err := ParseAck(body)
	drain()
	resp := mmpush.OK()
	if err != nil {
		resp = s.badRequest(a.ID, "ack", err)
	} else {
		s.metrics.acks.WithLabelValues(a.Platform, a.Type).Inc()
		s.log.Debug("acknowledged delivery receipt", "ack_id", a.ID, "platform", a.Platform, "type", a.Type)
		if s.bus != nil {
			attrs := map[string]string{"platform": a.Platform, "type": a.Type, "received_at": fmt.Sprint(a.ReceivedAt)}
			if a.PostID != "" {
				attrs["post_id"] = a.PostID
			}
			if a.IsIDLoaded {
				attrs["id_loaded"] = "true"
			}
			s.bus.Publish(events.Event{TraceID: a.ID, Hop: events.ProxyAcked, Actor: actor, Status: mmpush.StatusOK, Detail: "delivery receipt", Attrs: attrs})
		}
	}
	if err := writeResponse(w, resp); err != nil {
		s.log.Warn("failed to write response", "error", err)
	}
}

// limitBody bounds r's body to MaxRequestBodyBytes. The returned drain, run
// after parsing and before the answer is written, reads what the parser left (up to
// drainFactor times the limit) so the client sees a complete exchange: the
// answer, not a reset stream.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) (io.Reader, func()) {
	limit := int64(s.cfg.MaxRequestBodyBytes)
	if limit < 0 {
		return r.Body, func() {}
	}
	orig := r.Body
	return http.MaxBytesReader(w, r.Body, limit), func() {
		io.Copy(io.Discard, io.LimitReader(orig, drainFactor*limit))
	}
}

// badRequest logs a validation failure once and builds its FAIL answer.
func (s *Server) badRequest(traceID, endpoint string, err error) mmpush.Response {
	reason := "bad_body"
	for _, e := range []error{ErrMissingServerID, ErrMissingDeviceID, ErrUnknownPlatform, ErrMissingAckID, ErrMissingAckPlat, ErrMissingAckType} {
		if errors.Is(err, e) {
			reason = e.Error()
		}
	}
	s.metrics.badRequests.WithLabelValues(endpoint, reason).Inc()
	s.log.Warn("bad request", "endpoint", endpoint, "error", err)
	if s.bus != nil && traceID != "" {
		s.bus.Publish(events.Event{TraceID: traceID, Hop: events.ProxyResponded, Actor: actor, Status: mmpush.StatusFail, Detail: err.Error(), Attrs: map[string]string{"endpoint": endpoint}})
	}
	return mmpush.Fail(err.Error())
}

// versionInfo is upstream's GET /version body (its build information),
// plus the "version" and "hash" of PROTOCOLS.md §1.
type versionInfo struct {
	GitVersion   string
	GitCommit    string
	GitTreeState string
	BuildDate    string
	GoVersion    string
	Compiler     string
	Platform     string
	Version      string `json:"version"`
	Hash         string `json:"hash"`
}

func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	v, c := s.cfg.Version, s.cfg.Commit
	if v == "" {
		v = "devel"
	}
	if c == "" {
		c = "unknown"
	}
	httpjson.Write(w, http.StatusOK, versionInfo{GitVersion: v, GitCommit: c, GitTreeState: "unknown", BuildDate: "unknown",
		GoVersion: runtime.Version(), Compiler: runtime.Compiler, Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Version: v, Hash: c})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	httpjson.Write(w, http.StatusOK, struct {
		Status  string   `json:"status"`
		Targets []string `json:"targets"`
	}{mmpush.StatusOK, s.Targets()})
}

// Serve answers on ln (TLS if the config has a certificate) until ctx ends,
// then stops accepting and waits for in-flight requests, sends included, for
// up to ShutdownTimeoutSec. It returns nil after a clean drain. Close the
// Server afterwards to release the provider connections.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	write := connectionTimeout
	if st := s.cfg.sendTimeout() + 10*time.Second; st > write {
		write = st
	}
	hs := &http.Server{
		Handler:      s.handler,
		ReadTimeout:  connectionTimeout,
		WriteTimeout: write,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.tls != nil {
		// TLS on the listener rather than hs.TLSConfig, so that ServeTLS
		// does not add protocols to the NextProtos of Options.TLSConfig.
		cfg := s.tls.Clone()
		if len(cfg.NextProtos) == 0 {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		}
		ln = tls.NewListener(ln, cfg)
	}
	s.log.Info("push proxy listening", "addr", ln.Addr().String(), "tls", s.tls != nil, "targets", s.Targets())
	return s.servers.Serve(ctx, hs, ln)
}

// drain stops hs once Serve's context ended: no new connections, and the
// requests in flight (sends included) get ShutdownTimeoutSec to finish.
func (s *Server) drain(hs *http.Server) error {
	s.log.Info("stopping: draining in-flight requests", "timeout", time.Duration(s.cfg.ShutdownTimeoutSec)*time.Second)
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeoutSec)*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
		err = fmt.Errorf("proxy: drain: %w", err)
	}
	s.log.Info("stopped")
	return err
}

// Close releases the provider connections and the log file.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		for _, t := range s.targets {
			t.sender.close()
		}
		s.workers.Close()
		s.closeLog()
	})
	return nil
}

func (s *Server) closeLog() {
	if s.logCloser != nil {
		s.logCloser.Close()
	}
}

func fmtErr(base error, detail string) error { return fmt.Errorf("%w %s", base, detail) }
