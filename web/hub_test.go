package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pushlab/pushlab/events"
)

func ev(i int) events.Event {
	return events.Event{Seq: uint64(i), TraceID: fmt.Sprintf("t%d", i), Hop: events.ServerSent, Actor: "server", At: time.Now()}
}

func decodeFrames(t *testing.T, msgs ...[]byte) []frame {
	t.Helper()
	var out []frame
	for _, m := range msgs {
		var fs []frame
		if err := json.Unmarshal(m, &fs); err != nil {
			t.Fatalf("frame batch %q: %v", m, err)
		}
		out = append(out, fs...)
	}
	return out
}

func TestSlowClientIsEvictedWithoutBlockingThePublisher(t *testing.T) {
	h := newHub(100, 4, 10)
	slow := h.attach(0)
	fast := h.attach(0)
	got := make(chan int)
	go func() {
		n := 0
		for {
			frames, alive := h.take(fast, nil)
			if !alive {
				got <- n
				return
			}
			n += len(frames)
			if n == 50+1 { // the hello, then every event
				got <- n
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		for i := range 50 {
			h.event("lab", ev(i+1))
			time.Sleep(100 * time.Microsecond) // let the fast reader keep up with a 4-frame queue
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("publishing blocked on a client that does not read")
	}
	if !slow.evicted.Load() {
		t.Fatal("a client that never read was not evicted")
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("the evicted client was not told to go")
	}
	if n := <-got; n != 51 {
		t.Fatalf("the reading client got %d frames, want the hello and 50 events (it must not be evicted)", n)
	}
	if h.evicted.Load() != 1 || h.clientCount() != 1 {
		t.Fatalf("evicted %d, clients %d; want 1 and 1", h.evicted.Load(), h.clientCount())
	}
}

// wsClient reads the browser websocket of a view.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialView(t *testing.T, srv *httptest.Server, query string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws"+query, header)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}, resp, nil
}

// until reads frames until one satisfies stop, and returns them all.
func (c *wsClient) until(stop func(frame) bool) []frame {
	c.t.Helper()
	var out []frame
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("reading the view: %v (after %d frames)", err, len(out))
		}
		for _, f := range decodeFrames(c.t, msg) {
			out = append(out, f)
			if stop(f) {
				return out
			}
		}
	}
}

func seqsOf(fs []frame, kind string) []uint64 {
	var out []uint64
	for _, f := range fs {
		if f.K == kind {
			out = append(out, f.Seq)
		}
	}
	return out
}

// newTestView is a view fed by a sink the test drives (no lab, no remote).
func newTestView(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	cfg.Collect = nil
	s := &Server{cfg: cfg, log: nilLogger(), stats: newStats(), dirty: make(chan struct{}, 1)}
	if cfg.History == 0 {
		cfg.History = 1000
	}
	if cfg.ClientQueue == 0 {
		cfg.ClientQueue = 64
	}
	if cfg.Snapshot == 0 {
		cfg.Snapshot = 100
	}
	s.cfg = cfg
	s.hub = newHub(cfg.History, cfg.ClientQueue, cfg.Snapshot)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { s.Close() })
	return s, srv
}

func TestSnapshotThenResumeHasNoHoleAndNoOverlap(t *testing.T) {
	s, srv := newTestView(t, Config{})
	for i := range 10 {
		s.event("lab", ev(i+1))
	}
	c, _, err := dialView(t, srv, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	first := c.until(func(f frame) bool { return f.K == kindEvent && f.Seq == 10 })
	if first[0].K != kindHello || first[0].Resumed {
		t.Fatalf("first frame %+v, want a fresh hello", first[0])
	}
	if got := seqsOf(first, kindEvent); len(got) != 10 || got[0] != 1 {
		t.Fatalf("snapshot seqs %v, want 1..10", got)
	}
	c.conn.Close()

	// While the page is away, five more.
	for i := 10; i < 15; i++ {
		s.event("lab", ev(i+1))
	}
	c2, _, err := dialView(t, srv, "?since=10", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Live after the resume, once attached.
	go func() {
		for s.hub.clientCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		s.event("lab", ev(16))
	}()
	resumed := c2.until(func(f frame) bool { return f.K == kindEvent && f.Seq == 16 })
	if resumed[0].K != kindHello || !resumed[0].Resumed {
		t.Fatalf("first frame %+v, want a resumed hello", resumed[0])
	}
	want := []uint64{11, 12, 13, 14, 15, 16}
	if got := seqsOf(resumed, kindEvent); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after since=10 got seqs %v, want %v (no hole, no overlap)", got, want)
	}
	for _, f := range resumed {
		if f.K == kindGap {
			t.Fatalf("unexpected gap %+v on a resume the history covers", f)
		}
	}
}

func TestResumePastTheHistoryIsMarkedAsAGap(t *testing.T) {
	s, srv := newTestView(t, Config{History: 5, ClientQueue: 5})
	for i := range 20 {
		s.event("lab", ev(i+1))
	}
	c, _, err := dialView(t, srv, "?since=3", nil)
	if err != nil {
		t.Fatal(err)
	}
	fs := c.until(func(f frame) bool { return f.K == kindEvent && f.Seq == 20 })
	var gap *frame
	for i := range fs {
		if fs[i].K == kindGap {
			gap = &fs[i]
		}
	}
	if gap == nil || gap.After != 3 || gap.Next != 16 || gap.Missing != 12 {
		t.Fatalf("gap = %+v, want after 3, next 16, 12 missing", gap)
	}
	if got := seqsOf(fs, kindEvent); fmt.Sprint(got) != "[16 17 18 19 20]" {
		t.Fatalf("events %v, want the history 16..20", got)
	}
}

func TestEvictedBrowserIsClosedWithResumeCode(t *testing.T) {
	s, srv := newTestView(t, Config{ClientQueue: 2})
	c, _, err := dialView(t, srv, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for s.hub.clientCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	big := strings.Repeat("x", 32<<10)
	for i := 0; s.hub.clientCount() > 0; i++ {
		e := ev(i + 1)
		e.Payload = big
		s.event("lab", e)
		if i > 100000 {
			t.Fatal("a client that does not read was never evicted")
		}
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4000 {
			t.Fatalf("evicted client ended with %v, want close code 4000", err)
		}
		return
	}
}

// recorder is a sink that keeps what sources report.
type recorder struct {
	mu      sync.Mutex
	events  []events.Event
	gaps    [][2]uint64
	states  []string
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1000)} }

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}
func (r *recorder) event(_ string, e events.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}
func (r *recorder) gap(_ string, after, next uint64, _ string) {
	r.mu.Lock()
	r.gaps = append(r.gaps, [2]uint64{after, next})
	r.mu.Unlock()
	r.poke()
}
func (r *recorder) source(_, state string, _ error) {
	r.mu.Lock()
	r.states = append(r.states, state)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) wait(t *testing.T, what string, ok func(*recorder) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		done := ok(r)
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("waiting for %s: events %d, gaps %v, states %v", what, len(r.events), r.gaps, r.states)
		}
	}
}

func TestRemoteSourceThatDiesIsReportedAndRedialled(t *testing.T) {
	bus := events.NewBus()
	// An actor whose streams the test can kill (hijacked websockets are out
	// of httptest's reach).
	var mu sync.Mutex
	var kills []context.CancelFunc
	stream := events.Handler(bus)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		mu.Lock()
		kills = append(kills, cancel)
		mu.Unlock()
		stream.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer srv.Close()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		readRemote(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/events", nil, "", nilLogger(), rec)
	}()
	defer func() { cancel(); <-done }()
	for i := range 3 {
		bus.Publish(ev(i + 1))
	}
	rec.wait(t, "the first three events", func(r *recorder) bool { return len(r.events) == 3 })

	mu.Lock()
	for _, kill := range kills { // the actor's stream dies
		kill()
	}
	mu.Unlock()
	rec.wait(t, "the source reported down", func(r *recorder) bool { return len(r.states) >= 2 && r.states[1] == "down" })
	for i := 3; i < 5; i++ {
		bus.Publish(ev(i + 1))
	}
	rec.wait(t, "the source re-dialled and caught up", func(r *recorder) bool { return len(r.events) == 5 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.states[len(rec.states)-1] != "up" {
		t.Fatalf("states %v: the last must be up again", rec.states)
	}
	for i, e := range rec.events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: the re-dial must resume with no loss or repeat", i, e.Seq)
		}
	}
	if len(rec.gaps) != 0 {
		t.Fatalf("gaps %v on a resume the actor could serve", rec.gaps)
	}
}

func TestRemoteSourceGapIsReported(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if r.URL.Query().Get("since") != "" {
			conn.ReadMessage() // the resume: nothing more to say
			return
		}
		for _, seq := range []uint64{1, 2, 6, 7} {
			conn.WriteMessage(websocket.TextMessage, ev(int(seq)).JSON())
		}
		conn.ReadMessage()
	}))
	defer srv.Close()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		readRemote(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil, "", nilLogger(), rec)
	}()
	defer func() { cancel(); <-done }()
	rec.wait(t, "four events and a gap", func(r *recorder) bool { return len(r.events) == 4 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.gaps) != 1 || rec.gaps[0] != [2]uint64{2, 6} {
		t.Fatalf("gaps %v, want one 2→6", rec.gaps)
	}
}

func TestGapsReachTheBrowserAsMarkers(t *testing.T) {
	s, srv := newTestView(t, Config{})
	s.event("proxy", ev(1))
	s.gap("proxy", 1, 5, "events the source could not send us")
	s.event("proxy", ev(5))
	c, _, err := dialView(t, srv, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fs := c.until(func(f frame) bool { return f.K == kindEvent && f.E.Seq == 5 })
	var kinds []string
	for _, f := range fs[1:] {
		kinds = append(kinds, f.K)
	}
	if fmt.Sprint(kinds) != "[ev gap ev]" {
		t.Fatalf("frames %v, want ev gap ev", kinds)
	}
	if g := fs[2]; g.Missing != 3 || g.Src != "proxy" {
		t.Fatalf("gap frame %+v, want 3 missing from proxy", g)
	}
	if s.stats.gaps.Load() != 3 {
		t.Fatalf("stats count %d lost events, want 3", s.stats.gaps.Load())
	}
}

func TestMergerOrdersSourcesByTime(t *testing.T) {
	rec := newRecorder()
	m := &merger{out: rec, window: 40 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.run(ctx)
	base := time.Now()
	late := events.Event{Seq: 1, Hop: events.ProviderAccepted, At: base.Add(2 * time.Millisecond)}
	early := events.Event{Seq: 1, Hop: events.ProxyForwarded, At: base.Add(1 * time.Millisecond)}
	m.event("mockapns", late) // arrives first, happened second
	m.event("proxy", early)
	rec.wait(t, "both events", func(r *recorder) bool { return len(r.events) == 2 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.events[0].Hop != events.ProxyForwarded {
		t.Fatalf("merged order %s, %s: want time order", rec.events[0].Hop, rec.events[1].Hop)
	}
}

func TestWebsocketRefusesForeignOrigin(t *testing.T) {
	_, srv := newTestView(t, Config{})
	_, resp, err := dialView(t, srv, "", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v resp %v, want 403", err, resp)
	}
	if _, _, err := dialView(t, srv, "", http.Header{"Origin": {srv.URL}}); err != nil {
		t.Fatalf("same origin refused: %v", err)
	}
}

// The view over a running actor's /events: what the actor publishes reaches
// the page, named by its source.
func TestCollectedStreamReachesThePage(t *testing.T) {
	bus := events.NewBus()
	actor := httptest.NewServer(events.Handler(bus))
	defer actor.Close()
	src := "ws" + strings.TrimPrefix(actor.URL, "http") + "/events"
	s, err := New(Config{Collect: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c, _, err := dialView(t, srv, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	bus.Publish(events.Event{TraceID: "a1", Hop: events.ProxyReceived, Actor: "proxy"})
	fs := c.until(func(f frame) bool { return f.K == kindEvent && f.E.TraceID == "a1" })
	last := fs[len(fs)-1]
	if last.Src != sourceName(src) || last.E.Hop != events.ProxyReceived {
		t.Fatalf("frame %+v, want proxy.received from %s", last, sourceName(src))
	}
}
