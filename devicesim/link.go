package devicesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ServerLink is how an app talks to its Mattermost server: attach its
// device to the user's session, and ack pushes.
type ServerLink interface {
	AttachDevice(ctx context.Context, req SessionRequest) (SessionResponse, error)
	Ack(ctx context.Context, sessionToken string, a Ack) (AckResponse, error)
}

// LocalServer links devices to a server in this process by direct calls
// (the acks it forwards still go to the proxy over HTTPS).
func LocalServer(s *Server) ServerLink { return localLink{s} }

type localLink struct{ s *Server }

func (l localLink) AttachDevice(_ context.Context, req SessionRequest) (SessionResponse, error) {
	return l.s.AttachDevice(req)
}

func (l localLink) Ack(ctx context.Context, tok string, a Ack) (AckResponse, error) {
	return l.s.HandleAck(ctx, tok, a)
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
	err := l.do(ctx, http.MethodPut, "/api/v4/users/sessions/device", "", req, &out)
	return out, err
}

func (l remoteLink) Ack(ctx context.Context, tok string, a Ack) (AckResponse, error) {
	var out AckResponse
	err := l.do(ctx, http.MethodPost, "/api/v4/notifications/ack", tok, a, &out)
	return out, err
}

func (l remoteLink) do(ctx context.Context, method, path, tok string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, l.url+path, bytes.NewReader(body))
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
