package devicesim

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pushlab/pushlab/mmpush"
)

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
	ans, err := s.post(ctx, mmpush.PathAck, body)
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
