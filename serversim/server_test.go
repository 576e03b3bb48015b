package serversim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/mmpush"
	. "github.com/pushlab/pushlab/serversim"
)

func TestServerHTTP(t *testing.T) {
	r := simtest.New(t, Config{})
	d := r.Add("phone", r.IOS)
	srv := httptest.NewServer(r.Server.Handler())
	t.Cleanup(srv.Close)
	res := r.Send(Message{UserID: d.User, Message: "x"})

	do := func(method, path, auth, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The session token the device got, through the in-process link.
	tok := SessionToken(r.Server, d.SessionID())
	ack := `{"id":"` + res.AckID + `","platform":"apple","type":"message"}`
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		contains                       string
	}{
		{"ping", "GET", "/api/v4/system/ping", "", "", 200, r.Server.ID()},
		{"attach: not JSON", "PUT", "/api/v4/users/sessions/device", "", "{", 400, "bad JSON"},
		{"attach: no platform prefix", "PUT", "/api/v4/users/sessions/device", "", `{"user_id":"u","device_id":"abc"}`, 400, "platform"},
		{"attach: unknown platform", "PUT", "/api/v4/users/sessions/device", "", `{"user_id":"u","device_id":"nokia:abc"}`, 400, "unknown platform"},
		{"attach: no user", "PUT", "/api/v4/users/sessions/device", "", `{"device_id":"apple:abc"}`, 400, "user_id"},
		{"attach: bad key", "PUT", "/api/v4/users/sessions/device", "", `{"user_id":"u","device_id":"apple:abc","device_key":{"key_id":"k","p256dh":"AAAA","auth":"AAAA"}}`, 400, "invalid key"},
		{"attach: too large", "PUT", "/api/v4/users/sessions/device", "", `{"user_id":"` + strings.Repeat("u", 70<<10) + `"}`, 413, ""},
		{"ack: missing type", "POST", "/api/v4/notifications/ack", tok, `{"id":"x","platform":"apple"}`, 400, "type"},
		{"ack: unknown id", "POST", "/api/v4/notifications/ack", tok, `{"id":"nope","platform":"apple","type":"message"}`, 404, "unknown ack"},
		{"ack: another session", "POST", "/api/v4/notifications/ack", "not-the-token", ack, 403, "not for this session"},
		{"ack: ok", "POST", "/api/v4/notifications/ack", tok, ack, 200, `"proxy_status":"OK"`},
		{"send: nobody", "POST", "/control/send", "", `{"user_id":"ghost","message":"x"}`, 404, "no such device session"},
		{"send: no target", "POST", "/control/send", "", `{"message":"x"}`, 400, "user_id"},
		{"send: bad type", "POST", "/control/send", "", `{"user_id":"user-phone","type":"bogus"}`, 400, "unknown type"},
		{"send: ok", "POST", "/control/send", "", `{"user_id":"user-phone","message":"hi"}`, 200, `"status":"OK"`},
		{"send: to a device", "POST", "/control/send", "", `{"device":"phone","type":"test"}`, 200, `"device_name":"phone"`},
		{"send: to an unknown device", "POST", "/control/send", "", `{"device":"brick","type":"test"}`, 404, "brick"},
		{"contents: bad", "PUT", "/control/contents", "", `{"contents":"everything"}`, 400, "unknown push contents"},
		{"contents: ok", "PUT", "/control/contents", "", `{"contents":"full"}`, 200, `"full"`},
		{"sessions", "GET", "/control/sessions", "", "", 200, `"device_name":"phone"`},
		{"delete unknown session", "DELETE", "/control/sessions/nope", "", "", 404, ""},
		{"logout without token", "DELETE", "/api/v4/users/sessions/device", "", "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(tt.method, tt.path, tt.auth, tt.body)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s: %d %s, want %d containing %q", tt.method, tt.path, status, body, tt.status, tt.contains)
			}
		})
	}
	r.Fleet.Wait()
	for _, e := range r.Bus.History() {
		if strings.Contains(e.Detail+e.Payload, tok) {
			t.Errorf("an event carries the session secret: %s %s", e.Hop, e.Detail)
		}
	}
}

func TestServerProxyVerdicts(t *testing.T) {
	tests := []struct {
		name, answer string
		status       string
		removed      bool
	}{
		{"REMOVE deletes the session", `{"status":"REMOVE"}`, StatusRemove, true},
		{"FAIL keeps it", `{"status":"FAIL","error":"unknown send response error: TooManyRequests"}`, StatusFail, false},
		{"not JSON is a FAIL", `<html>`, StatusFail, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := simtest.New(t, Config{})
			d := r.Add("p", r.Droid)
			r.SetAnswer(tt.answer)
			res := r.Send(Message{UserID: d.User, Message: "x"})
			if res.Status != tt.status || res.Removed != tt.removed {
				t.Errorf("result %+v", res)
			}
			_, still := r.Server.Session(d.SessionID())
			if still == tt.removed {
				t.Errorf("session still there: %v", still)
			}
			_, ev := r.Last(res.AckID, events.ServerRemoved)
			if ev != tt.removed {
				t.Errorf("server.session_removed event: %v", ev)
			}
		})
	}
	t.Run("proxy down is a FAIL", func(t *testing.T) {
		r := simtest.New(t, Config{})
		d := r.Add("p", r.IOS)
		SetProxyURL(r.Server, "http://127.0.0.1:1")
		res := r.Send(Message{UserID: d.User, Message: "x"})
		if res.Status != StatusFail || res.Error == "" {
			t.Errorf("result %+v", res)
		}
	})
}

func TestServerConfig(t *testing.T) {
	r := simtest.New(t, Config{})
	good := ConfigOf(r.Server)
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no proxy", func(c *Config) { c.ProxyURL = "" }},
		{"no key", func(c *Config) { c.SigningKey = nil }},
		{"bad contents", func(c *Config) { c.Contents = "all" }},
		{"bad profile", func(c *Config) { c.Profile = "xpns" }},
	}
	for _, tt := range tests {
		c := good
		tt.edit(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := r.Server.Send(context.Background(), Message{UserID: "nobody"}); !errors.Is(err, ErrNoSession) {
		t.Errorf("send to nobody: %v", err)
	}
	var m Message
	if err := json.Unmarshal([]byte(`{"user_id":"u","badge":0}`), &m); err != nil || m.Badge == nil || *m.Badge != 0 {
		t.Errorf("badge 0 must be distinguishable from absent: %+v %v", m, err)
	}
}

// With a control token, /control/… and /events need it; the endpoints a
// device calls stay as open as a real Mattermost server's.
func TestServerControlToken(t *testing.T) {
	r := simtest.New(t, Config{ControlToken: "s3cret"})
	h := r.Server.Handler()
	for _, c := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/control/sessions", "", 401},
		{"GET", "/control/sessions", "Bearer s3cret", 200},
		{"GET", "/events", "", 401},
		{"GET", "/api/v4/system/ping", "", 200},
		{"GET", "/healthz", "", 200},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%s %s %q: %d, want %d", c.method, c.path, c.auth, w.Code, c.want)
		}
	}
}

// The server keeps the last Remember sends for acks: older ack ids are
// forgotten in order, newer ones still ack.
func TestServerRemembersTheLastSends(t *testing.T) {
	r := simtest.New(t, Config{Remember: 3})
	d := r.Add("phone", r.IOS)
	var ids []string
	for range 7 {
		ids = append(ids, r.Send(Message{UserID: d.User, Message: "x"}).AckID)
	}
	for i, id := range ids {
		_, err := r.Server.HandleAck(context.Background(), SessionToken(r.Server, d.SessionID()), mmpush.Ack{ID: id, Platform: "apple", Type: mmpush.TypeMessage})
		if known := !errors.Is(err, ErrUnknownAck); known != (i >= len(ids)-3) {
			t.Errorf("send %d of %d: ack error %v", i+1, len(ids), err)
		}
	}
}

// Sending to a user reaches exactly that user's sessions, through
// re-registration (same token: the session is replaced) and removal.
func TestServerSendsToEachSessionOfTheUser(t *testing.T) {
	r := simtest.New(t, Config{})
	attach := func(user, token string) string {
		res, err := r.Server.AttachDevice(devicesim.SessionRequest{UserID: user, DeviceID: "apple_rn:" + token})
		if err != nil {
			t.Fatal(err)
		}
		return res.SessionID
	}
	attach("alice", "tok-a1")
	a2 := attach("alice", "tok-a2")
	attach("bob", "tok-b1")
	a2again := attach("alice", "tok-a2") // re-registered: replaces a2
	count := func(user string) int {
		res, err := r.Server.Send(context.Background(), Message{UserID: user, Type: mmpush.TypeTest})
		if err != nil {
			return 0
		}
		return len(res)
	}
	if n := count("alice"); n != 2 {
		t.Fatalf("alice: %d sessions reached, want 2", n)
	}
	if r.Server.RemoveSession(a2) {
		t.Error("the replaced session was still there")
	}
	r.Server.RemoveSession(a2again)
	if n, m := count("alice"), count("bob"); n != 1 || m != 1 {
		t.Fatalf("after removal alice %d, bob %d sessions reached, want 1 and 1", n, m)
	}
}
