package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
)

// The controls are thin: decode, validate (a clear 4xx, nothing changed),
// then call the same Go APIs the CLI and the tests use.

// maxBody bounds a control request; maxMessage a message's text.
const (
	maxBody    = 64 << 10
	maxMessage = 4000
)

// SendRequest is POST /api/send: one of UserID and Device names the target.
type SendRequest struct {
	Type        string `json:"type"` // message (default), clear, update_badge, test
	UserID      string `json:"user_id,omitempty"`
	Device      string `json:"device,omitempty"`
	Message     string `json:"message,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
	SenderName  string `json:"sender_name,omitempty"`
	Badge       *int   `json:"badge,omitempty"`
}

// FaultRequest is POST /api/faults: a fault for one provider's mock,
// optionally limited to one device's current token.
type FaultRequest struct {
	Provider   string  `json:"provider"` // apns or fcm
	Device     string  `json:"device,omitempty"`
	Action     string  `json:"action,omitempty"` // respond, delay, reset, goaway
	Status     int     `json:"status,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	RetryAfter string  `json:"retry_after,omitempty"`
	Latency    string  `json:"latency,omitempty"` // "250ms"
	Percent    float64 `json:"percent,omitempty"`
	Count      int     `json:"count,omitempty"`
}

// deviceView is a device card: its state, whether the server still holds its
// session, and what its lock screen shows (newest first).
type deviceView struct {
	devicesim.State
	AppID       string                   `json:"app_id"`
	Environment string                   `json:"environment"`
	SessionLive bool                     `json:"session_live"`
	Shown       []devicesim.Notification `json:"shown"`
}

const shownOnCard = 5

func (s *Server) deviceViews() []deviceView {
	lab := s.cfg.Lab
	if lab == nil || lab.Fleet == nil {
		return nil
	}
	var out []deviceView
	for _, d := range lab.Fleet.Devices() {
		st := d.State()
		// A Live Activity's update token is a working push token: ends only.
		st.Activities = slices.Clone(st.Activities)
		for i := range st.Activities {
			if t := st.Activities[i].UpdateToken; t != "" {
				st.Activities[i].UpdateToken = events.RedactToken(t)
			}
		}
		v := deviceView{State: st, AppID: d.App.ID(), Environment: d.App.Env()}
		if st.Session != "" && lab.Server != nil {
			_, v.SessionLive = lab.Server.Session(st.Session)
		}
		shown := d.Shown()
		slices.Reverse(shown)
		v.Shown = shown[:min(len(shown), shownOnCard)]
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b deviceView) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *Server) api(g *gin.RouterGroup) {
	g.Use(s.logRefusals, func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
		c.Next()
	})
	g.GET("/state", s.getState)
	g.GET("/older", s.getOlder)
	controls := g.Group("", s.needLab)
	controls.POST("/send", s.postSend)
	controls.PUT("/contents", s.putContents)
	controls.POST("/devices/:name/:action", s.postDevice)
	controls.GET("/requests", s.getRequests)
	controls.GET("/faults", func(c *gin.Context) { c.JSON(http.StatusOK, s.faults()) })
	controls.POST("/faults", s.postFault)
	controls.DELETE("/faults", s.clearFaults)
	controls.DELETE("/faults/:provider/:id", s.deleteFault)
}

func fail(c *gin.Context, status int, err error) {
	c.Set(errKey, err.Error())
	c.AbortWithStatusJSON(status, gin.H{"error": err.Error()})
}

const errKey = "pushlab.error"

// logRefusals logs each refused control once, with the sentence the client got.
func (s *Server) logRefusals(c *gin.Context) {
	c.Next()
	if msg, ok := c.Get(errKey); ok {
		s.log.Info("web control refused", "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(), "err", msg)
	}
}

// bind decodes a JSON body strictly: an unknown field is a typo, not a no-op.
func bind(c *gin.Context, v any) bool {
	if ct := c.ContentType(); ct != "application/json" {
		fail(c, http.StatusUnsupportedMediaType, fmt.Errorf("want Content-Type application/json, got %q", ct))
		return false
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(c, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxBody))
		} else {
			fail(c, http.StatusBadRequest, fmt.Errorf("bad JSON: %w", err))
		}
		return false
	}
	return true
}

func (s *Server) needLab(c *gin.Context) {
	if s.cfg.Lab == nil || s.cfg.Lab.Server == nil || s.cfg.Lab.Fleet == nil {
		fail(c, http.StatusServiceUnavailable, errors.New("controls need an in-process lab (pushlab demo); this view only collects events"))
		return
	}
	c.Next()
}

func (s *Server) getState(c *gin.Context) {
	out := gin.H{"seq": s.hub.lastSeq(), "sources": s.sourceStates(), "controls": s.cfg.Lab != nil}
	if lab := s.cfg.Lab; lab != nil {
		out["devices"] = s.deviceViews()
		if lab.Server != nil {
			out["contents"] = lab.Server.Contents()
			out["profile"] = lab.Server.Profile()
			users := map[string]bool{}
			for _, x := range lab.Server.Sessions() {
				users[x.UserID] = true
			}
			out["users"] = slices.Sorted(maps.Keys(users))
		}
		out["faults"] = s.faults()
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getOlder(c *gin.Context) {
	before, err := strconv.ParseUint(c.Query("before"), 10, 64)
	if err != nil || before == 0 {
		fail(c, http.StatusBadRequest, errors.New("before: want the oldest seq the page holds"))
		return
	}
	n := 100
	if v := c.Query("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			fail(c, http.StatusBadRequest, errors.New("n: want 1..1000 notifications"))
			return
		}
	}
	c.Data(http.StatusOK, "application/json", batch(s.hub.older(before, n)))
}

func (s *Server) postSend(c *gin.Context) {
	var req SendRequest
	if !bind(c, &req) {
		return
	}
	if req.Type == "" {
		req.Type = devicesim.PushMessage
	}
	switch req.Type {
	case devicesim.PushMessage, devicesim.PushClear, devicesim.PushUpdateBadge, devicesim.PushTest:
	default:
		fail(c, http.StatusBadRequest, fmt.Errorf("type %q: want message, clear, update_badge or test", req.Type))
		return
	}
	if (req.UserID == "") == (req.Device == "") {
		fail(c, http.StatusBadRequest, errors.New("name exactly one target: user_id or device"))
		return
	}
	if req.Device != "" {
		if _, ok := s.cfg.Lab.Fleet.Device(req.Device); !ok {
			fail(c, http.StatusNotFound, fmt.Errorf("no device %q", req.Device))
			return
		}
	}
	if req.Type == devicesim.PushMessage && strings.TrimSpace(req.Message) == "" {
		fail(c, http.StatusBadRequest, errors.New("message: a message push needs text"))
		return
	}
	if !utf8.ValidString(req.Message) || len(req.Message) > maxMessage {
		fail(c, http.StatusBadRequest, fmt.Errorf("message: want valid UTF-8 of at most %d bytes", maxMessage))
		return
	}
	if req.Badge != nil && (*req.Badge < 0 || *req.Badge > 99999) {
		fail(c, http.StatusBadRequest, errors.New("badge: want 0..99999"))
		return
	}
	m := serversim.Message{Type: req.Type, UserID: req.UserID, Device: req.Device, Message: req.Message,
		ChannelName: req.ChannelName, SenderName: req.SenderName, Badge: req.Badge}
	if m.Type == devicesim.PushMessage {
		m.ChannelName = cmp.Or(m.ChannelName, "Town Square")
		m.SenderName = cmp.Or(m.SenderName, "pushlab web")
	}
	res, err := s.cfg.Lab.Server.Send(c.Request.Context(), m)
	s.markDirty()
	switch {
	case errors.Is(err, serversim.ErrNoSession):
		fail(c, http.StatusNotFound, err)
	case err != nil:
		fail(c, http.StatusBadRequest, err)
	default:
		c.JSON(http.StatusOK, gin.H{"results": res})
	}
}

func (s *Server) putContents(c *gin.Context) {
	var req struct {
		Contents string `json:"contents"`
	}
	if !bind(c, &req) {
		return
	}
	if _, err := serversim.ParseContents(req.Contents); err != nil || req.Contents == "" {
		fail(c, http.StatusBadRequest, fmt.Errorf("contents %q: want generic, generic_no_channel, full or id_loaded", req.Contents))
		return
	}
	if err := s.cfg.Lab.Server.SetContents(serversim.Contents(req.Contents)); err != nil {
		fail(c, http.StatusBadRequest, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"contents": s.cfg.Lab.Server.Contents()})
}

func (s *Server) postDevice(c *gin.Context) {
	d, ok := s.cfg.Lab.Fleet.Device(c.Param("name"))
	if !ok {
		fail(c, http.StatusNotFound, fmt.Errorf("no device %q", c.Param("name")))
		return
	}
	err := d.Act(c.Request.Context(), c.Param("action"))
	if errors.Is(err, devicesim.ErrUnknownAction) {
		fail(c, http.StatusBadRequest, fmt.Errorf("action %q: want online, offline, uninstall or reinstall", c.Param("action")))
		return
	}
	s.markDirty()
	if err != nil {
		fail(c, http.StatusConflict, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"device": d.State()})
}

// faultScript is what the page does with a mock's fault script; both mocks
// have it, by the same names.
type faultScript interface {
	AddFault(pushtest.Fault) (pushtest.Fault, error)
	Faults() []pushtest.Fault
	RemoveFault(id string) bool
	ClearFaults()
}

// faultScripts names each mock's fault script.
func (s *Server) faultScripts() map[string]faultScript {
	out := map[string]faultScript{}
	if s.cfg.Lab.APNs != nil {
		out["apns"] = s.cfg.Lab.APNs
	}
	if s.cfg.Lab.FCM != nil {
		out["fcm"] = s.cfg.Lab.FCM
	}
	return out
}

// faultView is a fault as the page lists it: which mock, which device.
type faultView struct {
	mockapns.Fault
	Provider string `json:"provider"`
	Device   string `json:"device,omitempty"`
}

// MarshalJSON writes the fault as the mocks' control API does, with the
// provider and device beside its fields (the embedded Fault's own
// MarshalJSON would leave them out).
func (v faultView) MarshalJSON() ([]byte, error) {
	fault, err := json.Marshal(v.Fault)
	if err != nil {
		return nil, err
	}
	where, err := json.Marshal(struct {
		Provider string `json:"provider"`
		Device   string `json:"device,omitempty"`
	}{v.Provider, v.Device})
	if err != nil {
		return nil, err
	}
	return append(append(fault[:len(fault)-1], ','), where[1:]...), nil // {fault…, where…}
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *faultView) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for name, to := range map[string]*string{"provider": &v.Provider, "device": &v.Device} {
		if raw, ok := fields[name]; ok {
			if err := json.Unmarshal(raw, to); err != nil {
				return err
			}
			delete(fields, name)
		}
	}
	fault, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return json.Unmarshal(fault, &v.Fault)
}

func (s *Server) faults() []faultView {
	if s.cfg.Lab == nil {
		return nil
	}
	byToken := map[string]string{}
	if s.cfg.Lab.Fleet != nil {
		for _, d := range s.cfg.Lab.Fleet.Devices() {
			byToken[d.Token()] = d.Name
		}
	}
	out := []faultView{}
	for _, p := range []string{"apns", "fcm"} {
		f, ok := s.faultScripts()[p]
		if !ok {
			continue
		}
		for _, x := range f.Faults() {
			v := faultView{Fault: x, Provider: p, Device: byToken[x.Token]}
			v.Token = "" // the card names the device; the token stays out of the page
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) postFault(c *gin.Context) {
	var req FaultRequest
	if !bind(c, &req) {
		return
	}
	script, ok := s.faultScripts()[req.Provider]
	if !ok {
		fail(c, http.StatusBadRequest, fmt.Errorf("provider %q: want apns or fcm", req.Provider))
		return
	}
	f := mockapns.Fault{Action: pushtest.Action(req.Action), Status: req.Status, Reason: req.Reason,
		RetryAfter: req.RetryAfter, Percent: req.Percent, Count: req.Count}
	if req.Latency != "" {
		var latency httpjson.Duration
		if err := latency.UnmarshalJSON([]byte(strconv.Quote(req.Latency))); err != nil {
			fail(c, http.StatusBadRequest, err)
			return
		}
		f.Latency = time.Duration(latency)
	}
	if req.Provider == "apns" && f.Status == 0 && f.Reason != "" {
		st, known := mockapns.Reasons[f.Reason]
		if !known {
			fail(c, http.StatusBadRequest, fmt.Errorf("reason %q is not an APNs reason", f.Reason))
			return
		}
		f.Status = st
	}
	if req.Device != "" {
		d, ok := s.cfg.Lab.Fleet.Device(req.Device)
		if !ok {
			fail(c, http.StatusNotFound, fmt.Errorf("no device %q", req.Device))
			return
		}
		if want := providerOf(d.App.Platform); want != req.Provider {
			fail(c, http.StatusBadRequest, fmt.Errorf("%s is an %s device: its pushes go through %s", d.Name, d.App.Platform, want))
			return
		}
		if f.Token = d.Token(); f.Token == "" {
			fail(c, http.StatusConflict, fmt.Errorf("%s has no token (not installed)", d.Name))
			return
		}
	}
	added, err := script.AddFault(f)
	if err != nil {
		fail(c, http.StatusBadRequest, err)
		return
	}
	added.Token = ""
	c.JSON(http.StatusCreated, faultView{Fault: added, Provider: req.Provider, Device: req.Device})
}

func (s *Server) deleteFault(c *gin.Context) {
	script, ok := s.faultScripts()[c.Param("provider")]
	if !ok {
		fail(c, http.StatusBadRequest, fmt.Errorf("provider %q: want apns or fcm", c.Param("provider")))
		return
	}
	if !script.RemoveFault(c.Param("id")) {
		fail(c, http.StatusNotFound, fmt.Errorf("no fault %q", c.Param("id")))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) clearFaults(c *gin.Context) {
	for _, f := range s.faultScripts() {
		f.ClearFaults()
	}
	c.Status(http.StatusNoContent)
}

func providerOf(p devicesim.Platform) string {
	if p == devicesim.IOS {
		return "apns"
	}
	return "fcm"
}

// recordedView is a request as a mock received it: headers, the credential
// as the mock verified it (JWT header and claims, certificate subject, key
// fingerprints), the body, and the answer.
type recordedView struct {
	mockapns.Request
	Provider string `json:"provider"`
}

// getRequests finds what the mocks recorded for one notification: by trace
// (the ack_id in the body) and/or by id (apns-id, FCM message name).
func (s *Server) getRequests(c *gin.Context) {
	trace, id := c.Query("trace"), c.Query("id")
	if trace == "" && id == "" {
		fail(c, http.StatusBadRequest, errors.New("name a trace (ack_id) or an id (apns-id, FCM message name)"))
		return
	}
	var needle string
	if trace != "" {
		b, _ := json.Marshal(trace)
		needle = `"ack_id":` + string(b)
	}
	out := []recordedView{}
	for _, p := range []string{"apns", "fcm"} {
		var recs []mockapns.Request
		switch {
		case p == "apns" && s.cfg.Lab.APNs != nil:
			recs = s.cfg.Lab.APNs.Requests(0)
		case p == "fcm" && s.cfg.Lab.FCM != nil:
			recs = s.cfg.Lab.FCM.Requests(0)
		}
		for _, r := range recs {
			if (id != "" && r.ID == id) || (needle != "" && strings.Contains(r.Body, needle)) {
				// A device token is a working credential: the page gets its ends only.
				if r.Token != "" {
					short := events.RedactToken(r.Token)
					r.Path = strings.ReplaceAll(r.Path, r.Token, short)
					r.Body = strings.ReplaceAll(r.Body, r.Token, short)
					r.Token = short
				}
				for k := range r.Headers {
					if strings.EqualFold(k, "authorization") {
						delete(r.Headers, k) // the mock shows the credential decoded, in Auth
					}
				}
				out = append(out, recordedView{Request: r, Provider: p})
			}
		}
	}
	c.JSON(http.StatusOK, out)
}
