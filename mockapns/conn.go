package mockapns

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pushlab/pushlab/events"
)

// StatusGoAway is the Status of the provider.rejected event the mock
// publishes when it closes a connection for its bad requests
// (Config.MaxBadRequests). The event has no trace id: it is about a
// connection, not a notification.
const StatusGoAway = "GoAway"

// badRun is a connection's current run of bad requests (Config.MaxBadRequests).
type badRun struct {
	tokens  int  // BadDeviceToken answers
	others  int  // other 400 answers
	closing bool // the limit was reached: GOAWAY is on its way
}

// score counts in halves: a BadDeviceToken is 2, another 400 is 1.
func (b badRun) score() int { return 2*b.tokens + b.others }

// tally adds an answer to the connection's run of bad requests: a
// BadDeviceToken counts one, another 400 counts half, a 200 ends the run,
// and any other status (410 Unregistered above all: a token that once was
// good) leaves it as it is. It reports whether the connection is closing
// (the answer must then carry goAway) and whether this answer is the one
// that reached the limit. limit ≤ 0 counts nothing; so does a request served
// without connection state (Handler()).
func (c *connState) tally(status int, reason string, limit int) (closing, tripped bool, run badRun) {
	if c == nil || limit <= 0 {
		return false, false, badRun{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case status == http.StatusOK:
		c.bad.tokens, c.bad.others = 0, 0
	case status == http.StatusBadRequest && reason == ReasonBadDeviceToken:
		c.bad.tokens++
	case status == http.StatusBadRequest:
		c.bad.others++
	}
	if !c.bad.closing && c.bad.score() >= 2*limit {
		c.bad.closing, tripped = true, true
	}
	return c.bad.closing, tripped, c.bad
}

// goAway makes Go's HTTP/2 server close the connection of w once this
// response is written: "Connection: close" on an HTTP/2 response starts a
// graceful shutdown, a GOAWAY (NO_ERROR) naming the last stream it will
// serve; the streams in flight finish and the connection closes. The
// GOAWAY carries {"reason":reason} as debug data (see h2conn.go; "" keeps
// a reason set before). It must be called before the status is written.
func goAway(w http.ResponseWriter, c *connState, reason string) {
	if c != nil && c.fc != nil && reason != "" {
		c.fc.goAwayReason(reason)
	}
	w.Header().Set("Connection", "close")
}

// admitStream lets a request on a frameConn begin, or refuses its stream
// (see frameConn.admit) and ends the handler. The caller releases an
// admitted stream when it is done.
func (s *Server) admitStream(r *http.Request, c *connState) {
	ids := r.Header[streamHeader]
	delete(r.Header, streamHeader)
	var stream uint64
	if len(ids) > 0 {
		stream, _ = strconv.ParseUint(ids[len(ids)-1], 10, 31)
	}
	if !c.fc.admit(uint32(stream)) {
		s.refused(r, c, uint32(stream))
		panic(http.ErrAbortHandler) // the client got RST_STREAM REFUSED_STREAM already
	}
}

// refused records a request refused with REFUSED_STREAM: the connection
// had not yet posted a valid provider token and was serving another stream.
func (s *Server) refused(r *http.Request, c *connState, stream uint32) {
	s.rec.Add(Request{At: s.now(), Method: r.Method, Path: r.URL.Path, Token: strings.TrimPrefix(r.URL.Path, devicePath),
		Auth: map[string]any{"note": fmt.Sprintf("stream %d refused (REFUSED_STREAM): one stream until a request with a valid provider token", stream)}})
	s.log.Debug("stream refused: one stream until a valid provider token", "remote", r.RemoteAddr, "stream", stream, "env", string(c.env))
}

// closeForBadRequests reports, once per connection, that the answer to x
// closes it: an event on the spine and a log line.
func (s *Server) closeForBadRequests(x *exchange, run badRun) {
	detail := fmt.Sprintf("connection closed with GOAWAY after this answer: %d BadDeviceToken and %d other 400s in a row (limit %d)",
		run.tokens, run.others, s.cfg.MaxBadRequests)
	attrs := x.attrs()
	attrs["remote"] = x.r.RemoteAddr
	attrs["bad_device_tokens"] = fmt.Sprint(run.tokens)
	attrs["other_400s"] = fmt.Sprint(run.others)
	attrs["limit"] = fmt.Sprint(s.cfg.MaxBadRequests)
	s.bus.Publish(events.Event{Hop: events.ProviderRejected, Actor: Actor, Status: StatusGoAway, Detail: detail, Attrs: attrs})
	s.log.Info("closing connection with GOAWAY for bad requests", "remote", attrs["remote"], "env", string(x.env),
		"bad_device_tokens", run.tokens, "other_400s", run.others, "limit", s.cfg.MaxBadRequests)
}

// headerMap is a small set of header names and values, built up before it
// becomes a map: requests on one connection mostly repeat their headers
// (topic, push type, priority, authority), and then their records share one
// map (sharedHeaders).
type headerMap struct {
	n     int
	names [maxRecordedHeaders]string
	vals  [maxRecordedHeaders]string
	m     map[string]string // built, once shared
}

// maxRecordedHeaders is the most a record holds: the recorded apns-*
// headers, authorization and :authority (a delivery holds fewer).
const maxRecordedHeaders = len(recordedHeaders) + 2

// add appends a header; names are added at most once, in a fixed order.
func (h *headerMap) add(name, val string) {
	h.names[h.n], h.vals[h.n] = name, val
	h.n++
}

func (h *headerMap) build() map[string]string {
	m := make(map[string]string, h.n)
	for i := range h.n {
		m[h.names[i]] = h.vals[i]
	}
	return m
}

// sharedHeaders returns want as a map: the one last built on this
// connection if it holds the same headers, else a new one, which is kept
// for the next request. The maps go into records, which the mock never
// writes after they are made and already share their Auth maps; it saves a
// map per push. (Deliveries get maps of their own: a Receiver is the user's
// code, free to write to what it is given.)
func sharedHeaders(last *atomic.Pointer[headerMap], want *headerMap) map[string]string {
	if l := last.Load(); l != nil && l.n == want.n && l.names == want.names && l.vals == want.vals {
		return l.m
	}
	kept := *want
	kept.m = want.build()
	last.Store(&kept)
	return kept.m
}

// recordedHeaders are the request's headers as the inspection log keeps
// them. (Its own call, like deliveryHeaders: the handler's frames stay
// small, see handOver.)
func (x *exchange) recordedHeaders() map[string]string {
	var want headerMap
	vals := x.checked()
	for _, k := range recordedHeaders {
		var v []string
		if k.checked == notChecked {
			v = x.r.Header[k.key]
		} else {
			v = vals[k.checked]
		}
		if len(v) > 0 {
			want.add(k.name, strings.Join(v, ", "))
		}
	}
	if len(vals[hdrAuthorization]) > 0 {
		want.add("authorization", "bearer (see auth)")
	}
	want.add(":authority", x.r.Host)
	if x.conn == nil {
		return want.build()
	}
	return sharedHeaders(&x.conn.lastRecorded, &want)
}

// deliveryHeaders are the headers a delivery carries to the device.
func (x *exchange) deliveryHeaders() map[string]string {
	var want headerMap
	want.add("apns-push-type", x.n.PushType)
	want.add("apns-priority", strconv.Itoa(x.n.Priority))
	want.add("apns-topic", x.n.Topic)
	if x.n.CollapseID != "" {
		want.add("apns-collapse-id", x.n.CollapseID)
	}
	if x.n.HasExpiration {
		want.add("apns-expiration", strconv.FormatInt(x.n.Expiration, 10))
	}
	return want.build()
}
