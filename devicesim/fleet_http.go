package devicesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpjson"
)

// errBadRequest answers a request the fleet's API cannot read.
var errBadRequest = errors.New("devicesim: bad request")

// api is the JSON of the fleet's API: error bodies carry the status, and a
// body that does not decode is an errBadRequest.
var api = httpjson.API{
	BadJSON:    func(err error) error { return fmt.Errorf("%w: bad JSON: %v", errBadRequest, err) },
	StatusCode: true,
}

// Handler is the control API of a devicesim process:
//
//	GET  /healthz
//	GET  /events                      the devices' event stream (websocket)
//	GET  /devices                     []State
//	GET  /devices/{name}              {"state":State,"shown":[]Notification}
//	POST /devices/{name}/online       connect to the push service
//	POST /devices/{name}/offline      disconnect (pushes are stored)
//	POST /devices/{name}/uninstall    delete the app: the token dies
//	POST /devices/{name}/reinstall    install again: new token, key and session
//	PUT  /devices/{name}/skew         {"skew":"-1h"}: the device clock's offset
//	GET  /devices/{name}/activities   Live Activities with their content state, by the device clock
//	POST /devices/{name}/activities   {"attributes_type","attributes","content_state","channel"}: the app starts one
//	POST /devices/{name}/channels     {"channel":…}: subscribe to an APNs broadcast channel
func (f *Fleet) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /events", events.Handler(f.cfg.Bus))
	mux.HandleFunc("GET /devices", func(w http.ResponseWriter, _ *http.Request) {
		devs := f.Devices()
		out := make([]State, len(devs))
		for i, d := range devs {
			out[i] = d.State()
		}
		httpjson.Write(w, 200, out)
	})
	device := func(w http.ResponseWriter, r *http.Request) *Device {
		d, ok := f.Device(r.PathValue("name"))
		if !ok {
			api.Error(w, http.StatusNotFound, ErrNoDevice)
		}
		return d
	}
	mux.HandleFunc("GET /devices/{name}/activities", func(w http.ResponseWriter, r *http.Request) {
		if d := device(w, r); d != nil {
			httpjson.Write(w, 200, map[string]any{"push_to_start_token": events.RedactToken(d.PushToStartToken()), "activities": d.Activities()})
		}
	})
	mux.HandleFunc("GET /devices/{name}", func(w http.ResponseWriter, r *http.Request) {
		if d := device(w, r); d != nil {
			httpjson.Write(w, 200, map[string]any{"state": d.State(), "shown": d.Shown()})
		}
	})
	mux.HandleFunc("POST /devices/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		err := d.Act(ctx, r.PathValue("action"))
		if errors.Is(err, ErrUnknownAction) {
			api.Error(w, http.StatusNotFound, errBadRequest)
			return
		}
		if err != nil {
			api.Error(w, http.StatusBadGateway, err)
			return
		}
		httpjson.Write(w, 200, d.State())
	})
	mux.HandleFunc("PUT /devices/{name}/skew", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		var req struct {
			Skew string `json:"skew"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		skew, err := time.ParseDuration(req.Skew)
		if err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		d.SetClockSkew(skew)
		httpjson.Write(w, 200, d.State())
	})
	mux.HandleFunc("POST /devices/{name}/activities", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		var req struct {
			AttributesType string          `json:"attributes_type"`
			Attributes     json.RawMessage `json:"attributes"`
			ContentState   json.RawMessage `json:"content_state"`
			Channel        string          `json:"channel"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		if req.AttributesType == "" {
			api.Error(w, http.StatusBadRequest, errors.New("attributes_type is required"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		a, err := d.StartActivity(ctx, req.AttributesType, req.Attributes, req.ContentState, req.Channel)
		if err != nil {
			api.Error(w, http.StatusConflict, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, a)
	})
	mux.HandleFunc("POST /devices/{name}/channels", func(w http.ResponseWriter, r *http.Request) {
		d := device(w, r)
		if d == nil {
			return
		}
		var req struct {
			Channel string `json:"channel"`
		}
		if !api.Read(w, r, &req) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := d.SubscribeChannel(ctx, req.Channel); err != nil {
			api.Error(w, http.StatusBadGateway, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
