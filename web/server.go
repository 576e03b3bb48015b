package web

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/events"
)

//go:embed static
var static embed.FS

// Defaults sized for a demo, a CI scenario or a load run watched live.
const (
	DefaultHistory       = 50000 // frames the hub keeps for snapshots and resumes
	DefaultClientQueue   = 8192  // frames queued per browser before it is evicted
	DefaultSnapshot      = 300   // notifications a freshly opened page receives
	DefaultMergeWindow   = 150 * time.Millisecond
	TokenEnv             = "PUSHLAB_WEB_TOKEN"
	tokenCookie          = "pushlab_web_token"
	wsPingEvery          = 15 * time.Second
	wsPongWait           = 40 * time.Second
	wsWriteTimeout       = 10 * time.Second
	stateRefreshInterval = 150 * time.Millisecond
	statsInterval        = 500 * time.Millisecond
)

// Config configures the view. At least one of Lab and Collect is needed.
type Config struct {
	// Lab is an in-process lab: its event bus is read, and the controls drive
	// its server simulator, devices and mocks through their Go APIs.
	Lab *e2e.Lab
	// Collect lists remote actors' event streams (ws:// or wss://…/events),
	// merged by time with the lab's. Controls need a Lab.
	Collect []string
	// CollectTLS trusts wss:// sources (nil: the system roots).
	CollectTLS *tls.Config
	// CollectToken is sent to Collect sources that require an access token
	// (the actors' --control-token / PUSHLAB_CONTROL_TOKEN).
	CollectToken string
	// Token, if set, is required on every request (Authorization: Bearer,
	// the cookie the page sets, or ?token= once). Serve refuses a listener
	// that is not loopback without one.
	Token string
	// History, ClientQueue, Snapshot and MergeWindow default to the
	// constants above; MergeWindow applies only with more than one source.
	History     int
	ClientQueue int
	Snapshot    int
	MergeWindow time.Duration
	Logger      *slog.Logger
}

// Server is the live web view: a gin router serving the page, its REST
// controls and the browser websocket, fed by the event sources.
type Server struct {
	cfg     Config
	log     *slog.Logger
	hub     *hub
	stats   *stats
	handler http.Handler

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dirty   chan struct{} // the devices' state may have changed
	sources sync.Map      // name → SourceState
}

// SourceState is an event source as the page shows it: up or down, and why.
type SourceState struct {
	State string `json:"state"`
	Err   string `json:"err,omitempty"`
}

// New starts reading the sources at once; Close stops them.
func New(cfg Config) (*Server, error) {
	if cfg.Lab == nil && len(cfg.Collect) == 0 {
		return nil, errors.New("web: nothing to show: give a Lab or Collect URLs")
	}
	for _, u := range cfg.Collect {
		if _, err := withSince(u, 0); err != nil {
			return nil, err
		}
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.ClientQueue <= 0 {
		cfg.ClientQueue = DefaultClientQueue
	}
	if cfg.Snapshot <= 0 {
		cfg.Snapshot = DefaultSnapshot
	}
	if cfg.MergeWindow <= 0 {
		cfg.MergeWindow = DefaultMergeWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hub: newHub(cfg.History, cfg.ClientQueue, cfg.Snapshot),
		stats: newStats(), dirty: make(chan struct{}, 1)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()

	var in sink = s
	if n := len(cfg.Collect); n > 1 || (n == 1 && cfg.Lab != nil) {
		m := &merger{out: s, window: cfg.MergeWindow}
		in = m
		s.goRun(func() { m.run(s.ctx) })
	}
	if cfg.Lab != nil {
		s.goRun(func() { readBus(s.ctx, "lab", cfg.Lab.Bus, events.DefaultBuffer*8, in) })
		s.goRun(s.refreshDevices)
	}
	for _, u := range cfg.Collect {
		s.goRun(func() { readRemote(s.ctx, u, cfg.CollectTLS, cfg.CollectToken, s.log, in) })
	}
	s.goRun(s.publishStats)
	return s, nil
}

func (s *Server) goRun(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Close stops the sources and drops every browser.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	s.hub.mu.Lock()
	for c := range s.hub.clients {
		delete(s.hub.clients, c)
		c.close()
	}
	s.hub.mu.Unlock()
	return nil
}

// Handler serves:
//
//	GET  /                     the page (and /assets/… it loads)
//	GET  /ws?since=N           the browser websocket: snapshot, then live frames
//	GET  /api/state            devices, contents mode, faults, sources
//	GET  /api/older?before=N   older notifications' frames ("load older")
//	POST /api/send             {type, user_id | device, message, …}
//	PUT  /api/contents         {contents}
//	POST /api/devices/{name}/{online|offline|uninstall|reinstall}
//	GET|POST|DELETE /api/faults[/{provider}/{id}]
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves the view on ln until ctx ends. A listener that is not on
// loopback needs Config.Token: the controls reach every actor of the lab.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if NeedsToken(ln.Addr()) && s.cfg.Token == "" {
		ln.Close()
		return fmt.Errorf("web: %s is not a loopback address: set an access token (--token or %s)", ln.Addr(), TokenEnv)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		s.Close() // websockets are hijacked: Shutdown does not end them
	})
	defer stop()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// NeedsToken reports whether a view listening on a needs Config.Token: any
// address but loopback does.
func NeedsToken(a net.Addr) bool { return !isLoopback(a) }

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sink: what the sources read goes to the hub, counted on the way.

func (s *Server) event(src string, e events.Event) {
	s.stats.count(e)
	s.hub.event(src, e)
	if strings.HasPrefix(e.Actor, "device:") || e.Hop == events.ServerRemoved || e.Hop == events.DeviceRegistered {
		s.markDirty()
	}
}

func (s *Server) gap(src string, after, next uint64, why string) {
	s.stats.gaps.Add(next - after - 1)
	s.hub.gap(src, after, next, why)
}

func (s *Server) source(src, state string, err error) {
	st := SourceState{State: state}
	if err != nil {
		st.Err = err.Error()
	}
	if prev, ok := s.sources.Load(src); ok && prev.(SourceState) == st {
		return // still down for the same reason: one report is enough
	}
	s.sources.Store(src, st)
	s.hub.source(src, state, err)
}

func (s *Server) sourceStates() map[string]SourceState {
	out := map[string]SourceState{}
	s.sources.Range(func(k, v any) bool {
		out[k.(string)] = v.(SourceState)
		return true
	})
	return out
}

func (s *Server) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// refreshDevices sends the fleet's state when it may have changed, at most
// every stateRefreshInterval, and every few seconds regardless.
func (s *Server) refreshDevices() {
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	s.hub.setState(kindDevices, s.deviceViews())
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.dirty:
		case <-t.C:
		}
		s.hub.setState(kindDevices, s.deviceViews())
		if !sleep(s.ctx, stateRefreshInterval) {
			return
		}
	}
}

func (s *Server) publishStats() {
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			snap := s.stats.tick(now)
			snap.Clients = s.hub.clientCount()
			snap.Evicted = s.hub.evicted.Load()
			snap.Sources = s.sourceStates()
			s.hub.setState(kindStats, snap)
		}
	}
}

// authorized checks the access token, if one is set.
func (s *Server) authorized(c *gin.Context) bool {
	if s.cfg.Token == "" {
		return true
	}
	want := []byte(s.cfg.Token)
	ok := func(got string) bool { return got != "" && subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	if t, found := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer "); found && ok(t) {
		return true
	}
	if ck, err := c.Cookie(tokenCookie); err == nil && ok(ck) {
		return true
	}
	return ok(c.Query("token"))
}

// sameOrigin is the websocket's and the controls' Origin check: a browser
// page of another site must not drive the lab. Tools send no Origin.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (s *Server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), s.guard)
	assets, _ := fs.Sub(static, "static")
	index, _ := fs.ReadFile(assets, "index.html")
	r.GET("/", func(c *gin.Context) {
		if t := c.Query("token"); t != "" {
			// Keep the token out of the address bar and the history.
			c.SetSameSite(http.SameSiteStrictMode)
			c.SetCookie(tokenCookie, t, 0, "/", "", false, true)
			c.Redirect(http.StatusSeeOther, "/")
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	})
	r.StaticFS("/assets", http.FS(assets))
	r.GET("/ws", s.serveWS)
	s.api(r.Group("/api"))
	return r
}

// guard enforces the token and, on anything that changes state, the origin.
func (s *Server) guard(c *gin.Context) {
	if !s.authorized(c) {
		c.Header("WWW-Authenticate", `Bearer realm="pushlab web"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "access token required: open the URL pushlab printed (…?token=…) or send Authorization: Bearer"})
		return
	}
	if c.Request.Method != http.MethodGet && !sameOrigin(c.Request) {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "cross-origin request refused"})
		return
	}
	// No framing, no inline script, nothing from elsewhere.
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Next()
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 64 * 1024,
	CheckOrigin:     sameOrigin,
}

// serveWS streams the hub to one browser: hello, snapshot (or the frames
// after ?since=N), then live batches; pings keep it alive and notice a dead
// peer. A client evicted for being slow is closed with code 4000.
func (s *Server) serveWS(c *gin.Context) {
	var since uint64
	if v := c.Query("since"); v != "" {
		if _, err := fmt.Sscan(v, &since); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": "since: want the last seq the page holds"})
			return
		}
	}
	conn, err := upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader answered (403 for a foreign Origin)
	}
	defer conn.Close()
	cl := s.hub.attach(since)
	defer s.hub.detach(cl)

	conn.SetReadLimit(4096)
	conn.SetReadDeadline(time.Now().Add(wsPongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsPongWait)) })
	go func() {
		defer cl.close()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	write := func(msg []byte) error {
		conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		return conn.WriteMessage(websocket.TextMessage, msg)
	}
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		frames, alive := s.hub.take(cl, ping.C)
		if !alive {
			if cl.evicted.Load() {
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(4000, "too slow: resume from your last seq"), time.Now().Add(time.Second))
			}
			return
		}
		if frames == nil {
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteTimeout)) != nil {
				return
			}
			continue
		}
		if write(batch(frames)) != nil {
			return
		}
	}
}
