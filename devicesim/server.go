package devicesim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pushlab/pushlab/internal/events"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/internal/httpserve"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/proxy"
)

// ServerConfig configures the server simulator.
type ServerConfig struct {
	// ID is the server_id in every push (Mattermost's diagnostic id); random if empty.
	ID string
	// ProxyURL is the push proxy ("https://127.0.0.1:8066").
	ProxyURL string
	// ProxyClient reaches the proxy; it must trust the proxy's certificate.
	// nil: http.DefaultClient.
	ProxyClient *http.Client
	// SigningKey signs every push (ES256 over ack_id and device_id); apps pin
	// its public half under SigningKeyID.
	SigningKey   *ecdsa.PrivateKey
	SigningKeyID string
	// Contents is the admin's push-contents setting (default generic).
	Contents Contents
	// Profile: hpns and eas seal contents to the device key; tpns sends them
	// in clear and says so on every event.
	Profile Profile
	// EnvelopeField is where sealed contents travel: EnvelopeInMessage
	// (default), which every Mattermost-compatible proxy carries, or
	// EnvelopeInField (PushNotification.encrypted), for a proxy that passes
	// that field through.
	EnvelopeField string
	// TLS, if set, is served by Serve (it needs a certificate).
	TLS *tls.Config

	Bus    *events.Bus
	Logger *slog.Logger
	Now    func() time.Time
	// Rand feeds content encryption and ids; nil is crypto/rand.
	Rand io.Reader
	// Remember bounds how many sent notifications the server keeps for acks
	// and id-loaded fetches (default 100,000).
	Remember int
}

// Server simulates a Mattermost server towards the push proxy: it keeps users'
// device sessions, builds, signs and seals each PushNotification, posts it to
// the proxy, drops a session the proxy answers REMOVE for, and serves the
// device ack endpoint, answering an id-loaded ack with the message.
type Server struct {
	cfg    ServerConfig
	signer *pushcrypto.Signer
	log    *slog.Logger
	proxy  *http.Client
	bus    *events.Bus

	mu       sync.Mutex
	contents Contents
	sessions map[string]*Session // by id
	byToken  map[string]string   // device token → session id
	badges   map[string]int      // user → badge count
	sent     map[string]*sentPush
	sentFIFO []string // ack ids, oldest first, bounded by Remember

	// URL is set by Start.
	URL     string
	servers httpserve.Group
}

// Session is a user's device session, as the server keeps it.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	DeviceName string    `json:"device_name,omitempty"`
	Platform   string    `json:"platform"` // proxy push type, without the "-vN" suffix
	Version    string    `json:"version,omitempty"`
	Token      string    `json:"-"` // the provider token: PushNotification.device_id
	TokenShown string    `json:"token"`
	KeyID      string    `json:"key_id,omitempty"`
	KeyFP      string    `json:"key_fingerprint,omitempty"`
	CreatedAt  time.Time `json:"created_at"`

	secret string
	key    *pushcrypto.Recipient
}

type sentPush struct {
	session  string
	typ      string
	postID   string
	contents pushcrypto.Contents
	channel  string
	plain    bool
}

// SessionRequest is the body of PUT /api/v4/users/sessions/device: the app
// attaches its push token and content key to the user's session.
type SessionRequest struct {
	UserID string `json:"user_id"`
	// DeviceID is "<proxy type>:<token>", optionally "<type>-v2:<token>".
	DeviceID   string                `json:"device_id"`
	DeviceName string                `json:"device_name,omitempty"`
	DeviceKey  *pushcrypto.Recipient `json:"device_key,omitempty"`
}

// SessionResponse answers a SessionRequest. Token authenticates the device's
// acks (Authorization: Bearer).
type SessionResponse struct {
	SessionID    string `json:"session_id"`
	Token        string `json:"token"`
	ServerID     string `json:"server_id"`
	SigningKeyID string `json:"signing_key_id"`
}

// Message is something to push. Type defaults to message; SessionID, Device
// (a session's device name) or UserID (all the user's sessions) chooses the
// sessions.
type Message struct {
	Type        string `json:"type,omitempty"`
	UserID      string `json:"user_id,omitempty"`
	SessionID   string `json:"session_id,omitempty"`
	Device      string `json:"device,omitempty"`
	TeamID      string `json:"team_id,omitempty"`
	ChannelID   string `json:"channel_id,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
	SenderID    string `json:"sender_id,omitempty"`
	SenderName  string `json:"sender_name,omitempty"`
	Message     string `json:"message,omitempty"`
	RootID      string `json:"root_id,omitempty"`
	PostID      string `json:"post_id,omitempty"`
	// Badge sets the badge for update_badge and clear (nil: count it).
	Badge *int `json:"badge,omitempty"`
}

// SendResult is the proxy's answer for one session.
type SendResult struct {
	SessionID  string `json:"session_id"`
	UserID     string `json:"user_id"`
	DeviceName string `json:"device_name,omitempty"`
	Platform   string `json:"platform"`
	AckID      string `json:"ack_id"`
	PostID     string `json:"post_id,omitempty"`
	// Status is the proxy's verdict: OK, REMOVE or FAIL.
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	Removed bool   `json:"removed,omitempty"` // the session was deleted after REMOVE
}

// Proxy verdicts.
const (
	StatusOK     = proxy.StatusOK
	StatusRemove = proxy.StatusRemove // the token is dead: the session is deleted
	StatusFail   = proxy.StatusFail
)

// Server errors.
var (
	ErrNoSession   = errors.New("devicesim: no such device session")
	ErrBadDeviceID = errors.New("devicesim: device_id must be <platform>:<token>")
	ErrBadRequest  = errors.New("devicesim: bad request")
	ErrUnknownAck  = errors.New("devicesim: unknown ack id")
)

// NewServer checks cfg and returns a server with no sessions.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.ProxyURL == "" {
		return nil, errors.New("devicesim: server needs ProxyURL")
	}
	if cfg.SigningKey == nil || cfg.SigningKeyID == "" {
		return nil, errors.New("devicesim: server needs SigningKey and SigningKeyID")
	}
	if cfg.Contents == "" {
		cfg.Contents = ContentsGeneric
	}
	if _, err := ParseContents(string(cfg.Contents)); err != nil {
		return nil, err
	}
	if cfg.Profile == "" {
		cfg.Profile = ProfileHPNS
	}
	if _, err := ParseProfile(string(cfg.Profile)); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Remember <= 0 {
		cfg.Remember = 100_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		signer:   pushcrypto.NewSigner(cfg.SigningKey, cfg.SigningKeyID),
		log:      cfg.Logger.With("actor", "server"),
		proxy:    cfg.ProxyClient,
		bus:      cfg.Bus,
		contents: cfg.Contents,
		sessions: map[string]*Session{},
		byToken:  map[string]string{},
		badges:   map[string]int{},
		sent:     map[string]*sentPush{},
		servers:  httpserve.Group{Grace: 2 * time.Second},
	}
	if s.proxy == nil {
		s.proxy = http.DefaultClient
	}
	if s.cfg.ID == "" {
		s.cfg.ID = s.newID()
	}
	s.cfg.ProxyURL = strings.TrimRight(cfg.ProxyURL, "/")
	s.log.Info("server simulator ready", "server_id", s.cfg.ID, "proxy", s.cfg.ProxyURL,
		"signing_key", pushcrypto.KeyFingerprint(&cfg.SigningKey.PublicKey), "kid", cfg.SigningKeyID,
		"contents", cfg.Contents, "profile", cfg.Profile)
	return s, nil
}

// ID is the server_id the server puts in every push.
func (s *Server) ID() string { return s.cfg.ID }

// Profile is the profile the server runs.
func (s *Server) Profile() Profile { return s.cfg.Profile }

// Contents is the current push-contents setting.
func (s *Server) Contents() Contents {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contents
}

// SetContents changes the push-contents setting, as an admin would.
func (s *Server) SetContents(c Contents) error {
	c, err := ParseContents(string(c))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.contents = c
	s.mu.Unlock()
	return nil
}

// newID is a Mattermost-shaped id: 26 lower-case base32 characters.
func (s *Server) newID() string {
	var b [16]byte
	io.ReadFull(s.cfg.Rand, b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:26]
}

// AttachDevice records a user's device session; a session with the same
// token is replaced (the app re-registered).
func (s *Server) AttachDevice(req SessionRequest) (SessionResponse, error) {
	platform, token, ok := strings.Cut(req.DeviceID, ":")
	if !ok || platform == "" || token == "" {
		return SessionResponse{}, fmt.Errorf("%w: %q", ErrBadDeviceID, events.RedactToken(req.DeviceID))
	}
	if req.UserID == "" {
		return SessionResponse{}, fmt.Errorf("%w: user_id is required", ErrBadRequest)
	}
	version := ""
	if p, v, ok := strings.Cut(platform, "-"); ok {
		platform, version = p, v
	}
	switch platform {
	case TypeApple, TypeAppleRN, TypeAndroid, TypeAndroidRN:
	default:
		return SessionResponse{}, fmt.Errorf("%w: unknown platform %q", ErrBadDeviceID, platform)
	}
	sess := &Session{
		ID: s.newID(), UserID: req.UserID, DeviceName: req.DeviceName, Platform: platform, Version: version,
		Token: token, TokenShown: events.RedactToken(token), CreatedAt: s.cfg.Now(), secret: s.newID(),
	}
	if req.DeviceKey != nil {
		k := *req.DeviceKey
		sess.key, sess.KeyID, sess.KeyFP = &k, k.KeyID, pushcrypto.KeyFingerprint(k.PublicKey)
	}
	s.mu.Lock()
	if old, ok := s.byToken[token]; ok {
		delete(s.sessions, old)
	}
	s.sessions[sess.ID] = sess
	s.byToken[token] = sess.ID
	s.mu.Unlock()
	s.log.Info("device session attached", "user", req.UserID, "device", req.DeviceName, "platform", platform,
		"token", sess.TokenShown, "device_key", sess.KeyFP)
	return SessionResponse{SessionID: sess.ID, Token: sess.secret, ServerID: s.cfg.ID, SigningKeyID: s.cfg.SigningKeyID}, nil
}

// RemoveSession deletes a session (logout).
func (s *Server) RemoveSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if ok {
		delete(s.sessions, id)
		if s.byToken[sess.Token] == id {
			delete(s.byToken, sess.Token)
		}
	}
	return ok
}

// Sessions lists the device sessions, oldest first.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	out := make([]Session, 0, len(s.sessions))
	for _, x := range s.sessions {
		out = append(out, *x)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// Session looks one session up.
func (s *Server) Session(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	if !ok {
		return Session{}, false
	}
	return *x, true
}

// SessionForToken finds the session holding a device token.
func (s *Server) SessionForToken(token string) (Session, bool) {
	s.mu.Lock()
	id, ok := s.byToken[token]
	s.mu.Unlock()
	if !ok {
		return Session{}, false
	}
	return s.Session(id)
}

// Send pushes m to the sessions it names, one PushNotification each, and
// returns the proxy's verdicts. A session answered REMOVE is deleted, as
// Mattermost does. The error is for m itself (no such session, bad type);
// per-session failures are in the results.
func (s *Server) Send(ctx context.Context, m Message) ([]SendResult, error) {
	if m.Type == "" {
		m.Type = PushMessage
	}
	switch m.Type {
	case PushMessage, PushClear, PushUpdateBadge, PushTest, PushSession:
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadRequest, m.Type)
	}
	if m.Type == PushMessage && m.PostID == "" {
		m.PostID = s.newID()
	}
	if m.Type == PushMessage && m.ChannelID == "" {
		m.ChannelID = s.newID()
	}
	s.mu.Lock()
	var targets []*Session
	switch {
	case m.SessionID != "":
		if x, ok := s.sessions[m.SessionID]; ok {
			targets = append(targets, x)
		}
	case m.Device != "":
		for _, x := range s.sessions {
			if x.DeviceName == m.Device {
				targets = append(targets, x)
			}
		}
	case m.UserID != "":
		for _, x := range s.sessions {
			if x.UserID == m.UserID {
				targets = append(targets, x)
			}
		}
	default:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: name a user_id, a device or a session_id", ErrBadRequest)
	}
	if len(targets) == 0 {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: user %q device %q session %q", ErrNoSession, m.UserID, m.Device, m.SessionID)
	}
	slices.SortFunc(targets, func(a, b *Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	user := targets[0].UserID
	badge := s.badges[user]
	switch {
	case m.Badge != nil:
		badge = *m.Badge
	case m.Type == PushMessage:
		badge++
	case m.Type == PushClear:
		badge = 0
	}
	if m.SessionID == "" && m.Device == "" {
		s.badges[user] = badge
	}
	contents := s.contents
	s.mu.Unlock()

	results := make([]SendResult, 0, len(targets))
	for _, sess := range targets {
		results = append(results, s.sendOne(ctx, sess, m, badge, contents))
	}
	return results, nil
}

// build makes the PushNotification for one session and the contents the
// server may reveal later (id-loaded).
func (s *Server) build(sess *Session, m Message, badge int, contents Contents) (PushNotification, *sentPush, error) {
	// Mattermost splits the session's device id at ":", so the platform
	// keeps the app-version suffix ("apple_rn-v2") for the proxy to read.
	platform := sess.Platform
	if sess.Version != "" {
		platform += "-" + sess.Version
	}
	pn := PushNotification{PushNotification: proxy.PushNotification{
		AckID: s.newID(), Platform: platform, ServerID: s.cfg.ID, DeviceID: sess.Token,
		PostID: m.PostID, Type: m.Type, TeamID: m.TeamID, ChannelID: m.ChannelID, RootID: m.RootID,
		SenderID: m.SenderID, Version: proxy.MessageV2, Badge: badge,
	}}
	full := pushcrypto.Contents{Message: m.Message, ChannelName: m.ChannelName, SenderName: m.SenderName,
		RootID: m.RootID, PostID: m.PostID}
	rec := &sentPush{session: sess.ID, typ: m.Type, postID: m.PostID, contents: full, channel: m.ChannelID}
	var secret pushcrypto.Contents
	switch m.Type {
	case PushMessage:
		pn.Category = "CAN_REPLY"
		pn.ContentAvailable = 1
		switch contents {
		case ContentsFull:
			secret = full
			pn.Message = m.Message
		case ContentsGeneric:
			secret = pushcrypto.Contents{ChannelName: m.ChannelName, SenderName: m.SenderName}
			pn.Message = GenericMessage
		case ContentsGenericNoChannel:
			secret = pushcrypto.Contents{SenderName: m.SenderName}
			pn.Message = GenericMessage
		case ContentsIDLoaded:
			pn.Message = IDLoadedMessage
			pn.IsIDLoaded = true
			pn.Category = ""
		}
	case PushTest:
		pn.Message = TestMessage
		pn.ContentAvailable = 1
	case PushClear:
		pn.ContentAvailable = 1
	}
	if pn.Type != PushMessage && pn.Type != PushTest {
		pn.PostID = ""
	}
	if secret != (pushcrypto.Contents{}) {
		if s.cfg.Profile.Encrypts() && sess.key != nil {
			env, err := s.seal(*sess.key, secret)
			if err != nil {
				return pn, nil, err
			}
			if s.cfg.EnvelopeField == EnvelopeInField {
				pn.Encrypted, pn.Message = env, GenericMessage
			} else {
				pn.Message = env
			}
		} else {
			pn.ChannelName, pn.SenderName = secret.ChannelName, secret.SenderName
			rec.plain = true
		}
	}
	sig, err := s.signer.Sign(pn.AckID, sess.Token, s.cfg.Now())
	if err != nil {
		return pn, nil, err
	}
	pn.Signature = sig
	return pn, rec, nil
}

// seal encrypts contents for a device. When the envelope travels in message,
// a proxy cuts anything past proxy.MaxMessage bytes — which would leave the
// phone a ciphertext it cannot open — so an over-long message is shortened
// (as Mattermost shortens push text) until the envelope fits.
func (s *Server) seal(to pushcrypto.Recipient, c pushcrypto.Contents) (string, error) {
	for {
		env, err := pushcrypto.SealContents(to, c, s.cfg.Rand)
		if err != nil || s.cfg.EnvelopeField == EnvelopeInField || len(env) <= proxy.MaxMessage {
			return env, err
		}
		// base64 grows 4/3; cut the excess in plaintext bytes plus a margin
		// for padding, on a rune boundary.
		cut := len(c.Message) - (len(env)-proxy.MaxMessage)*3/4 - 32
		if cut <= 0 {
			return "", fmt.Errorf("%w: sealed contents do not fit a push even without the message", ErrBadRequest)
		}
		for cut > 0 && !utf8.RuneStart(c.Message[cut]) {
			cut--
		}
		c.Message = c.Message[:cut] + "…"
	}
}

func (s *Server) sendOne(ctx context.Context, sess *Session, m Message, badge int, contents Contents) SendResult {
	res := SendResult{SessionID: sess.ID, UserID: sess.UserID, DeviceName: sess.DeviceName, Platform: sess.Platform, PostID: m.PostID}
	pn, rec, err := s.build(sess, m, badge, contents)
	res.AckID = pn.AckID
	// Plaintext: contents travelled in clear (tpns, or a device that
	// registered no key); a clear or badge push carries no contents.
	plain := rec != nil && rec.plain
	attrs := map[string]string{"platform": sess.Platform, "token": sess.TokenShown, "session": sess.ID,
		"device": sess.DeviceName, "type": m.Type, "contents": string(contents), "profile": string(s.cfg.Profile)}
	if err != nil {
		res.Status, res.Error = StatusFail, err.Error()
		s.publish(events.Event{TraceID: pn.AckID, Hop: events.ServerSent, Status: StatusFail, Detail: "could not build the push: " + err.Error(), Plaintext: plain, Attrs: attrs})
		return res
	}
	s.remember(pn.AckID, rec)
	body, _ := json.Marshal(pn)
	detail := fmt.Sprintf("%s to %s (%s, %s contents", m.Type, sess.DeviceName, sess.Platform, contents)
	switch {
	case pn.Encrypted != "" || isEnvelope(pn.Message):
		detail += ", sealed to " + sess.KeyID + ")"
	case plain:
		detail += ", PLAINTEXT)"
	default:
		detail += ")"
	}
	// server.sent before the post, so a live timeline shows the server first;
	// the verdict follows as server.answered, which keeps the timeline whole
	// even when the proxy under test emits nothing itself.
	s.publish(events.Event{TraceID: pn.AckID, Hop: events.ServerSent, Detail: detail,
		Payload: events.Excerpt(body), Plaintext: plain, Attrs: attrs})
	status, perr := s.post(ctx, "/api/v1/send_push", body)
	res.Status, res.Error = status.Status, status.Error
	if perr != nil {
		res.Status, res.Error = StatusFail, perr.Error()
	}
	answer := "proxy answered " + res.Status
	if res.Error != "" {
		answer += ": " + res.Error
	}
	s.publish(events.Event{TraceID: pn.AckID, Hop: events.ServerAnswered, Status: res.Status, Detail: answer,
		Plaintext: plain, Attrs: attrs})
	s.log.Debug("push sent", "ack_id", pn.AckID, "status", res.Status, "device", sess.DeviceName)
	if res.Status == StatusRemove {
		res.Removed = s.RemoveSession(sess.ID)
		s.publish(events.Event{TraceID: pn.AckID, Hop: events.ServerRemoved, Status: StatusRemove,
			Detail:    fmt.Sprintf("proxy answered REMOVE: session %s of %s (%s) deleted", sess.ID, sess.UserID, sess.DeviceName),
			Plaintext: plain, Attrs: attrs})
		s.log.Info("device session removed after REMOVE", "session", sess.ID, "device", sess.DeviceName, "token", sess.TokenShown)
	}
	return res
}

// post sends body to the proxy and reads its verdict. A non-200 answer (429
// from the throttle) or an unreadable body is a FAIL with the reason.
func (s *Server) post(ctx context.Context, path string, body []byte) (proxy.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.ProxyURL+path, bytes.NewReader(body))
	if err != nil {
		return proxy.Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.proxy.Do(req)
	if err != nil {
		return proxy.Response{}, fmt.Errorf("proxy %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var a proxy.Response
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("proxy %s: HTTP %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, &a); err != nil || a.Status == "" {
		return a, fmt.Errorf("proxy %s: unreadable answer %q", path, events.Excerpt(b))
	}
	return a, nil
}

func (s *Server) remember(ackID string, rec *sentPush) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[ackID] = rec
	s.sentFIFO = append(s.sentFIFO, ackID)
	if over := len(s.sentFIFO) - s.cfg.Remember; over > 0 {
		for _, id := range s.sentFIFO[:over] {
			delete(s.sent, id)
		}
		s.sentFIFO = append(s.sentFIFO[:0], s.sentFIFO[over:]...)
	}
}

func (s *Server) publish(e events.Event) {
	e.Actor = "server"
	s.bus.Publish(e)
}

// AckResponse answers a device's ack: the proxy's verdict on the forwarded
// ack, and for an id-loaded ack the message.
type AckResponse struct {
	Status      string `json:"status"`
	ProxyStatus string `json:"proxy_status,omitempty"`
	ProxyError  string `json:"proxy_error,omitempty"`
	// Id-loaded: the contents the notification did not carry.
	Message     string `json:"message,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
	SenderName  string `json:"sender_name,omitempty"`
	ChannelID   string `json:"channel_id,omitempty"`
	RootID      string `json:"root_id,omitempty"`
	PostID      string `json:"post_id,omitempty"`
}

// HandleAck records a device's ack, forwards it to the proxy's /api/v1/ack
// and, for an id-loaded ack, returns the message. sessionToken is the bearer
// token the session was given; only the session a push went to may ack it.
func (s *Server) HandleAck(ctx context.Context, sessionToken string, a Ack) (AckResponse, error) {
	if a.ID == "" || a.Platform == "" || a.Type == "" {
		return AckResponse{}, fmt.Errorf("%w: ack needs id, platform and type", ErrBadRequest)
	}
	s.mu.Lock()
	rec, ok := s.sent[a.ID]
	var sess *Session
	if ok {
		sess = s.sessions[rec.session]
	}
	s.mu.Unlock()
	if !ok {
		return AckResponse{}, fmt.Errorf("%w: %q", ErrUnknownAck, a.ID)
	}
	if sess == nil || sess.secret != sessionToken {
		return AckResponse{}, fmt.Errorf("%w: ack %q is not for this session", ErrNoSession, a.ID)
	}
	body, _ := json.Marshal(a)
	ans, err := s.post(ctx, "/api/v1/ack", body)
	out := AckResponse{Status: StatusOK, ProxyStatus: ans.Status, ProxyError: ans.Error}
	if err != nil {
		out.ProxyStatus, out.ProxyError = StatusFail, err.Error()
		s.log.Warn("ack not forwarded to the proxy", "ack_id", a.ID, "err", err)
	}
	if a.IsIDLoaded {
		c := rec.contents
		out.Message, out.ChannelName, out.SenderName = c.Message, c.ChannelName, c.SenderName
		out.ChannelID, out.RootID, out.PostID = rec.channel, c.RootID, c.PostID
	}
	return out, nil
}

// Handler serves the device-facing Mattermost endpoints and pushlab's
// control endpoints:
//
//	GET    /api/v4/system/ping
//	PUT    /api/v4/users/sessions/device   SessionRequest → SessionResponse
//	DELETE /api/v4/users/sessions/device   (Authorization: Bearer <token>) logout
//	POST   /api/v4/notifications/ack       Ack (Authorization: Bearer <token>) → AckResponse
//	GET    /healthz
//	GET    /events                          the server's event stream (websocket)
//	GET    /control/sessions                device sessions
//	DELETE /control/sessions/{id}
//	GET    /control/contents                {"contents":…,"profile":…}
//	PUT    /control/contents                {"contents":…}
//	POST   /control/send                    Message → []SendResult
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, 200, map[string]string{"status": "OK", "server_id": s.cfg.ID})
	})
	mux.Handle("GET /events", events.Handler(s.bus))
	mux.HandleFunc("PUT /api/v4/users/sessions/device", func(w http.ResponseWriter, r *http.Request) {
		var req SessionRequest
		if !api.Read(w, r, &req) {
			return
		}
		resp, err := s.AttachDevice(req)
		if err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		httpjson.Write(w, 200, resp)
	})
	mux.HandleFunc("DELETE /api/v4/users/sessions/device", func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		s.mu.Lock()
		var id string
		for _, x := range s.sessions {
			if tok != "" && x.secret == tok {
				id = x.ID
			}
		}
		s.mu.Unlock()
		if id == "" || !s.RemoveSession(id) {
			api.Error(w, http.StatusUnauthorized, ErrNoSession)
			return
		}
		httpjson.Write(w, 200, map[string]string{"status": "OK"})
	})
	mux.HandleFunc("POST /api/v4/notifications/ack", func(w http.ResponseWriter, r *http.Request) {
		var a Ack
		if !api.Read(w, r, &a) {
			return
		}
		resp, err := s.HandleAck(r.Context(), bearer(r), a)
		switch {
		case errors.Is(err, ErrBadRequest):
			api.Error(w, http.StatusBadRequest, err)
		case errors.Is(err, ErrUnknownAck):
			api.Error(w, http.StatusNotFound, err)
		case err != nil:
			api.Error(w, http.StatusForbidden, err)
		default:
			httpjson.Write(w, 200, resp)
		}
	})
	mux.HandleFunc("GET /control/sessions", func(w http.ResponseWriter, _ *http.Request) { httpjson.Write(w, 200, s.Sessions()) })
	mux.HandleFunc("DELETE /control/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveSession(r.PathValue("id")) {
			api.Error(w, http.StatusNotFound, ErrNoSession)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /control/contents", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, 200, map[string]string{"contents": string(s.Contents()), "profile": string(s.cfg.Profile)})
	})
	mux.HandleFunc("PUT /control/contents", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Contents string `json:"contents"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		if err := s.SetContents(Contents(req.Contents)); err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		httpjson.Write(w, 200, map[string]string{"contents": string(s.Contents())})
	})
	mux.HandleFunc("POST /control/send", func(w http.ResponseWriter, r *http.Request) {
		var m Message
		if !api.Read(w, r, &m) {
			return
		}
		res, err := s.Send(r.Context(), m)
		switch {
		case errors.Is(err, ErrNoSession):
			api.Error(w, http.StatusNotFound, err)
		case err != nil:
			api.Error(w, http.StatusBadRequest, err)
		default:
			httpjson.Write(w, 200, res)
		}
	})
	return mux
}

// Start serves on a loopback port in the background (TLS if configured)
// and sets URL, like httptest.Server. Close stops it.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	s.URL = scheme + "://" + ln.Addr().String()
	s.servers.Go(func() error { return s.Serve(context.Background(), ln) })
	return nil
}

// Serve serves Handler on ln until ctx ends or Close (TLS with HTTP/2 if cfg.TLS is set).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	if s.cfg.TLS != nil {
		srv.TLSConfig = s.cfg.TLS.Clone()
	}
	return s.servers.Serve(ctx, srv, ln)
}

// Close stops the servers started by Start or Serve.
func (s *Server) Close() error { return s.servers.Close() }

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return t
	}
	return ""
}

// api is the JSON of the server's and the fleet's APIs: error bodies carry
// the status, and a body that does not decode is an ErrBadRequest.
var api = httpjson.API{
	BadJSON:    func(err error) error { return fmt.Errorf("%w: bad JSON: %v", ErrBadRequest, err) },
	StatusCode: true,
}

// ProxyClient is the HTTP client the server reaches the proxy with.
func (s *Server) ProxyClient() *http.Client { return s.proxy }
