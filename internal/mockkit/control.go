package mockkit

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// Control is a mock's control API. mockapns and mockfcm serve the same shape,
// on a listener of its own (the APNs listener speaks HTTP/2 only, as Apple's does):
//
//	GET    /healthz
//	GET    /events                      the mock's event stream (websocket)
//	GET    /push                        the push gateway (websocket, see GatewayHandler)
//	GET    /control/devices             issued tokens
//	POST   /control/devices             {"app":…,"env":…,"device":…} → 201 Registration (FCM: "project" or "env")
//	DELETE /control/devices/{token}     uninstall the app: the token dies
//	GET    /control/devices/{token}/pending   what is stored for an offline device
//	GET    /control/faults              the fault script
//	POST   /control/faults              a Fault → 201 with its id
//	DELETE /control/faults              clear the script
//	DELETE /control/faults/{id}         remove one fault
//	POST   /control/faults/seed         {"seed":N}: restart the percentage generator
//	GET    /control/requests?since=N    recorded requests after N
//	GET    /control/clock               the mock's clock {"now":…,"offset":…}
//	POST   /control/clock               {"advance":"6480h"} | {"now":RFC 3339} | {"reset":true}
//	GET    /metrics                     Prometheus: requests by status/reason, pushes, drops, tokens
type Control struct {
	// Provider labels the metrics: "apns" or "fcm".
	Provider string
	Faults   *Faults
	Registry *Registry
	Recorder *Recorder
	Hub      *Hub
	Bus      *events.Bus
	Log      *slog.Logger
	// Register issues a token to the app, environment (APNs) or project
	// (FCM) and device req names, after the provider's own checks.
	Register func(req pushtest.Registration) (pushtest.Registration, error)
	// Uninstall kills a token the provider's way.
	Uninstall func(token string) (pushtest.Registration, bool)
	// Clock, if set, is served at /control/clock.
	Clock *Clock
	// Extra, if set, adds a provider's own routes to the control API.
	Extra func(mux *http.ServeMux)
	// Collectors are a provider's own metrics, served with the shared ones.
	Collectors []prometheus.Collector
	// Token, if set, is required (Authorization: Bearer) by /control/…,
	// /push and /events; /healthz and /metrics stay open (internal/access).
	Token string
}

// Handler serves the control API.
func (c *Control) Handler() http.Handler {
	return access.Guard(c.Token, c.routes(), "/control/", "/push", "/events")
}

func (c *Control) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /events", events.Handler(c.Bus))
	mux.Handle("GET /metrics", c.metricsHandler())
	mux.Handle("GET /push", c.Hub.GatewayHandler(c.Log))
	mux.HandleFunc("GET /control/devices", func(w http.ResponseWriter, _ *http.Request) { httpjson.Write(w, 200, c.Registry.List()) })
	mux.HandleFunc("POST /control/devices", func(w http.ResponseWriter, r *http.Request) {
		// APNs names the token's environment, FCM its Firebase project:
		// "project", or "env", the name both mocks share.
		var req struct {
			App, Env, Device string
			Project          string `json:"project"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		want := pushtest.Registration{App: req.App, Device: req.Device}
		switch {
		case req.Project != "" && (c.Provider != "fcm" || (req.Env != "" && req.Env != req.Project)):
			api.Error(w, http.StatusBadRequest, fmt.Errorf("project %q: only FCM registrations name a project, in project or env, not both differently", req.Project))
			return
		case c.Provider == "fcm":
			want.Project = cmp.Or(req.Project, req.Env)
		default:
			want.Environment = testpki.Environment(req.Env)
		}
		reg, err := c.Register(want)
		if err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, reg)
	})
	mux.HandleFunc("DELETE /control/devices/{token}", func(w http.ResponseWriter, r *http.Request) {
		reg, ok := c.Uninstall(r.PathValue("token"))
		if !ok {
			api.Error(w, http.StatusNotFound, fmt.Errorf("no such token"))
			return
		}
		httpjson.Write(w, 200, reg)
	})
	mux.HandleFunc("GET /control/devices/{token}/pending", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, 200, c.Hub.Pending(r.PathValue("token")))
	})
	mux.HandleFunc("GET /control/faults", func(w http.ResponseWriter, _ *http.Request) { httpjson.Write(w, 200, c.Faults.List()) })
	mux.HandleFunc("POST /control/faults", func(w http.ResponseWriter, r *http.Request) {
		var f pushtest.Fault
		if !api.Read(w, r, &f) {
			return
		}
		added, err := c.Faults.Add(f)
		if err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, added)
	})
	mux.HandleFunc("DELETE /control/faults", func(w http.ResponseWriter, _ *http.Request) {
		c.Faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /control/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !c.Faults.Remove(r.PathValue("id")) {
			api.Error(w, http.StatusNotFound, fmt.Errorf("no fault %q", r.PathValue("id")))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /control/faults/seed", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Seed uint64 }
		if !api.Read(w, r, &req) {
			return
		}
		c.Faults.Seed(req.Seed)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /control/requests", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		httpjson.Write(w, 200, c.Recorder.Since(since))
	})
	if c.Clock != nil {
		c.Clock.register(mux)
	}
	if c.Extra != nil {
		c.Extra(mux)
	}
	return mux
}

// api is the JSON of the control API: strict, errors as {"error":…}.
var api = httpjson.API{DisallowUnknownFields: true}
