package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/serversim"
)

// ServerDriver is what a scenario asks of its server simulator, wherever it
// runs: in this process (LocalServerDriver) or behind its control API in a
// container (RemoteServerDriver). What it did is on the event spine.
type ServerDriver interface {
	// ID is the server_id in every push it sends.
	ID() string
	// Send pushes m to the sessions it names and returns the proxy's answers.
	Send(ctx context.Context, m serversim.Message) ([]serversim.SendResult, error)
	// HasSession reports whether the server still holds a device session
	// (a REMOVE answer deletes it).
	HasSession(ctx context.Context, id string) (bool, error)
}

// LocalServerDriver drives a server simulator in this process.
func LocalServerDriver(s *serversim.Server) ServerDriver { return localServer{s} }

type localServer struct{ s *serversim.Server }

func (l localServer) ID() string { return l.s.ID() }

func (l localServer) Send(ctx context.Context, m serversim.Message) ([]serversim.SendResult, error) {
	return l.s.Send(ctx, m)
}

func (l localServer) HasSession(_ context.Context, id string) (bool, error) {
	_, ok := l.s.Session(id)
	return ok, nil
}

// RemoteServerDriver drives a `pushlab server` at base URL over its control
// API; client must trust its certificate and carry its control token.
func RemoteServerDriver(ctx context.Context, base string, client *http.Client) (ServerDriver, error) {
	r := remoteServer{base: strings.TrimRight(base, "/"), client: client}
	var ping struct {
		ServerID string `json:"server_id"`
	}
	if err := httpjson.Call(ctx, client, http.MethodGet, r.base+"/api/v4/system/ping", nil, &ping, http.StatusOK); err != nil {
		return nil, fmt.Errorf("server simulator at %s: %w", base, err)
	}
	r.id = ping.ServerID
	return r, nil
}

type remoteServer struct {
	base, id string
	client   *http.Client
}

func (r remoteServer) ID() string { return r.id }

func (r remoteServer) Send(ctx context.Context, m serversim.Message) ([]serversim.SendResult, error) {
	var out []serversim.SendResult
	if err := httpjson.Call(ctx, r.client, http.MethodPost, r.base+"/control/send", m, &out, http.StatusOK); err != nil {
		return out, fmt.Errorf("server simulator: send: %w", err)
	}
	return out, nil
}

func (r remoteServer) HasSession(ctx context.Context, id string) (bool, error) {
	var sessions []serversim.Session
	if err := httpjson.Call(ctx, r.client, http.MethodGet, r.base+"/control/sessions", nil, &sessions, http.StatusOK); err != nil {
		return false, fmt.Errorf("server simulator: sessions: %w", err)
	}
	for _, s := range sessions {
		if s.ID == id {
			return true, nil
		}
	}
	return false, nil
}
