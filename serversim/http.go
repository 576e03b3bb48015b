package serversim

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/internal/growstack"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/mmpush"
)

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
	return access.Guard(s.cfg.ControlToken, s.routes(), "/control/", "/events")
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, 200, map[string]string{"status": "OK", "server_id": s.cfg.ID})
	})
	mux.Handle("GET /events", events.Handler(s.bus))
	mux.HandleFunc("PUT "+devicesim.PathSessionDevice, func(w http.ResponseWriter, r *http.Request) {
		var req devicesim.SessionRequest
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
	mux.HandleFunc("DELETE "+devicesim.PathSessionDevice, func(w http.ResponseWriter, r *http.Request) {
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
	mux.HandleFunc("POST "+mmpush.PathServerAck, func(w http.ResponseWriter, r *http.Request) {
		growstack.Grow() // one copy of a shallow stack, not several of a deep one
		var a mmpush.Ack
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

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return t
	}
	return ""
}
