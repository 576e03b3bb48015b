package web

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/serversim"
)

// startDemo brings up what pushlab demo does: every actor in process, an iOS
// app on token auth, one on certificate auth and an Android app, all logged
// in as alice, and a first message to all three; then the view over it.
func startDemo(t testing.TB, opts ...e2e.Options) (*e2e.Lab, *Server, *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := e2e.Options{Contents: serversim.ContentsFull}
	if len(opts) > 0 {
		o = opts[0]
	}
	lab, err := e2e.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	for _, ph := range []struct {
		name string
		app  devicesim.App
	}{{"iphone-token", lab.IOSToken}, {"iphone-cert", lab.IOSCert}, {"pixel", lab.Android}} {
		if _, err := lab.Fleet.Add(ctx, ph.name, "alice", ph.app); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lab.Server.Send(ctx, serversim.Message{UserID: "alice", ChannelName: "Town Square", SenderName: "pushlab", Message: "Hello from pushlab 👋"}); err != nil {
		t.Fatal(err)
	}
	lab.Fleet.Wait()
	s, err := New(Config{Lab: lab})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Listener.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return lab, s, srv
}

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
