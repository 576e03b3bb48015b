package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kyokomi/emoji"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"

	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/testpki"
)

// apnsSender sends one Apple app type through one apns2 client. Keep it for
// the proxy's lifetime: APNs treats rapid connection and disconnection as a
// denial-of-service attack, and a token-auth client reuses its JWT for 50
// minutes where a new client would sign a new one (TooManyProviderTokenUpdates).
type apnsSender struct {
	settings     ApplePushSettings
	client       *apns2.Client
	upstreamText bool          // Config.UpstreamErrorText
	timeout      time.Duration // apns2's per-request bound (its http.Client.Timeout)
}

// newAPNsSender builds the client upstream builds for these settings: token
// auth when the key file, key id and team id are all set, else certificate
// auth; development or production; then pushlab's host override and CA.
func newAPNsSender(s ApplePushSettings, cfg *runConfig, m *metrics, log *slog.Logger) (*apnsSender, error) {
	var client *apns2.Client
	switch {
	case s.AppleAuthKeyFile != "" && s.AppleAuthKeyID != "" && s.AppleTeamID != "":
		key, err := token.AuthKeyFromFile(s.AppleAuthKeyFile)
		if err != nil {
			return nil, fmt.Errorf("failed to initialize apple notification service with AuthKey file %s: %w", s.AppleAuthKeyFile, err)
		}
		client = apns2.NewTokenClient(&token.Token{AuthKey: key, KeyID: s.AppleAuthKeyID, TeamID: s.AppleTeamID})
		log.Info("apns: token auth", "type", s.Type, "key_id", s.AppleAuthKeyID, "team_id", s.AppleTeamID,
			"key", testpki.Fingerprint(key.Public()))
	case s.ApplePushCertPrivate != "":
		cert, err := loadAPNsCert(s.ApplePushCertPrivate, s.ApplePushCertPassword)
		if err != nil {
			return nil, fmt.Errorf("failed to initialize apple notification service with pem cert for type=%v: %w", s.Type, err)
		}
		client = apns2.NewClient(cert)
		attrs := []any{"type", s.Type, "file", filepath.Base(s.ApplePushCertPrivate)}
		if cert.Leaf != nil {
			attrs = append(attrs, "subject", cert.Leaf.Subject.CommonName, "key", testpki.Fingerprint(cert.Leaf.PublicKey))
		}
		log.Info("apns: certificate auth", attrs...)
	default:
		return nil, fmt.Errorf("apple push notifications not configured: missing ApplePushCertPrivate for type=%v", s.Type)
	}
	if s.ApplePushUseDevelopment {
		client.Development()
	} else {
		client.Production()
	}
	switch {
	case s.ApplePushUseDevelopment && cfg.APNsDevelopmentHost != "":
		client.Host = strings.TrimRight(cfg.APNsDevelopmentHost, "/")
	case cfg.APNsHost != "":
		client.Host = strings.TrimRight(cfg.APNsHost, "/")
	}
	pool, err := cfg.rootCAs()
	if err != nil {
		return nil, err
	}
	t, ok := client.HTTPClient.Transport.(*http2.Transport)
	if !ok {
		return nil, fmt.Errorf("apns2 transport is %T, want *http2.Transport", client.HTTPClient.Transport)
	}
	if pool != nil {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.RootCAs = pool
	}
	if dial := cfg.DialContext; dial != nil {
		t.DialTLS = nil
		t.DialTLSContext = func(ctx context.Context, network, addr string, tc *tls.Config) (net.Conn, error) {
			raw, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn := tls.Client(raw, tc)
			if err := conn.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return conn, nil
		}
	}
	client.HTTPClient.Transport = &observer{base: t, provider: APNs, m: m}
	// apns2's client bounds each request by http.Client.Timeout (60 s).
	// With a RoundTripper net/http does not know (the observer), it
	// enforces that bound with a timer, two channels and a goroutine per
	// request, even when the request's context ends sooner; with the
	// x/net transport it would use the context. The same bound is kept as
	// a context deadline instead (see send), which the try's context
	// (SendTimeoutSec) usually makes needless.
	timeout := client.HTTPClient.Timeout
	client.HTTPClient.Timeout = 0
	return &apnsSender{settings: s, client: client, upstreamText: cfg.UpstreamErrorText, timeout: timeout}, nil
}

// loadAPNsCert reads an APNs client certificate: a PKCS#12 file (as Keychain
// exports it) or PEM certificate and key (what upstream reads).
func loadAPNsCert(path, password string) (tls.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, err
	}
	if bytes.Contains(b, []byte("-----BEGIN")) {
		return certificate.FromPemBytes(b, password)
	}
	return certificate.FromP12Bytes(b, password)
}

func (a *apnsSender) provider() Provider { return APNs }

func (a *apnsSender) close() { a.client.CloseIdleConnections() }

// build makes the notification once; each try sends the same bytes.
func (a *apnsSender) build(n *mmpush.PushNotification, appVersion int, collapse bool) delivery {
	var notif *apns2.Notification
	if n.Transport == mmpush.TransportVoIP {
		notif = buildVoIP(n, a.settings.ApplePushTopic)
	} else {
		notif = buildAPNs(n, appVersion, a.settings.ApplePushTopic)
	}
	if collapse && notif.CollapseID == "" { // an explicit collapse id wins
		notif.CollapseID = CollapseID(n.AckID)
	}
	body, _ := notif.Payload.(*apnsPayload).MarshalJSON() // a payload of strings, numbers and bools cannot fail
	notif.Payload = body
	return delivery{
		provider:   APNs,
		payload:    body,
		collapseID: notif.CollapseID,
		send:       func(ctx context.Context) outcome { return a.send(ctx, notif) },
	}
}

func (a *apnsSender) send(ctx context.Context, notif *apns2.Notification) outcome {
	if dl, ok := ctx.Deadline(); a.timeout > 0 && (!ok || time.Until(dl) > a.timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	res, err := a.client.PushWithContext(ctx, notif)
	if err != nil {
		return outcome{Kind: kindTransport, Message: err.Error()}
	}
	return outcome{Kind: kindAnswer, Status: res.StatusCode, Reason: res.Reason, ID: res.ApnsID}
}

// failText is the FAIL error the server is answered (see the package func).
func (a *apnsSender) failText(o outcome) string { return failText(APNs, o, a.upstreamText) }

// buildAPNs lays out an alert push as upstream's AppleNotificationServer does,
// key for key: the aps dictionary through apns2's payload builder, the top-level
// keys beside it (apnsPayload marshals them as payload.Payload would).
func buildAPNs(n *mmpush.PushNotification, appVersion int, topic string) *apns2.Notification {
	p := newAPNsPayload()
	data := &p.aps
	if n.Badge == 0 && n.Type == mmpush.TypeClear && appVersion > 1 {
		data.Badge(1)
	} else if n.Badge != -1 {
		data.Badge(n.Badge)
	}

	if n.IsIDLoaded {
		data.Category(n.Category)
		data.Sound("default")
		p.Custom("version", n.Version)
		p.Custom("id_loaded", true)
		data.MutableContent()
		data.AlertBody(n.Message)
		data.ContentAvailable()
	} else {
		switch n.Type {
		case mmpush.TypeMessage, mmpush.TypeSession:
			data.Category(n.Category)
			data.Sound("default")
			p.Custom("version", n.Version)
			data.MutableContent()
			if n.Type == mmpush.TypeMessage {
				data.ContentAvailable()
			}
			if n.ChannelName != "" && n.Version == mmpush.MessageV2 {
				data.AlertTitle(n.ChannelName)
				data.AlertBody(emoji.Sprint(n.Message))
				p.Custom("channel_name", n.ChannelName)
			} else {
				data.Alert(emoji.Sprint(n.Message))
				if n.ChannelName != "" {
					p.Custom("channel_name", n.ChannelName)
				}
			}
		case mmpush.TypeClear, mmpush.TypeTest:
			data.ContentAvailable()
		case mmpush.TypeUpdateBadge:
			// The apps handle it; nothing else to add.
		}
	}

	p.Custom("type", n.Type)
	p.Custom("sub_type", n.SubType)
	p.Custom("server_id", n.ServerID)
	if n.AckID != "" {
		p.Custom("ack_id", n.AckID)
	}
	p.Custom("is_crt_enabled", n.IsCRTEnabled)
	if n.ChannelID != "" {
		p.Custom("channel_id", n.ChannelID)
		if n.IsCRTEnabled && n.RootID != "" {
			data.ThreadID(n.RootID)
		} else {
			data.ThreadID(n.ChannelID)
		}
	}
	p.Custom("signature", signature(n))
	for _, kv := range [...]struct{ k, v string }{
		{"team_id", n.TeamID},
		{"sender_id", n.SenderID},
		{"sender_name", n.SenderName},
		{"post_id", n.PostID},
		{"root_id", n.RootID},
		{"override_username", n.OverrideUsername},
		{"override_icon_url", n.OverrideIconURL},
		{"from_webhook", n.FromWebhook},
	} {
		if kv.v != "" {
			p.Custom(kv.k, kv.v)
		}
	}
	return &apns2.Notification{
		DeviceToken: n.DeviceID,
		Topic:       topic,
		Priority:    apns2.PriorityHigh,
		Payload:     p,
	}
}

// buildVoIP lays out a PushKit call push as upstream does: a flat payload
// of routing fields (id_loaded, not is_id_loaded; thread_id is the root id;
// names only when the server sent them), to the topic's ".voip" variant,
// push type voip, priority 10.
func buildVoIP(n *mmpush.PushNotification, topic string) *apns2.Notification {
	p := newAPNsPayload()
	p.aps.ContentAvailable()
	p.Custom("type", n.Type).
		Custom("sub_type", n.SubType).
		Custom("channel_id", n.ChannelID).
		Custom("server_id", n.ServerID).
		Custom("post_id", n.PostID).
		Custom("thread_id", n.RootID).
		Custom("sender_id", n.SenderID).
		Custom("id_loaded", n.IsIDLoaded)
	if n.SenderName != "" {
		p.Custom("sender_name", n.SenderName)
	}
	if n.ChannelName != "" {
		p.Custom("channel_name", n.ChannelName)
	}
	if n.AckID != "" {
		p.Custom("ack_id", n.AckID)
	}
	// A call's end reason (e.g. "answered_elsewhere" on a clear), which the
	// app hands to CallKit.
	if n.Category != "" {
		p.Custom("category", n.Category)
	}
	p.Custom("signature", signature(n))
	return &apns2.Notification{
		DeviceToken: n.DeviceID,
		Topic:       topic + ".voip",
		Priority:    apns2.PriorityHigh,
		PushType:    apns2.PushTypeVOIP,
		Payload:     p,
	}
}

func signature(n *mmpush.PushNotification) string {
	if n.Signature == "" {
		return mmpush.NoSignature
	}
	return n.Signature
}
