package events

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Each actor serves its bus at GET /events; the collector (web view, e2e) reads
// several and merges them. Frames are single JSON events, in Seq order, so a
// reader that sees Seq jump knows it missed events (its buffer overflowed on the
// serving side) and how many.

const (
	wsWriteTimeout = 10 * time.Second
	wsPingEvery    = 20 * time.Second
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 16 * 1024,
	// Readers are pushlab's own collectors and browsers on loopback; the stream
	// carries no secrets (tokens are redacted, keys never appear).
	CheckOrigin: func(*http.Request) bool { return true },
}

// Handler streams the bus over a websocket. Query parameters:
//
//	history=1   start with the retained history (default 1; 0 = live only)
//	since=N     with history, send only events with Seq > N (resume after a reconnect)
//	buffer=N    per-connection buffer (default DefaultBuffer)
func Handler(b *Bus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		withHistory := q.Get("history") != "0"
		since, _ := strconv.ParseUint(q.Get("since"), 10, 64)
		buffer, _ := strconv.Atoi(q.Get("buffer"))
		// Subscribe before the handshake answers, so that every event published
		// after the client's Dial returns is on this stream.
		sub, hist := b.Subscribe(buffer, withHistory)
		defer sub.Close()
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader has answered the client
		}
		defer conn.Close()

		// Reading is only to notice the peer leaving; readers send nothing.
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
		write := func(e Event) error {
			conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
			return conn.WriteMessage(websocket.TextMessage, e.JSON())
		}
		for _, e := range hist {
			if e.Seq > since {
				if write(e) != nil {
					return
				}
			}
		}
		ping := time.NewTicker(wsPingEvery)
		defer ping.Stop()
		for {
			select {
			case e, ok := <-sub.C():
				if !ok || write(e) != nil {
					return
				}
			case <-ping.C:
				conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
				if conn.WriteMessage(websocket.PingMessage, nil) != nil {
					return
				}
			case <-gone:
				return
			case <-r.Context().Done():
				return
			}
		}
	})
}

// Gap reports events a stream reader missed: Seq jumped from After to Next.
type Gap struct{ After, Next uint64 }

// Missing is how many events fell into the gap.
func (g Gap) Missing() uint64 { return g.Next - g.After - 1 }

// Stream is a reader of a remote actor's /events.
type Stream struct {
	conn    *websocket.Conn
	lastSeq uint64
}

// Dial connects to a ws:// or wss:// events URL. tlsConfig may be nil.
func Dial(ctx context.Context, url string, tlsConfig *tls.Config, header ...http.Header) (*Stream, error) {
	d := websocket.Dialer{TLSClientConfig: tlsConfig, HandshakeTimeout: 10 * time.Second}
	var h http.Header
	for _, x := range header {
		for k, v := range x {
			if h == nil {
				h = http.Header{}
			}
			h[k] = append(h[k], v...)
		}
	}
	conn, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("events: dial %s: %w (HTTP %d)", url, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("events: dial %s: %w", url, err)
	}
	return &Stream{conn: conn}, nil
}

// Next returns the next event, and a non-nil gap when events were missed
// before it. It returns an error once the stream ends.
func (s *Stream) Next() (Event, *Gap, error) {
	_, data, err := s.conn.ReadMessage()
	if err != nil {
		return Event{}, nil, err
	}
	var e Event
	if err := json.Unmarshal(data, &e); err != nil {
		return Event{}, nil, fmt.Errorf("events: bad frame: %w", err)
	}
	var gap *Gap
	if s.lastSeq != 0 && e.Seq != s.lastSeq+1 {
		gap = &Gap{After: s.lastSeq, Next: e.Seq}
	}
	s.lastSeq = e.Seq
	return e, gap, nil
}

// Close ends the stream.
func (s *Stream) Close() error {
	err := s.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	if cerr := s.conn.Close(); err == nil || errors.Is(err, websocket.ErrCloseSent) {
		err = cerr
	}
	return err
}
