package mockkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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

// blockingReceiver holds the device side's reader inside Deliver until
// release is closed, so frames behind it stay unread on the socket.
type blockingReceiver struct{ held, release chan struct{} }

func (b blockingReceiver) Deliver(pushtest.Delivery) {
	close(b.held)
	<-b.release
}

// Pushes already on the wire when the device side closes the whole
// connection are not delivered: the mock must take them back and store
// them, not count them delivered. The device side's reader is held in a
// delivery to another token, so the pushes for "tok" are written to the
// socket but not read when Close begins.
func TestGatewayCloseReturnsPushesOnTheWire(t *testing.T) {
	h := NewHub(FCMStorage, nil)
	srv := httptest.NewUnstartedServer(h.GatewayHandler(nil))
	wire := &wireCount{Listener: srv.Listener, pattern: []byte(`"token":"tok"`)}
	srv.Listener = wire
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gc, err := DialGateway(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var box inbox
	block := blockingReceiver{make(chan struct{}), make(chan struct{})}
	if err := gc.Attach("blocker", block); err != nil {
		t.Fatal(err)
	}
	if err := gc.Attach("tok", &box); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Online("blocker") && h.Online("tok") })
	h.Send(pushtest.Delivery{Provider: "fcm", Token: "blocker", ID: "b", Payload: json.RawMessage(`{}`)})
	<-block.held
	const sent = 3
	for i := range sent {
		d := pushtest.Delivery{Provider: "fcm", Token: "tok", ID: fmt.Sprint("m", i), Payload: json.RawMessage(`{}`)}
		if o := h.Send(d); o != Delivered {
			t.Fatalf("send %d: %s, want delivered (the device is online)", i, o)
		}
	}
	waitFor(t, func() bool { return wire.n.Load() == sent }) // on the wire, unread
	closed := make(chan error, 1)
	go func() { closed <- gc.Close() }()
	// The mock has seen the device side go: only then may its reader run on.
	waitFor(t, func() bool { return !h.Online("tok") })
	close(block.release)
	if err := <-closed; err != nil {
		t.Logf("close: %v", err)
	}
	got := len(box.ids())
	waitFor(t, func() bool { return got+len(h.Pending("tok")) == sent })
	st := h.Stats()
	if st.Outcomes[Delivered] != uint64(1+got) {
		t.Fatalf("outcomes %v: the device got %d of tok's pushes (and the blocker's), the rest must not count as delivered", st.Outcomes, got)
	}
	for _, d := range h.Pending("tok") {
		if !d.Stored {
			t.Fatalf("%s kept without its stored mark", d.ID)
		}
	}
}

// wireCount counts the server's writes of pattern (the mock's frames are
// unmasked JSON, one write each).
type wireCount struct {
	net.Listener
	pattern []byte
	n       atomic.Int64
}

func (l *wireCount) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l}, nil
}

type countingConn struct {
	net.Conn
	l *wireCount
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.n.Add(int64(bytes.Count(p[:n], c.l.pattern)))
	return n, err
}

// countingReceiver counts deliveries and says when it has n.
type countingReceiver struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (c *countingReceiver) Deliver(pushtest.Delivery) {
	if c.n.Add(1) == c.want {
		close(c.done)
	}
}

// BenchmarkGatewayDeliver is the cost of one push across the gateway, both
// sides (mock writer and reader, device side reader and acks): use -cpu 1
// and compare ns/op.
func BenchmarkGatewayDeliver(b *testing.B) {
	h := NewHub(FCMStorage, nil)
	srv := httptest.NewServer(h.GatewayHandler(nil))
	defer srv.Close()
	gc, err := DialGateway(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer gc.Close()
	r := &countingReceiver{want: int64(b.N), done: make(chan struct{})}
	if err := gc.Attach("tok", r); err != nil {
		b.Fatal(err)
	}
	for !h.Online("tok") {
		time.Sleep(time.Millisecond)
	}
	d := pushtest.Delivery{Provider: "fcm", Token: "tok", ID: "0123456789abcdef", Payload: json.RawMessage(`{"message":{"data":{"k":"a typical small payload"}}}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Send(d)
		if i%4096 == 4095 { // stay under the gateway's queue
			for r.n.Load() < int64(i)-1024 {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	<-r.done
}

// A connection that breaks without the closing handshake: the deliveries
// the device side acked stay delivered, the others are stored. Driven frame
// by frame, as the protocol reads.
func TestGatewayBreakReturnsUnackedPushes(t *testing.T) {
	h := NewHub(FCMStorage, nil)
	srv := httptest.NewServer(h.GatewayHandler(nil))
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteJSON(gatewayFrame{Op: opAttach, Tokens: []string{"tok"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Online("tok") })
	for _, id := range []string{"m1", "m2", "m3"} {
		h.Send(pushtest.Delivery{Provider: "fcm", Token: "tok", ID: id, Payload: json.RawMessage(`{}`)})
	}
	for want := uint64(1); want <= 3; want++ {
		var f gatewayFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if f.Op != opDeliver || f.Seq != want || f.Delivery == nil || f.Delivery.ID != fmt.Sprint("m", want) {
			t.Fatalf("frame %+v, want deliver seq %d of m%d", f, want, want)
		}
	}
	if err := conn.WriteJSON(gatewayFrame{Op: opAck, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	conn.Close() // no close frame, no closing: the socket just goes
	waitFor(t, func() bool { return len(h.Pending("tok")) == 2 })
	if got := fmt.Sprint(ids(h.Pending("tok"))); got != "[m2 m3]" {
		t.Fatalf("stored %s, want the unacked [m2 m3] in order", got)
	}
	if st := h.Stats(); st.Outcomes[Delivered] != 1 || st.Outcomes[Stored] != 2 {
		t.Fatalf("outcomes %v: want m1 delivered, m2 and m3 stored", st.Outcomes)
	}
}

func ids(ds []pushtest.Delivery) []string {
	var s []string
	for _, d := range ds {
		s = append(s, d.ID)
	}
	return s
}
