// Package httpserve runs the http.Servers of one actor (a mock, the server
// simulator, the proxy): each on its listener until its context ends or the
// actor closes, so that every actor starts and stops its servers the same way.
package httpserve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Group runs the http.Servers of one actor. The zero Group is ready to use.
type Group struct {
	// Grace is how long a server whose context ended may take to finish the
	// requests in flight before its connections are closed.
	Grace time.Duration
	// Shutdown, if set, stops a server both when its context ends and on
	// Close, in the actor's own way (APNs' GOAWAY, the proxy's drain); what
	// it returns is what Serve returns. Unset, a server whose context ended
	// gets Grace to finish, and Close closes every server at once.
	Shutdown func(*http.Server) error
	// Log, if set, reports a server started with Go that failed.
	Log *slog.Logger

	mu      sync.Mutex
	closed  atomic.Bool
	servers map[*http.Server]struct{}
	wg      sync.WaitGroup
}

// Serve serves srv on ln, over TLS when srv.TLSConfig is set, until ctx ends
// or Close; it returns once srv has stopped. A stop is clean: Serve returns
// nil, or what Shutdown returned. After Close it closes ln and returns
// http.ErrServerClosed.
func (g *Group) Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	g.mu.Lock()
	if g.closed.Load() {
		g.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	if g.servers == nil {
		g.servers = map[*http.Server]struct{}{}
	}
	g.servers[srv] = struct{}{}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.servers, srv)
		g.mu.Unlock()
	}()

	stopped := make(chan error, 1)
	stop := context.AfterFunc(ctx, func() { stopped <- g.stop(srv) })
	var err error
	if srv.TLSConfig != nil {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if !stop() { // ctx ended: wait for the stop it began
		if serr := <-stopped; errors.Is(err, http.ErrServerClosed) {
			err = serr
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// stop ends srv after its context ended.
func (g *Group) stop(srv *http.Server) error {
	if g.Shutdown != nil {
		return g.Shutdown(srv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.Grace)
	defer cancel()
	srv.Shutdown(ctx)
	srv.Close()
	return nil
}

// Go runs serve (a call of Serve) in the background; Close waits for it.
// After Close, serve runs at once (Serve refuses, closing its listener).
func (g *Group) Go(serve func() error) {
	run := func() {
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) && g.Log != nil {
			g.Log.Error("serve", "err", err)
		}
	}
	g.mu.Lock()
	if g.closed.Load() {
		g.mu.Unlock()
		run()
		return
	}
	g.wg.Go(run) // under mu, so never after Close began to wait
	g.mu.Unlock()
}

// Closed tells whether Close was called.
func (g *Group) Closed() bool { return g.closed.Load() }

// Close stops every server (with Shutdown if set, all at once), refuses new
// ones, and waits for those started with Go.
func (g *Group) Close() error {
	g.mu.Lock()
	g.closed.Store(true)
	srvs := make([]*http.Server, 0, len(g.servers))
	for srv := range g.servers {
		srvs = append(srvs, srv)
	}
	g.mu.Unlock()
	errs := make([]error, len(srvs))
	var wg sync.WaitGroup
	for i, srv := range srvs {
		if g.Shutdown == nil {
			errs[i] = srv.Close()
			continue
		}
		wg.Go(func() { errs[i] = g.Shutdown(srv) })
	}
	wg.Wait()
	g.wg.Wait()
	return errors.Join(errs...)
}
