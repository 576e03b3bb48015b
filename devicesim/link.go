package devicesim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pushlab/pushlab/internal/growstack"
	"github.com/pushlab/pushlab/mmpush"
)

// ServerLink is how an app talks to its Mattermost server: attach its
// device to the user's session, and ack pushes. It is the whole seam
// between the phones and a server: RemoteServer speaks it over HTTP to any
// server with these endpoints, and package serversim's Server.Link by
// direct calls in one process.
type ServerLink interface {
	AttachDevice(ctx context.Context, req SessionRequest) (SessionResponse, error)
	Ack(ctx context.Context, sessionToken string, a Ack) (AckResponse, error)
}

// PathSessionDevice is the server endpoint where an app attaches its device
// to the user's session (PUT, SessionRequest) and logs out (DELETE). Acks go
// to mmpush.PathServerAck.
const PathSessionDevice = "/api/v4/users/sessions/device"

// SessionRequest is the body of PUT /api/v4/users/sessions/device: the app
// attaches its push token and content key to the user's session.
type SessionRequest struct {
	UserID string `json:"user_id"`
	// DeviceID is "<proxy type>:<token>", optionally "<type>-v2:<token>".
	DeviceID   string      `json:"device_id"`
	DeviceName string      `json:"device_name,omitempty"`
	DeviceKey  *ContentKey `json:"device_key,omitempty"`
}

// SessionResponse answers a SessionRequest. Token authenticates the device's
// acks (Authorization: Bearer).
type SessionResponse struct {
	SessionID    string `json:"session_id"`
	Token        string `json:"token"`
	ServerID     string `json:"server_id"`
	SigningKeyID string `json:"signing_key_id"`
	// ServerVersion is the server's release, which the app reads from the
	// server's client config (Version) to judge an unsigned push.
	ServerVersion string `json:"server_version,omitempty"`
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

// RemoteServer links devices to a server at url over HTTP(S); client must
// trust its certificate (nil: http.DefaultClient).
func RemoteServer(url string, client *http.Client) ServerLink {
	if client == nil {
		client = http.DefaultClient
	}
	return remoteLink{url: strings.TrimRight(url, "/"), client: client}
}

type remoteLink struct {
	url    string
	client *http.Client
}

func (l remoteLink) AttachDevice(ctx context.Context, req SessionRequest) (SessionResponse, error) {
	var out SessionResponse
	err := l.do(ctx, http.MethodPut, PathSessionDevice, "", req, &out)
	return out, err
}

func (l remoteLink) Ack(ctx context.Context, tok string, a Ack) (AckResponse, error) {
	var out AckResponse
	err := l.do(ctx, http.MethodPost, mmpush.PathServerAck, tok, a, &out)
	return out, err
}

func (l remoteLink) do(ctx context.Context, method, path, tok string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := growstack.NewRequest(ctx, method, l.url+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("devicesim: server %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("devicesim: server %s: HTTP %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("devicesim: server %s: unreadable answer: %w", path, err)
	}
	return nil
}
