package mockkit

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pushlab/pushlab/pushtest"
)

// The gateway carries the push channel across processes: one websocket per
// devicesim process multiplexes all of its devices, as a carrier gateway
// would, so 10,000 devices cost one socket and two goroutines.
//
// Frames are JSON text messages:
//
//	device side → mock: {"op":"attach","tokens":["…"]}   put tokens online (stored pushes follow)
//	                    {"op":"detach","tokens":["…"]}   take tokens offline
//	                    {"op":"return","delivery":{…}}   a push for a token the side no longer holds
//	mock → device side: {"op":"deliver","delivery":{…}}  one Delivery
//
// A push the mock hands over as the device goes offline crosses the detach
// frame on the wire; the device side sends it back ("return") and the mock
// stores it by the provider's rules, as if it had come a moment later. The
// return follows the detach on the same socket, so the mock reads them in
// that order. Pushes the mock could not write (its queue full, the socket
// gone) are taken back the same way.

type gatewayFrame struct {
	Op       string             `json:"op"`
	Tokens   []string           `json:"tokens,omitempty"`
	Delivery *pushtest.Delivery `json:"delivery,omitempty"`
}

// gatewayQueue bounds what a slow devicesim process may owe us before the
// gateway gives up on it (its tokens go offline and pushes are stored).
const gatewayQueue = 8192

var gatewayUpgrader = websocket.Upgrader{
	ReadBufferSize: 4096, WriteBufferSize: 16 * 1024,
	CheckOrigin: func(*http.Request) bool { return true },
}

type gatewayConn struct {
	hub  *Hub
	conn *websocket.Conn
	out  chan pushtest.Delivery
	// mu orders closing against queueing and attaching: once closed is
	// set (under mu) nothing is queued or attached, so drain sees it all.
	mu     sync.RWMutex
	closed bool
	done   chan struct{}
	giveUp sync.Once
	log    *slog.Logger
}

// Deliver queues d for the device side, or gives it back to the hub when
// this connection cannot carry it.
func (g *gatewayConn) Deliver(d pushtest.Delivery) {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		g.hub.Return(d)
		return
	}
	select {
	case g.out <- d:
		g.mu.RUnlock()
	default:
		g.mu.RUnlock()
		g.log.Warn("push gateway: device side too slow; its devices go offline", "token", d.Token[:min(8, len(d.Token))])
		g.abandon()
		g.hub.Return(d)
	}
}

// abandon marks the connection closed, then takes its tokens offline, so
// a Return never finds this connection online again.
func (g *gatewayConn) abandon() {
	g.giveUp.Do(func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		g.hub.DetachReceiver(func(x pushtest.Receiver) bool { return x == g })
		close(g.done)
		g.conn.Close()
	})
}

// attach puts tokens online through g unless g is closed (its pushes
// would come straight back).
func (g *gatewayConn) attach(tokens []string) {
	g.mu.RLock()
	closed := g.closed
	g.mu.RUnlock()
	if closed {
		return
	}
	for _, t := range tokens {
		g.hub.Attach(t, g)
	}
}

// drain gives back what was queued and never written.
func (g *gatewayConn) drain() {
	for {
		select {
		case d := <-g.out:
			g.hub.Return(d)
		default:
			return
		}
	}
}

// GatewayHandler serves the device side of the hub over a websocket.
func (h *Hub) GatewayHandler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := gatewayUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		g := &gatewayConn{hub: h, conn: conn, out: make(chan pushtest.Delivery, gatewayQueue), done: make(chan struct{}), log: log}
		writerDone := make(chan struct{})
		defer func() {
			g.abandon()
			<-writerDone
			g.drain()
		}()
		go func() {
			defer close(writerDone)
			for {
				select {
				case d := <-g.out:
					b, err := json.Marshal(gatewayFrame{Op: "deliver", Delivery: &d})
					if err != nil {
						log.Warn("push gateway: delivery not encodable", "err", err)
						continue
					}
					conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
					if conn.WriteMessage(websocket.TextMessage, b) != nil {
						// Written or not, the device side is gone: keep it.
						g.abandon()
						h.Return(d)
						return
					}
				case <-g.done:
					return
				}
			}
		}()
		for {
			var f gatewayFrame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			switch f.Op {
			case "attach":
				g.attach(f.Tokens)
			case "detach":
				for _, t := range f.Tokens {
					h.Detach(t)
				}
			case "return":
				if f.Delivery != nil {
					h.Return(*f.Delivery)
				}
			default:
				log.Warn("push gateway: unknown frame", "op", f.Op)
			}
		}
	})
}

// GatewayClient is the device side of a gateway: a devicesim process holds
// one per mock and attaches each device's token with its Receiver.
type GatewayClient struct {
	conn *websocket.Conn
	wmu  sync.Mutex

	mu        sync.RWMutex
	receivers map[string]pushtest.Receiver
	done      chan struct{}
	err       error
}

// DialGateway connects to a mock's gateway URL (ws:// or wss://…/push).
func DialGateway(ctx context.Context, url string, tlsConfig *tls.Config, header ...http.Header) (*GatewayClient, error) {
	d := websocket.Dialer{TLSClientConfig: tlsConfig, HandshakeTimeout: 10 * time.Second}
	var h http.Header
	for _, x := range header {
		for k, v := range x {
			h = cloneAdd(h, k, v)
		}
	}
	conn, _, err := d.DialContext(ctx, url, h)
	if err != nil {
		return nil, fmt.Errorf("push gateway %s: %w", url, err)
	}
	c := &GatewayClient{conn: conn, receivers: map[string]pushtest.Receiver{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *GatewayClient) read() {
	defer close(c.done)
	for {
		var f gatewayFrame
		if err := c.conn.ReadJSON(&f); err != nil {
			c.err = err
			return
		}
		if f.Op != "deliver" || f.Delivery == nil {
			continue
		}
		c.mu.RLock()
		r := c.receivers[f.Delivery.Token]
		c.mu.RUnlock()
		if r == nil {
			// Its device went offline as the push crossed the detach:
			// the mock keeps it for when the device comes back.
			c.send(gatewayFrame{Op: "return", Delivery: f.Delivery})
			continue
		}
		r.Deliver(*f.Delivery)
	}
}

func (c *GatewayClient) send(f gatewayFrame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteJSON(f)
}

// Attach puts token online; r receives its pushes (stored ones first).
func (c *GatewayClient) Attach(token string, r pushtest.Receiver) error {
	c.mu.Lock()
	c.receivers[token] = r
	c.mu.Unlock()
	return c.send(gatewayFrame{Op: "attach", Tokens: []string{token}})
}

// Detach takes token offline.
func (c *GatewayClient) Detach(token string) error {
	c.mu.Lock()
	delete(c.receivers, token)
	c.mu.Unlock()
	return c.send(gatewayFrame{Op: "detach", Tokens: []string{token}})
}

// Done is closed when the connection ends; Err then says why.
func (c *GatewayClient) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (after Done).
func (c *GatewayClient) Err() error { return c.err }

// Close ends the connection; every attached token goes offline at the mock.
func (c *GatewayClient) Close() error {
	c.wmu.Lock()
	c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	err := c.conn.Close()
	<-c.done
	return err
}

func cloneAdd(h http.Header, k string, v []string) http.Header {
	if h == nil {
		h = http.Header{}
	}
	h[k] = append(h[k], v...)
	return h
}
