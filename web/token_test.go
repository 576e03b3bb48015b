package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
)

// An actor started with --control-token guards its /events: the view sends
// CollectToken and reads the stream; without it the source is shown down.
func TestCollectSendsTheControlToken(t *testing.T) {
	bus := events.NewBus()
	actor := httptest.NewServer(access.Guard("lab-s3cret", events.Handler(bus), "/events"))
	defer actor.Close()
	src := "ws" + strings.TrimPrefix(actor.URL, "http") + "/events"
	for _, tc := range []struct {
		token string
		up    bool
	}{{"lab-s3cret", true}, {"", false}} {
		s, err := New(Config{Collect: []string{src}, CollectToken: tc.token})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		c, _, err := dialView(t, srv, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "down"
		if tc.up {
			want = "up"
		}
		c.until(func(f frame) bool { return f.K == kindSource && f.Src == sourceName(src) && f.State == want })
		if tc.up {
			bus.Publish(events.Event{TraceID: "t1", Hop: events.ProxyReceived, Actor: "proxy"})
			c.until(func(f frame) bool { return f.K == kindEvent && f.E.TraceID == "t1" })
		}
		srv.Close()
		s.Close()
	}
}
