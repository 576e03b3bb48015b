package serversim

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
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

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/internal/httpserve"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
)

// Config configures a server simulator.
type Config struct {
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
	// Profile: hpns and eas seal contents to the device key; tpns and
	// mattermost (a real Mattermost server's behaviour) send them
	// in clear and say so on every event.
	Profile Profile
	// EnvelopeField is where sealed contents travel: EnvelopeInMessage
	// (default), which every Mattermost-compatible proxy carries, or
	// EnvelopeInField (PushNotification.encrypted), for a proxy that passes
	// that field through.
	EnvelopeField string
	// Version is the Mattermost release the server claims (default
	// DefaultVersion). A version older than every one of
	// mmpush.SigningVersions does not sign its pushes, as the real releases
	// did not; the apps learn the version and judge NO_SIGNATURE by it.
	Version string
	// ControlToken, if set, is required by /control/… and /events
	// (Authorization: Bearer); the device-facing Mattermost endpoints stay
	// open, as on a real server.
	ControlToken string
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
	cfg    Config
	signer *pushcrypto.Signer
	log    *slog.Logger
	proxy  *http.Client
	bus    *events.Bus

	mu       sync.Mutex
	contents Contents
	sessions map[string]*Session            // by id
	byToken  map[string]string              // device token → session id
	byUser   map[string]map[string]*Session // user → session id → session: sending to a user is O(their sessions)
	badges   map[string]int                 // user → badge count
	sent     map[string]*sentPush
	sentRing []string // ack ids, a ring of Remember; sentNext is the oldest once full
	sentNext int

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
	plain    bool // contents travelled in clear
	sealed   bool // contents travelled sealed to the session's key
}

// DefaultVersion is the release a server simulator claims by default: a
// current one, which signs every push.
const DefaultVersion = "10.11.0"

// Proxy verdicts.
const (
	StatusOK     = mmpush.StatusOK
	StatusRemove = mmpush.StatusRemove // the token is dead: the session is deleted
	StatusFail   = mmpush.StatusFail
)

// Server errors.
var (
	ErrNoSession   = errors.New("serversim: no such device session")
	ErrBadDeviceID = errors.New("serversim: device_id must be <platform>:<token>")
	ErrBadRequest  = errors.New("serversim: bad request")
	ErrUnknownAck  = errors.New("serversim: unknown ack id")
)

// New checks cfg and returns a server with no sessions.
func New(cfg Config) (*Server, error) {
	if cfg.ProxyURL == "" {
		return nil, errors.New("serversim: server needs ProxyURL")
	}
	if cfg.SigningKey == nil || cfg.SigningKeyID == "" {
		return nil, errors.New("serversim: server needs SigningKey and SigningKeyID")
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
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if _, ok := mmpush.ServerSigns(cfg.Version); !ok {
		return nil, fmt.Errorf("serversim: server version %q is not major.minor.patch", cfg.Version)
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
		byUser:   map[string]map[string]*Session{},
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

// newID is a Mattermost-shaped id: 26 lower-case base32 characters, the
// 128 random bits in full.
func (s *Server) newID() string {
	var b [16]byte
	io.ReadFull(s.cfg.Rand, b[:])
	return idEncoding.EncodeToString(b[:])
}

// idEncoding is base32's standard alphabet in lower case, unpadded: a
// server makes three ids a push, each once, not encoded then lowered.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// AttachDevice records a user's device session; a session with the same
// token is replaced (the app re-registered).
func (s *Server) AttachDevice(req devicesim.SessionRequest) (devicesim.SessionResponse, error) {
	platform, token, ok := strings.Cut(req.DeviceID, ":")
	if !ok || platform == "" || token == "" {
		return devicesim.SessionResponse{}, fmt.Errorf("%w: %q", ErrBadDeviceID, events.RedactToken(req.DeviceID))
	}
	if req.UserID == "" {
		return devicesim.SessionResponse{}, fmt.Errorf("%w: user_id is required", ErrBadRequest)
	}
	version := ""
	if p, v, ok := strings.Cut(platform, "-"); ok {
		platform, version = p, v
	}
	switch platform {
	case mmpush.PlatformApple, mmpush.PlatformAppleRN, mmpush.PlatformAndroid, mmpush.PlatformAndroidRN:
	default:
		return devicesim.SessionResponse{}, fmt.Errorf("%w: unknown platform %q", ErrBadDeviceID, platform)
	}
	sess := &Session{
		ID: s.newID(), UserID: req.UserID, DeviceName: req.DeviceName, Platform: platform, Version: version,
		Token: token, TokenShown: events.RedactToken(token), CreatedAt: s.cfg.Now(), secret: s.newID(),
	}
	if k := req.DeviceKey; k != nil {
		sess.key = &pushcrypto.Recipient{KeyID: k.ID, PublicKey: k.PublicKey, AuthSecret: k.AuthSecret}
		sess.KeyID, sess.KeyFP = k.ID, k.Fingerprint()
	}
	s.mu.Lock()
	if old, ok := s.byToken[token]; ok {
		s.forget(old)
	}
	s.sessions[sess.ID] = sess
	s.byToken[token] = sess.ID
	if s.byUser[sess.UserID] == nil {
		s.byUser[sess.UserID] = map[string]*Session{}
	}
	s.byUser[sess.UserID][sess.ID] = sess
	s.mu.Unlock()
	s.log.Info("device session attached", "user", req.UserID, "device", req.DeviceName, "platform", platform,
		"token", sess.TokenShown, "device_key", sess.KeyFP)
	return devicesim.SessionResponse{SessionID: sess.ID, Token: sess.secret, ServerID: s.cfg.ID, SigningKeyID: s.cfg.SigningKeyID,
		ServerVersion: s.cfg.Version}, nil
}

// RemoveSession deletes a session (logout).
func (s *Server) RemoveSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if ok {
		s.forget(id)
		if s.byToken[sess.Token] == id {
			delete(s.byToken, sess.Token)
		}
	}
	return ok
}

// forget drops session id from the session indexes (not byToken); s.mu is held.
func (s *Server) forget(id string) {
	sess, ok := s.sessions[id]
	if !ok {
		return
	}
	delete(s.sessions, id)
	if m := s.byUser[sess.UserID]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(s.byUser, sess.UserID)
		}
	}
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

// api is the JSON of the server's and the fleet's APIs: error bodies carry
// the status, and a body that does not decode is an ErrBadRequest.
var api = httpjson.API{
	BadJSON:    func(err error) error { return fmt.Errorf("%w: bad JSON: %v", ErrBadRequest, err) },
	StatusCode: true,
}

// ProxyClient is the HTTP client the server reaches the proxy with.
func (s *Server) ProxyClient() *http.Client { return s.proxy }
