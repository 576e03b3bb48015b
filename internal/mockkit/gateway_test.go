package mockkit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

// A push the mock hands over while the device's detach is still on the wire
// must come back and be stored, never lost. The mock's reader is held in an
// OnAttach of another token so the push deterministically crosses the detach.
func TestGatewayPushCrossingDetachIsStored(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy StoragePolicy
	}{{"apns", APNsStorage}, {"fcm", FCMStorage}} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHub(tc.policy, nil)
			held, release := make(chan struct{}), make(chan struct{})
			h.OnAttach = func(token string) {
				if token == "blocker" {
					close(held)
					<-release
				}
			}
			srv := httptest.NewServer(h.GatewayHandler(nil))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			gc, err := DialGateway(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer gc.Close()
			var box inbox
			if err := gc.Attach("tok", &box); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return h.Online("tok") })
			if err := gc.Attach("blocker", &inbox{}); err != nil {
				t.Fatal(err)
			}
			<-held // the mock reads nothing more until release
			if err := gc.Detach("tok"); err != nil {
				t.Fatal(err)
			}
			if !h.Online("tok") {
				t.Fatal("the mock read the detach early: the crossing is not reproduced")
			}
			sent := 3
			if tc.policy.PerDevice == 1 {
				sent = 1
			}
			for i := range sent {
				d := pushtest.Delivery{Provider: tc.name, Token: "tok", ID: fmt.Sprint("m", i), Payload: json.RawMessage(`{}`)}
				if o := h.Send(d); o != Delivered {
					t.Fatalf("send %d: %s, want delivered (the mock still sees the device online)", i, o)
				}
			}
			close(release)
			waitFor(t, func() bool { return len(h.Pending("tok")) == sent })
			if n := len(box.ids()); n != 0 {
				t.Fatalf("the offline device received %d pushes", n)
			}
			st := h.Stats()
			if st.Outcomes[Stored] != uint64(sent) || st.Outcomes[Delivered] != 0 {
				t.Fatalf("outcomes %v: want %d stored, none delivered", st.Outcomes, sent)
			}
			// Back online: the stored pushes arrive, marked as stored.
			if err := gc.Attach("tok", &box); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return len(box.ids()) == sent })
			for _, d := range box.got {
				if !d.Stored {
					t.Fatalf("%s arrived without its stored mark", d.ID)
				}
			}
		})
	}
}

// A push for a connection that has closed goes back into the hub.
func TestGatewayClosedConnReturnsPush(t *testing.T) {
	h := NewHub(APNsStorage, nil)
	g := &gatewayConn{hub: h, out: make(chan pushtest.Delivery, 1), done: make(chan struct{})}
	h.Attach("tok", g)
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	h.DetachReceiver(func(r pushtest.Receiver) bool { return r == g })
	g.Deliver(pushtest.Delivery{Token: "tok", ID: "late"})
	if p := h.Pending("tok"); len(p) != 1 || p[0].ID != "late" {
		t.Fatalf("pending %+v, want the late push stored", p)
	}
}
