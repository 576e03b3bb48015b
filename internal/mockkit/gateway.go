package mockkit

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pushlab/pushlab/pushtest"
)

// The gateway carries the push channel across processes: one websocket per
// devicesim process multiplexes all of its devices, as a carrier gateway
// would, so 10,000 devices cost one socket and three goroutines.
//
// Frames are JSON text messages. Both sides ship in one pushlab version, so
// the frames may change between versions:
//
//	device side → mock:
//	  {"op":"attach","tokens":["…"]}            put tokens online (stored pushes follow)
//	  {"op":"detach","tokens":["…"]}            take tokens offline
//	  {"op":"ack","seq":N}                      every deliver up to N is taken (cumulative)
//	  {"op":"return","seq":N,"delivery":{…}}    deliver N is for a token the side no longer holds
//	  {"op":"closing","seq":N}                  acks up to N and takes no more: the side is leaving
//	mock → device side:
//	  {"op":"deliver","seq":N,"delivery":{…}}   one Delivery; N counts up from 1 per connection
//	  {"op":"closed"}                           answers closing: nothing follows, close the socket
//
// A push the mock hands over as the device goes offline crosses the detach
// frame on the wire; the device side sends it back ("return") and the mock
// stores it by the provider's rules, as if it had come a moment later. The
// return follows the detach on the same socket, so the mock reads them in
// that order.
//
// Closing the whole connection is a handshake, so that pushes already on
// the wire are not lost: the device side stops handing deliveries to its
// devices and sends closing with the last seq it took; the mock stops
// writing, takes the tokens offline, returns every delivery after that seq
// and every queued one to the hub (stored by the provider's rules, in their
// order), and answers closed; the device side then closes the socket.
//
// A connection that breaks without the handshake ends the same way as far
// as the mock can tell: deliveries written but not acked are returned. The
// device side acks from a goroutine of its own that coalesces (one ack
// covers every frame read while the previous one was written), so acks cost
// far less than a frame each. A push the device took whose ack was lost with
// the connection is stored again and may arrive twice: a broken channel
// duplicates, it never loses.

type gatewayFrame struct {
	Op       string             `json:"op"`
	Seq      uint64             `json:"seq,omitempty"`
	Tokens   []string           `json:"tokens,omitempty"`
	Delivery *pushtest.Delivery `json:"delivery,omitempty"`
}

// The gateway's frame ops (see above).
const (
	opAttach  = "attach"
	opDetach  = "detach"
	opAck     = "ack"
	opReturn  = "return"
	opClosing = "closing"
	opDeliver = "deliver"
	opClosed  = "closed"
)

// gatewayQueue bounds what a slow devicesim process may owe us before the
// gateway gives up on it (its tokens go offline and pushes are stored).
const gatewayQueue = 8192

// gatewayWait bounds each write, and how long either side waits for the
// other to finish the closing handshake.
const gatewayWait = 10 * time.Second

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
	done   chan struct{} // closed with closed: the writer stops
	giveUp sync.Once
	log    *slog.Logger

	// imu guards the deliveries written and not yet acked, in seq order.
	imu      sync.Mutex
	seq      uint64 // of the last deliver written
	inflight []inflight
}

type inflight struct {
	seq uint64
	d   pushtest.Delivery
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

// stop marks the connection closed, then takes its tokens offline, so
// a Return never finds this connection online again; the writer stops.
func (g *gatewayConn) stop() {
	g.giveUp.Do(func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		g.hub.DetachReceiver(func(x pushtest.Receiver) bool { return x == g })
		close(g.done)
	})
}

// abandon stops the connection and closes its socket (the device side is
// gone or too slow).
func (g *gatewayConn) abandon() {
	g.stop()
	g.conn.Close()
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

// sent records d as written under the next seq, which it returns.
func (g *gatewayConn) sent(d pushtest.Delivery) uint64 {
	g.imu.Lock()
	defer g.imu.Unlock()
	g.seq++
	g.inflight = append(g.inflight, inflight{g.seq, d})
	return g.seq
}

// acked forgets the deliveries up to seq: the device side took them.
func (g *gatewayConn) acked(seq uint64) {
	g.imu.Lock()
	defer g.imu.Unlock()
	i := 0
	for i < len(g.inflight) && g.inflight[i].seq <= seq {
		i++
	}
	// Keep the array: in steady state the deliveries on the wire cost no
	// allocation.
	n := copy(g.inflight, g.inflight[i:])
	clear(g.inflight[n:]) // let the payloads go
	g.inflight = g.inflight[:n]
}

// settle forgets the delivery seq (the device side returned it).
func (g *gatewayConn) settle(seq uint64) {
	g.imu.Lock()
	defer g.imu.Unlock()
	if i, ok := slices.BinarySearchFunc(g.inflight, seq, func(f inflight, seq uint64) int { return cmp.Compare(f.seq, seq) }); ok {
		g.inflight = slices.Delete(g.inflight, i, i+1)
	}
}

// takeBack returns to the hub, in order, what was written and not acked,
// then what was queued and never written. Only once the writer has stopped.
func (g *gatewayConn) takeBack() {
	g.imu.Lock()
	back := g.inflight
	g.inflight = nil
	g.imu.Unlock()
	for _, f := range back {
		g.hub.Return(f.d)
	}
	for {
		select {
		case d := <-g.out:
			g.hub.Return(d)
		default:
			return
		}
	}
}

// write sends the deliveries queued for the device side until the
// connection stops.
func (g *gatewayConn) write() {
	for {
		select {
		case d := <-g.out:
			seq := g.sent(d)
			b, err := json.Marshal(gatewayFrame{Op: opDeliver, Seq: seq, Delivery: &d})
			if err != nil {
				g.log.Warn("push gateway: delivery not encodable", "err", err)
				g.acked(seq) // never on the wire: nothing to take back
				continue
			}
			g.conn.SetWriteDeadline(time.Now().Add(gatewayWait))
			if g.conn.WriteMessage(websocket.TextMessage, b) != nil {
				// Written or not, the device side is gone: the
				// deliveries it did not ack are taken back.
				g.abandon()
				return
			}
		case <-g.done:
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
			g.takeBack()
		}()
		go func() {
			defer close(writerDone)
			g.write()
		}()
		for {
			var f gatewayFrame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			switch f.Op {
			case opAttach:
				g.attach(f.Tokens)
			case opDetach:
				for _, t := range f.Tokens {
					h.Detach(t)
				}
			case opAck:
				g.acked(f.Seq)
			case opReturn:
				if f.Delivery != nil {
					g.settle(f.Seq)
					h.Return(*f.Delivery)
				}
			case opClosing:
				g.stop()
				<-writerDone
				g.acked(f.Seq)
				g.takeBack()
				conn.SetWriteDeadline(time.Now().Add(gatewayWait))
				if conn.WriteJSON(gatewayFrame{Op: opClosed}) != nil {
					return
				}
				// Read on until the device side closes (its last
				// returns may still come), but not forever.
				conn.SetReadDeadline(time.Now().Add(gatewayWait))
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

	// mu orders Close against the reader: a deliver frame is either taken
	// (its seq in last) before closing is set, or never handed to a device.
	mu        sync.RWMutex
	receivers map[string]pushtest.Receiver
	closing   bool
	last      atomic.Uint64 // seq of the last deliver frame taken
	ackNow    chan struct{} // the acker has something to say
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
	c := &GatewayClient{conn: conn, receivers: map[string]pushtest.Receiver{}, ackNow: make(chan struct{}, 1), done: make(chan struct{})}
	go c.read()
	go c.ack()
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
		switch {
		case f.Op == opClosed:
			// The mock took back what we did not take: say goodbye
			// and read on until its close answers ours.
			c.wmu.Lock()
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(gatewayWait))
			c.wmu.Unlock()
			continue
		case f.Op != opDeliver || f.Delivery == nil:
			continue
		}
		c.mu.RLock()
		if c.closing { // the mock returns it to the hub
			c.mu.RUnlock()
			continue
		}
		c.last.Store(f.Seq)
		r := c.receivers[f.Delivery.Token]
		c.mu.RUnlock()
		if r == nil {
			// Its device went offline as the push crossed the detach:
			// the mock keeps it for when the device comes back.
			c.send(gatewayFrame{Op: opReturn, Seq: f.Seq, Delivery: f.Delivery})
		} else {
			r.Deliver(*f.Delivery)
		}
		select {
		case c.ackNow <- struct{}{}:
		default: // an ack is due already; it will cover this frame
		}
	}
}

// ack tells the mock which deliveries were taken, one frame for all those
// read while the previous ack was being written.
func (c *GatewayClient) ack() {
	var acked uint64
	for {
		select {
		case <-c.ackNow:
		case <-c.done:
			return
		}
		if seq := c.last.Load(); seq > acked {
			if c.send(gatewayFrame{Op: opAck, Seq: seq}) != nil {
				return
			}
			acked = seq
		}
	}
}

func (c *GatewayClient) send(f gatewayFrame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(gatewayWait))
	return c.conn.WriteJSON(f)
}

// Attach puts token online; r receives its pushes (stored ones first).
func (c *GatewayClient) Attach(token string, r pushtest.Receiver) error {
	c.mu.Lock()
	c.receivers[token] = r
	c.mu.Unlock()
	return c.send(gatewayFrame{Op: opAttach, Tokens: []string{token}})
}

// Detach takes token offline.
func (c *GatewayClient) Detach(token string) error {
	c.mu.Lock()
	delete(c.receivers, token)
	c.mu.Unlock()
	return c.send(gatewayFrame{Op: opDetach, Tokens: []string{token}})
}

// Done is closed when the connection ends; Err then says why.
func (c *GatewayClient) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (after Done).
func (c *GatewayClient) Err() error { return c.err }

// Close ends the connection; every attached token goes offline at the mock,
// and pushes the devices had not taken yet are stored there (the closing
// handshake, see GatewayHandler).
func (c *GatewayClient) Close() error {
	c.mu.Lock()
	c.closing = true
	seq := c.last.Load()
	c.mu.Unlock()
	if c.send(gatewayFrame{Op: opClosing, Seq: seq}) == nil {
		select {
		case <-c.done:
		case <-time.After(gatewayWait):
		}
	}
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
