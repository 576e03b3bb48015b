package mockapns

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/testpki"
)

// Broadcast push (iOS 18), per Apple's "Sending channel management requests
// to APNs" and "Sending broadcast push notification requests to APNs".
const (
	// HostManageProduction and HostManageDevelopment serve channel
	// management, on ports 2196 and 2195.
	HostManageProduction  = "api-manage-broadcast.push.apple.com"
	HostManageDevelopment = "api-manage-broadcast.sandbox.push.apple.com"
	PortManageProduction  = 2196
	PortManageDevelopment = 2195

	// MaxChannels: "you can maintain up to 10,000 channels for your app in
	// the development and production environment, respectively".
	MaxChannels = 10_000
	// MaxBroadcastPayload is the largest broadcast payload (5 KB, as the
	// provider libraries that implement broadcast enforce it).
	MaxBroadcastPayload = 5120

	// Message storage policies of a channel.
	StorageNone       = 0 // nothing kept: a device that subscribes later waits for the next update
	StorageMostRecent = 1 // the most recent message is kept and handed to later subscribers

	broadcastPath = "/4/broadcasts/apps/"
	channelsPath  = "/1/apps/"
)

// Broadcast reasons (Apple's error table for channel management and
// broadcast requests). Apple lists them with the other reasons; the mock
// answers each with 400, the reason being what clients match on.
const (
	ReasonMissingChannelID          = "MissingChannelId"          // the apns-channel-id header is missing
	ReasonBadChannelID              = "BadChannelId"              // the apns-channel-id is not a channel id
	ReasonChannelNotRegistered      = "ChannelNotRegistered"      // no such channel (in this environment, for this app)
	ReasonCannotCreateChannelConfig = "CannotCreateChannelConfig" // the app has MaxChannels channels already
	ReasonMissingPushType           = "MissingPushType"           // no push-type (header or channel body)
	ReasonFeatureNotEnabled         = "FeatureNotEnabled"         // broadcast is not enabled for the app
)

var broadcastReasons = map[string]int{
	ReasonMissingChannelID:          http.StatusBadRequest,
	ReasonBadChannelID:              http.StatusBadRequest,
	ReasonChannelNotRegistered:      http.StatusBadRequest,
	ReasonCannotCreateChannelConfig: http.StatusBadRequest,
	ReasonMissingPushType:           http.StatusBadRequest,
	ReasonFeatureNotEnabled:         http.StatusBadRequest,
}

// Channel is a broadcast channel as the mock keeps it.
type Channel struct {
	ID            string          `json:"id"`
	App           string          `json:"app"`
	Env           Environment     `json:"env"`
	StoragePolicy int             `json:"message_storage_policy"`
	PushType      string          `json:"push_type"`
	CreatedAt     time.Time       `json:"created_at"`
	Subscribers   int             `json:"subscribers"`
	Broadcasts    int             `json:"broadcasts"`
	stored        *Delivery       // StorageMostRecent: the last message
	subs          map[string]bool // device tokens
}

type channelKey struct {
	env testpki.Environment
	app string
}

// channels are the broadcast channels of every app and environment.
type channels struct {
	mu       sync.Mutex
	byID     map[string]*Channel
	perApp   map[channelKey]int
	disabled map[string]bool // apps without the broadcast capability
}

func newChannels() *channels {
	return &channels{byID: map[string]*Channel{}, perApp: map[channelKey]int{}, disabled: map[string]bool{}}
}

// SetBroadcast enables or disables the broadcast capability of app (enabled
// by default): a disabled app's channel and broadcast requests get
// FeatureNotEnabled.
func (s *Server) SetBroadcast(app string, enabled bool) {
	s.chans.mu.Lock()
	s.chans.disabled[app] = !enabled
	s.chans.mu.Unlock()
}

// CreateChannel creates a channel for app in env, as the management API does.
func (s *Server) CreateChannel(app string, env Environment, storagePolicy int) (Channel, error) {
	if storagePolicy != StorageNone && storagePolicy != StorageMostRecent {
		return Channel{}, reject(ReasonPayloadEmpty)
	}
	c := s.chans
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disabled[app] {
		return Channel{}, broadcastErr(ReasonFeatureNotEnabled)
	}
	k := channelKey{env, app}
	limit := s.cfg.MaxChannels
	if limit == 0 {
		limit = MaxChannels
	}
	if c.perApp[k] >= limit {
		return Channel{}, broadcastErr(ReasonCannotCreateChannelConfig)
	}
	var b [16]byte
	rand.Read(b[:])
	ch := &Channel{ID: base64.StdEncoding.EncodeToString(b[:]), App: app, Env: env, StoragePolicy: storagePolicy,
		PushType: "LiveActivity", CreatedAt: s.now(), subs: map[string]bool{}}
	c.byID[ch.ID] = ch
	c.perApp[k]++
	s.bus.Publish(events.Event{Hop: events.ProviderChannelCreated, Actor: Actor, Status: "201", Detail: fmt.Sprintf("channel %s for %s (%s), storage policy %d", ch.ID, app, env, storagePolicy), Attrs: map[string]string{"channel": ch.ID, "topic": app, "env": string(env), "message_storage_policy": strconv.Itoa(storagePolicy)}})

	return ch.snapshot(), nil
}

func (ch *Channel) snapshot() Channel {
	c := *ch
	c.Subscribers, c.stored, c.subs = len(ch.subs), nil, nil
	return c
}

func broadcastErr(reason string) *Error {
	return &Error{Status: broadcastReasons[reason], Reason: reason}
}

// lookup finds a channel of app in env by id, or says why not.
func (c *channels) lookup(id, app string, env testpki.Environment) (*Channel, *Error) {
	if id == "" {
		return nil, broadcastErr(ReasonMissingChannelID)
	}
	if b, err := base64.StdEncoding.DecodeString(id); err != nil || len(b) == 0 || len(b) > 64 {
		return nil, broadcastErr(ReasonBadChannelID)
	}
	if c.disabled[app] {
		return nil, broadcastErr(ReasonFeatureNotEnabled)
	}
	ch := c.byID[id]
	if ch == nil || ch.App != app || ch.Env != env {
		return nil, broadcastErr(ReasonChannelNotRegistered)
	}
	return ch, nil
}

// DeleteChannel deletes a channel; its subscribers hear nothing more.
func (s *Server) DeleteChannel(id, app string, env Environment) error {
	c := s.chans
	c.mu.Lock()
	ch, err := c.lookup(id, app, env)
	if err == nil {
		delete(c.byID, id)
		c.perApp[channelKey{env, app}]--
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	s.bus.Publish(events.Event{Hop: events.ProviderChannelDeleted, Actor: Actor, Status: "204", Detail: "channel " + id + " deleted", Attrs: map[string]string{"channel": id, "topic": app, "env": string(env), "subscribers": strconv.Itoa(len(ch.subs))}})

	return nil
}

// Channels lists the channels of app in env ("" app: every app).
func (s *Server) Channels(app string, env Environment) []Channel {
	s.chans.mu.Lock()
	defer s.chans.mu.Unlock()
	var out []Channel
	for _, ch := range s.chans.byID {
		if (app == "" || ch.App == app) && (env == "" || ch.Env == env) {
			out = append(out, ch.snapshot())
		}
	}
	slices.SortFunc(out, func(a, b Channel) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Subscribe subscribes the device holding token (a token the mock issued
// for the channel's app and environment) to channel id, as ActivityKit does
// for an activity started on a channel. A channel that keeps its most
// recent message hands it over at once.
func (s *Server) Subscribe(id, token string) error {
	reg, ok := s.reg.Lookup(strings.ToLower(token))
	if !ok || !reg.Installed {
		return fmt.Errorf("mockapns: token %s is not a live token", events.RedactToken(token))
	}
	c := s.chans
	c.mu.Lock()
	ch, err := c.lookup(id, reg.App, reg.Environment)
	var stored *Delivery
	if err == nil {
		ch.subs[reg.Token] = true
		if ch.stored != nil {
			d := *ch.stored
			d.Token = reg.Token
			stored = &d
		}
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	s.bus.Publish(events.Event{Hop: events.DeviceChannelSubscribed, Actor: Actor, Status: "subscribed", Detail: "subscribed to channel " + id, Attrs: map[string]string{"channel": id, "token": events.RedactToken(reg.Token), "topic": reg.App, "device": reg.Device}})

	if stored != nil {
		s.hub.Send(*stored)
	}
	return nil
}

// Unsubscribe takes token off channel id.
func (s *Server) Unsubscribe(id, token string) {
	s.chans.mu.Lock()
	if ch := s.chans.byID[id]; ch != nil {
		delete(ch.subs, strings.ToLower(token))
	}
	s.chans.mu.Unlock()
}

// serveBroadcast serves POST /4/broadcasts/apps/{bundle-id} on the provider
// API: authenticated as any push, then fanned out to the channel's subscribers.
func (s *Server) serveBroadcast(w http.ResponseWriter, x *exchange) {
	r := x.r
	x.n.ID = r.Header.Get("Apns-Id")
	if !validUUID(x.n.ID) {
		x.n.ID = newAPNsID()
	}
	app := strings.TrimPrefix(r.URL.Path, broadcastPath)
	if r.Method != http.MethodPost {
		s.answer(w, x, reject(ReasonMethodNotAllowed))
		return
	}
	if !validTopic(app) || bundleOf(app) != app {
		s.answer(w, x, reject(ReasonBadPath))
		return
	}
	x.n.Topic, x.n.PushType, x.n.Priority = app, r.Header.Get("Apns-Push-Type"), 10
	switch x.n.PushType {
	case "":
		s.answer(w, x, broadcastErr(ReasonMissingPushType))
		return
	case "liveactivity":
	default:
		s.answer(w, x, reject(ReasonInvalidPushType))
		return
	}
	if p := r.Header.Get("Apns-Priority"); p != "" {
		v, err := strconv.Atoi(p)
		if err != nil || (v != 10 && v != 5 && v != 1) {
			s.answer(w, x, reject(ReasonBadPriority))
			return
		}
		x.n.Priority = v
	}
	if e := r.Header.Get("Apns-Expiration"); e != "" {
		v, err := strconv.ParseInt(e, 10, 64)
		if err != nil || v < 0 {
			s.answer(w, x, reject(ReasonBadExpirationDate))
			return
		}
		x.n.Expiration, x.n.HasExpiration = v, true
	}
	if err := s.authenticate(x); err != nil {
		s.answer(w, x, err)
		return
	}
	switch {
	case x.cred.cert != nil && app != x.cred.app, x.cred.key != nil && !x.cred.key.allows(app):
		s.answer(w, x, reject(ReasonTopicDisallowed))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBroadcastPayload+1))
	if err != nil {
		s.record(x, 0, "", "body: "+err.Error())
		return
	}
	x.body = body
	ack, perr := checkPayload(body, MaxBroadcastPayload, x.n.PushType)
	x.ack = ack
	if perr != nil {
		s.answer(w, x, perr)
		return
	}
	channel := r.Header.Get("Apns-Channel-Id")
	s.chans.mu.Lock()
	ch, cerr := s.chans.lookup(channel, app, x.env)
	var subs []string
	now := s.now()
	d := Delivery{Provider: Provider, ID: x.n.ID, App: app, Payload: bytes.Clone(body), AcceptedAt: now,
		Headers: map[string]string{"apns-push-type": x.n.PushType, "apns-priority": strconv.Itoa(x.n.Priority),
			"apns-topic": app + PushTypes["liveactivity"], "apns-channel-id": channel}}
	if x.n.HasExpiration {
		d.Headers["apns-expiration"] = strconv.FormatInt(x.n.Expiration, 10)
		d.Expiry = time.Unix(x.n.Expiration, 0)
		d.NowOrNever = x.n.Expiration == 0 || !d.Expiry.After(now)
	}
	if cerr == nil {
		for t := range ch.subs {
			subs = append(subs, t)
		}
		ch.Broadcasts++
		if ch.StoragePolicy == StorageMostRecent {
			kept := d
			ch.stored = &kept
		}
	}
	s.chans.mu.Unlock()
	if cerr != nil {
		s.answer(w, x, cerr)
		return
	}
	h := w.Header()
	h["Apns-Id"] = []string{x.n.ID}
	if id := r.Header.Get("Apns-Request-Id"); id != "" {
		h["Apns-Request-Id"] = []string{id}
	}
	if x.env == testpki.Development {
		h["Apns-Unique-Id"] = []string{newUUID(false)}
	}
	w.WriteHeader(http.StatusOK)
	s.record(x, http.StatusOK, "", fmt.Sprintf("broadcast on channel %s to %d subscribers", channel, len(subs)))
	attrs := x.attrs()
	attrs["channel"], attrs["subscribers"] = channel, strconv.Itoa(len(subs))
	s.bus.Publish(events.Event{TraceID: x.traceID(), Hop: events.ProviderBroadcast, Actor: Actor, Status: "200",
		Detail: fmt.Sprintf("broadcast on channel %s to %d subscribers", channel, len(subs)), Payload: events.Excerpt(body), Attrs: attrs})
	slices.Sort(subs)
	stored := 0
	for _, t := range subs {
		dd := d
		dd.Token = t
		if s.hub.Send(dd) == mockkit.Stored {
			stored++
		}
	}
	if stored > 0 {
		s.bus.Publish(events.Event{TraceID: x.traceID(), Hop: events.ProviderStored, Actor: Actor, Status: "stored", Detail: fmt.Sprintf("%d of the channel's subscribers offline: kept as their app's last notification", stored), Attrs: attrs})

	}
}

// ServeChannels serves the channel management API on ln (TLS, HTTP/2 only)
// until ctx ends or Close; requests naming no management host get env.
func (s *Server) ServeChannels(ctx context.Context, ln net.Listener, env Environment) error {
	if env == "" {
		env = testpki.Production
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveChannels(w, r, env) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"h2"}, ClientAuth: tls.RequestClientCert},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP2(true)
	return s.servers.Serve(ctx, srv, ln)
}

// ChannelsHandler serves the channel management API for env on a server of
// your own (it must set r.TLS for certificate auth).
func (s *Server) ChannelsHandler(env Environment) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveChannels(w, r, env) })
}

// serveChannels serves POST/GET/DELETE /1/apps/{bundle-id}/channels and
// GET /1/apps/{bundle-id}/all-channels.
func (s *Server) serveChannels(w http.ResponseWriter, r *http.Request, def testpki.Environment) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	env := def
	switch h := hostOnly(r.Host); h {
	case HostManageProduction:
		env = testpki.Production
	case HostManageDevelopment:
		env = testpki.Development
	}
	x := &exchange{r: r, env: env, tls: r.TLS}
	reqID := r.Header.Get("Apns-Request-Id")
	if !validUUID(reqID) {
		reqID = newUUID(false)
	}
	fail := func(e *Error) {
		w.Header().Set("Apns-Request-Id", reqID)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, `{"reason":%q}`, e.Reason)
		s.record(x, e.Status, e.Reason, "channel management")
	}
	rest, ok := strings.CutPrefix(r.URL.Path, channelsPath)
	app, op, _ := strings.Cut(rest, "/")
	if !ok || (op != "channels" && op != "all-channels") || !validTopic(app) || bundleOf(app) != app {
		fail(reject(ReasonBadPath))
		return
	}
	x.n.Topic = app
	if err := s.authenticate(x); err != nil {
		fail(err)
		return
	}
	if x.cred.cert != nil && app != x.cred.app || x.cred.key != nil && !x.cred.key.allows(app) {
		fail(reject(ReasonTopicDisallowed))
		return
	}
	w.Header().Set("Apns-Request-Id", reqID)
	id := r.Header.Get("Apns-Channel-Id")
	status := http.StatusOK
	switch {
	case op == "all-channels" && r.Method == http.MethodGet:
		s.chans.mu.Lock()
		disabled := s.chans.disabled[app]
		s.chans.mu.Unlock()
		if disabled {
			fail(broadcastErr(ReasonFeatureNotEnabled))
			return
		}
		ids := []string{}
		for _, ch := range s.Channels(app, env) {
			ids = append(ids, ch.ID)
		}
		httpjson.Write(w, http.StatusOK, map[string][]string{"channels": ids})
	case op == "channels" && r.Method == http.MethodPost:
		req, err := ParseChannelRequest(io.LimitReader(r.Body, 4096))
		if err != nil {
			fail(err)
			return
		}
		ch, cerr := s.CreateChannel(app, env, req.StoragePolicy)
		if cerr != nil {
			fail(cerr.(*Error))
			return
		}
		w.Header().Set("Apns-Channel-Id", ch.ID)
		status = http.StatusCreated
		w.WriteHeader(status)
	case op == "channels" && r.Method == http.MethodGet:
		s.chans.mu.Lock()
		ch, err := s.chans.lookup(id, app, env)
		var out map[string]any
		if err == nil {
			out = map[string]any{"message-storage-policy": ch.StoragePolicy, "push-type": ch.PushType}
		}
		s.chans.mu.Unlock()
		if err != nil {
			fail(err)
			return
		}
		w.Header().Set("Apns-Channel-Id", id)
		httpjson.Write(w, http.StatusOK, out)
	case op == "channels" && r.Method == http.MethodDelete:
		if err := s.DeleteChannel(id, app, env); err != nil {
			fail(err.(*Error))
			return
		}
		status = http.StatusNoContent
		w.WriteHeader(status)
	default:
		fail(reject(ReasonMethodNotAllowed))
		return
	}
	s.record(x, status, "", "channel management: "+r.Method+" "+op)
}

// ChannelRequest is the body of a channel creation.
type ChannelRequest struct {
	StoragePolicy int    `json:"message-storage-policy"`
	PushType      string `json:"push-type"`
}

// ParseChannelRequest reads a channel creation body:
// {"message-storage-policy":0|1,"push-type":"LiveActivity"}. A body that is
// not that JSON object, or a policy other than 0 or 1, is PayloadEmpty
// (Apple names no reason for either); no push-type is MissingPushType,
// another than LiveActivity InvalidPushType.
func ParseChannelRequest(body io.Reader) (ChannelRequest, *Error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(body)
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		return ChannelRequest{}, reject(ReasonPayloadEmpty)
	}
	var req ChannelRequest
	pt, ok := raw["push-type"]
	if !ok {
		return req, broadcastErr(ReasonMissingPushType)
	}
	if json.Unmarshal(pt, &req.PushType) != nil || !strings.EqualFold(req.PushType, "LiveActivity") {
		return req, reject(ReasonInvalidPushType)
	}
	if sp, ok := raw["message-storage-policy"]; ok {
		if json.Unmarshal(sp, &req.StoragePolicy) != nil || (req.StoragePolicy != StorageNone && req.StoragePolicy != StorageMostRecent) {
			return req, reject(ReasonPayloadEmpty) // Apple names no reason for it
		}
	}
	return req, nil
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// channelControl adds the broadcast routes to the control API:
//
//	GET    /control/channels                         every channel
//	POST   /control/channels                         {"app":…,"env":…,"message_storage_policy":0|1} → 201 Channel
//	POST   /control/channels/{id}/subscribers        {"token":…}: the device holding token subscribes
//	DELETE /control/channels/{id}/subscribers/{token}
func (s *Server) channelControl(mux *http.ServeMux) {
	api := httpjson.API{DisallowUnknownFields: true}
	mux.HandleFunc("GET /control/channels", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, s.Channels("", ""))
	})
	mux.HandleFunc("POST /control/channels", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			App           string `json:"app"`
			Env           string `json:"env"`
			StoragePolicy int    `json:"message_storage_policy"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		ch, err := s.CreateChannel(req.App, testpki.Environment(req.Env), req.StoragePolicy)
		if err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, ch)
	})
	mux.HandleFunc("POST /control/channels/{id}/subscribers", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Token string `json:"token"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		if err := s.Subscribe(r.PathValue("id"), req.Token); err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /control/channels/{id}/subscribers/{token}", func(w http.ResponseWriter, r *http.Request) {
		s.Unsubscribe(r.PathValue("id"), r.PathValue("token"))
		w.WriteHeader(http.StatusNoContent)
	})
}

// channelMetrics reports broadcast channels to Prometheus at scrape time.
type channelMetrics struct {
	s                          *Server
	channels, subs, broadcasts *prometheus.Desc
}

func newChannelMetrics(s *Server) *channelMetrics {
	labels := prometheus.Labels{"provider": Provider}
	return &channelMetrics{s: s,
		channels:   prometheus.NewDesc("pushlab_mock_broadcast_channels", "Broadcast channels, by environment.", []string{"env"}, labels),
		subs:       prometheus.NewDesc("pushlab_mock_broadcast_subscribers", "Device tokens subscribed to broadcast channels, by environment.", []string{"env"}, labels),
		broadcasts: prometheus.NewDesc("pushlab_mock_broadcasts_total", "Broadcasts accepted on channels that still exist, by environment.", []string{"env"}, labels),
	}
}

func (m *channelMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.channels
	ch <- m.subs
	ch <- m.broadcasts
}

func (m *channelMetrics) Collect(ch chan<- prometheus.Metric) {
	type count struct{ channels, subs, broadcasts int }
	by := map[testpki.Environment]*count{testpki.Production: {}, testpki.Development: {}}
	for _, c := range m.s.Channels("", "") {
		n := by[c.Env]
		if n == nil {
			continue
		}
		n.channels++
		n.subs += c.Subscribers
		n.broadcasts += c.Broadcasts
	}
	for env, n := range by {
		ch <- prometheus.MustNewConstMetric(m.channels, prometheus.GaugeValue, float64(n.channels), string(env))
		ch <- prometheus.MustNewConstMetric(m.subs, prometheus.GaugeValue, float64(n.subs), string(env))
		ch <- prometheus.MustNewConstMetric(m.broadcasts, prometheus.CounterValue, float64(n.broadcasts), string(env))
	}
}
