package serversim

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/mmpush"
)

// HandleAck records a device's ack, forwards it to the proxy's /api/v1/ack
// and, for an id-loaded ack, returns the message. sessionToken is the bearer
// token the session was given; only the session a push went to may ack it.
func (s *Server) HandleAck(ctx context.Context, sessionToken string, a mmpush.Ack) (devicesim.AckResponse, error) {
	if a.ID == "" || a.Platform == "" || a.Type == "" {
		return devicesim.AckResponse{}, fmt.Errorf("%w: ack needs id, platform and type", ErrBadRequest)
	}
	s.mu.Lock()
	rec, ok := s.sent[a.ID]
	var sess *Session
	if ok {
		sess = s.sessions[rec.session]
	}
	s.mu.Unlock()
	if !ok {
		return devicesim.AckResponse{}, fmt.Errorf("%w: %q", ErrUnknownAck, a.ID)
	}
	if sess == nil || sess.secret != sessionToken {
		return devicesim.AckResponse{}, fmt.Errorf("%w: ack %q is not for this session", ErrNoSession, a.ID)
	}
	body, _ := json.Marshal(a)
	ans, err := s.post(ctx, mmpush.PathAck, body)
	out := devicesim.AckResponse{Status: StatusOK, ProxyStatus: ans.Status, ProxyError: ans.Error}
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

// Link joins devices in this process to s by direct calls (the acks it
// forwards still go to the proxy over HTTPS); devicesim.RemoteServer is
// the same seam across processes.
func (s *Server) Link() devicesim.ServerLink { return localLink{s} }

type localLink struct{ s *Server }

func (l localLink) AttachDevice(_ context.Context, req devicesim.SessionRequest) (devicesim.SessionResponse, error) {
	return l.s.AttachDevice(req)
}

func (l localLink) Ack(ctx context.Context, tok string, a mmpush.Ack) (devicesim.AckResponse, error) {
	return l.s.HandleAck(ctx, tok, a)
}
