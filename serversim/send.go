package serversim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/growstack"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
)

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
	// Transport "voip" sends a call push over PushKit (iOS sessions only),
	// with SubType "calls" as the Calls plugin does.
	Transport string `json:"transport,omitempty"`
	SubType   string `json:"sub_type,omitempty"`
	// Signature "none" sends the push unsigned, as servers older than the
	// signing releases do (whatever Version claims); "" signs as Version says.
	Signature string `json:"signature,omitempty"`
}

// SignatureNone in Message.Signature sends a push without a signature.
const SignatureNone = "none"

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

// Send pushes m to the sessions it names, one PushNotification each, and
// returns the proxy's verdicts. A session answered REMOVE is deleted, as
// Mattermost does. The error is for m itself (no such session, bad type);
// per-session failures are in the results.
func (s *Server) Send(ctx context.Context, m Message) ([]SendResult, error) {
	if m.Type == "" {
		m.Type = mmpush.TypeMessage
	}
	switch m.Type {
	case mmpush.TypeMessage, mmpush.TypeClear, mmpush.TypeUpdateBadge, mmpush.TypeTest, mmpush.TypeSession:
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadRequest, m.Type)
	}
	switch {
	case m.Transport != mmpush.TransportStandard && m.Transport != mmpush.TransportVoIP:
		return nil, fmt.Errorf("%w: unknown transport %q", ErrBadRequest, m.Transport)
	case m.Signature != "" && m.Signature != SignatureNone:
		return nil, fmt.Errorf("%w: signature %q (want %q or nothing)", ErrBadRequest, m.Signature, SignatureNone)
	}
	if m.Type == mmpush.TypeMessage && m.PostID == "" {
		m.PostID = s.newID()
	}
	if m.Type == mmpush.TypeMessage && m.ChannelID == "" {
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
		for _, x := range s.byUser[m.UserID] {
			targets = append(targets, x)
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
	case m.Type == mmpush.TypeMessage:
		badge++
	case m.Type == mmpush.TypeClear:
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
	if m.Transport == mmpush.TransportVoIP {
		if !strings.HasPrefix(platform, mmpush.PlatformApple) {
			return PushNotification{}, nil, fmt.Errorf("%w: a VoIP push needs an iOS session, %s is %s", ErrBadRequest, sess.ID, sess.Platform)
		}
		// The VoIP token's platform, as Mattermost registers it ("apple_voip_rn").
		if rest, ok := strings.CutPrefix(platform, mmpush.PlatformApple+"_"); ok {
			platform = mmpush.PlatformApple + "_voip_" + rest
		}
	}
	if sess.Version != "" {
		platform += "-" + sess.Version
	}
	pn := PushNotification{PushNotification: mmpush.PushNotification{
		AckID: s.newID(), Platform: platform, ServerID: s.cfg.ID, DeviceID: sess.Token,
		PostID: m.PostID, Type: m.Type, TeamID: m.TeamID, ChannelID: m.ChannelID, RootID: m.RootID,
		SenderID: m.SenderID, Version: mmpush.MessageV2, Badge: badge,
		Transport: m.Transport, SubType: m.SubType,
	}}
	full := pushcrypto.Contents{Message: m.Message, ChannelName: m.ChannelName, SenderName: m.SenderName,
		RootID: m.RootID, PostID: m.PostID}
	rec := &sentPush{session: sess.ID, typ: m.Type, postID: m.PostID, contents: full, channel: m.ChannelID}
	var secret pushcrypto.Contents
	switch m.Type {
	case mmpush.TypeMessage:
		pn.Category = "CAN_REPLY"
		pn.ContentAvailable = 1
		switch contents {
		case ContentsFull:
			secret = full
			pn.Message = m.Message
			if s.cfg.Profile == ProfileMattermost && m.SenderName != "" {
				pn.Message = m.SenderName + ": " + m.Message // Mattermost's layout of a channel post
			}
		case ContentsGeneric:
			secret = pushcrypto.Contents{ChannelName: m.ChannelName, SenderName: m.SenderName}
			pn.Message = devicesim.GenericMessage
		case ContentsGenericNoChannel:
			secret = pushcrypto.Contents{SenderName: m.SenderName}
			pn.Message = devicesim.GenericMessage
		case ContentsIDLoaded:
			pn.Message = devicesim.IDLoadedMessage
			pn.IsIDLoaded = true
			pn.Category = ""
		}
	case mmpush.TypeTest:
		pn.Message = devicesim.TestMessage
		pn.ContentAvailable = 1
	case mmpush.TypeClear:
		pn.ContentAvailable = 1
	}
	if pn.Type != mmpush.TypeMessage && pn.Type != mmpush.TypeTest {
		pn.PostID = ""
	}
	if secret != (pushcrypto.Contents{}) {
		if s.cfg.Profile.Encrypts() && sess.key != nil {
			env, err := s.seal(*sess.key, secret)
			if err != nil {
				return pn, nil, err
			}
			if s.cfg.EnvelopeField == EnvelopeInField {
				pn.Encrypted, pn.Message = env, devicesim.GenericMessage
			} else {
				pn.Message = env
			}
			rec.sealed = true
		} else {
			pn.ChannelName, pn.SenderName = secret.ChannelName, secret.SenderName
			rec.plain = true
		}
	}
	if signs, _ := mmpush.ServerSigns(s.cfg.Version); !signs || m.Signature == SignatureNone {
		return pn, rec, nil // the proxy writes NO_SIGNATURE
	}
	sig, err := s.signer.Sign(pn.AckID, sess.Token, s.cfg.Now())
	if err != nil {
		return pn, nil, err
	}
	pn.Signature = sig
	return pn, rec, nil
}

// seal encrypts contents for a device. When the envelope travels in message,
// a proxy cuts anything past mmpush.MaxMessage bytes — which would leave the
// phone a ciphertext it cannot open — so an over-long message is shortened
// (as Mattermost shortens push text) until the envelope fits.
func (s *Server) seal(to pushcrypto.Recipient, c pushcrypto.Contents) (string, error) {
	for {
		env, err := pushcrypto.SealContents(to, c, s.cfg.Rand)
		if err != nil || s.cfg.EnvelopeField == EnvelopeInField || len(env) <= mmpush.MaxMessage {
			return env, err
		}
		// base64 grows 4/3; cut the excess in plaintext bytes plus a margin
		// for padding, on a rune boundary.
		cut := len(c.Message) - (len(env)-mmpush.MaxMessage)*3/4 - 32
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
	detail := m.Type + " to " + sess.DeviceName + " (" + sess.Platform + ", " + string(contents) + " contents"
	switch {
	case rec.sealed:
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
	status, perr := s.post(ctx, mmpush.PathSendPush, body)
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
	if s.log.Enabled(ctx, slog.LevelDebug) { // its arguments would be boxed for nothing
		s.log.Debug("push sent", "ack_id", pn.AckID, "status", res.Status, "device", sess.DeviceName)
	}
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
func (s *Server) post(ctx context.Context, path string, body []byte) (mmpush.Response, error) {
	req, err := growstack.NewRequest(ctx, http.MethodPost, s.cfg.ProxyURL+path, body)
	if err != nil {
		return mmpush.Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.proxy.Do(req)
	if err != nil {
		return mmpush.Response{}, fmt.Errorf("proxy %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var a mmpush.Response
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
	// A ring of the last Remember ack ids: the oldest is overwritten (and
	// forgotten) in place, so a send never copies the whole window.
	if len(s.sentRing) < s.cfg.Remember {
		s.sentRing = append(s.sentRing, ackID)
		return
	}
	delete(s.sent, s.sentRing[s.sentNext])
	s.sentRing[s.sentNext] = ackID
	s.sentNext = (s.sentNext + 1) % len(s.sentRing)
}

func (s *Server) publish(e events.Event) {
	e.Actor = "server"
	s.bus.Publish(e)
}
