package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/serversim"
)

type call struct {
	name        string
	method      string
	path        string
	body        string
	contentType string // default application/json
	want        int
}

func do(t *testing.T, srv *httptest.Server, c call, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	ct := c.contentType
	if ct == "" {
		ct = "application/json"
	}
	if c.body != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestControlsRejectBadInputAndChangeNothing: each control answers bad input
// 4xx with a sentence, and the lab is as before (no event on the spine, no
// fault added, contents and devices unchanged).
func TestControlsRejectBadInputAndChangeNothing(t *testing.T) {
	lab, s, srv := startDemo(t)
	bad := []call{
		{"send: not JSON", "POST", "/api/send", `{"user_id":`, "", 400},
		{"send: form body", "POST", "/api/send", `user_id=alice`, "application/x-www-form-urlencoded", 415},
		{"send: unknown field", "POST", "/api/send", `{"user_id":"alice","mesage":"hi"}`, "", 400},
		{"send: unknown type", "POST", "/api/send", `{"type":"bogus","user_id":"alice","message":"hi"}`, "", 400},
		{"send: no target", "POST", "/api/send", `{"message":"hi"}`, "", 400},
		{"send: two targets", "POST", "/api/send", `{"user_id":"alice","device":"pixel","message":"hi"}`, "", 400},
		{"send: unknown device", "POST", "/api/send", `{"device":"nokia","message":"hi"}`, "", 404},
		{"send: unknown user", "POST", "/api/send", `{"user_id":"mallory","message":"hi"}`, "", 404},
		{"send: empty message", "POST", "/api/send", `{"user_id":"alice","message":"  "}`, "", 400},
		{"send: negative badge", "POST", "/api/send", `{"type":"update_badge","user_id":"alice","badge":-1}`, "", 400},
		{"send: oversize message", "POST", "/api/send", `{"user_id":"alice","message":"` + strings.Repeat("x", maxMessage+1) + `"}`, "", 400},
		{"send: oversize body", "POST", "/api/send", `{"user_id":"alice","message":"` + strings.Repeat("x", maxBody) + `"}`, "", 413},
		{"contents: unknown", "PUT", "/api/contents", `{"contents":"everything"}`, "", 400},
		{"contents: empty", "PUT", "/api/contents", `{}`, "", 400},
		{"device: unknown", "POST", "/api/devices/nokia/offline", ``, "", 404},
		{"device: unknown action", "POST", "/api/devices/pixel/explode", ``, "", 400},
		{"fault: unknown provider", "POST", "/api/faults", `{"provider":"hms","status":500}`, "", 400},
		{"fault: not an APNs reason", "POST", "/api/faults", `{"provider":"apns","reason":"NoSuchReason"}`, "", 400},
		{"fault: device on the other provider", "POST", "/api/faults", `{"provider":"apns","device":"pixel","status":410,"reason":"Unregistered"}`, "", 400},
		{"fault: unknown device", "POST", "/api/faults", `{"provider":"fcm","device":"nokia","status":404,"reason":"UNREGISTERED"}`, "", 404},
		{"fault: percent over 100", "POST", "/api/faults", `{"provider":"apns","status":500,"percent":150}`, "", 400},
		{"fault: bad latency", "POST", "/api/faults", `{"provider":"apns","action":"delay","latency":"soon"}`, "", 400},
		{"fault: unknown action", "POST", "/api/faults", `{"provider":"fcm","action":"explode"}`, "", 400},
		{"fault: status out of range", "POST", "/api/faults", `{"provider":"fcm","action":"respond","status":42}`, "", 400},
		{"fault delete: unknown provider", "DELETE", "/api/faults/hms/f1", ``, "", 400},
		{"fault delete: unknown id", "DELETE", "/api/faults/apns/f999", ``, "", 404},
		{"older: no seq", "GET", "/api/older", ``, "", 400},
		{"older: bad n", "GET", "/api/older?before=10&n=0", ``, "", 400},
	}
	lab.Fleet.Wait()
	time.Sleep(50 * time.Millisecond)
	seq := lab.Bus.Seq()
	contents := lab.Server.Contents()
	states := map[string]devicesim.State{}
	for _, d := range lab.Fleet.Devices() {
		states[d.Name] = d.State()
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, srv, c, nil)
			if code != c.want {
				t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			}
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Fatalf("answer %q carries no error sentence", body)
			}
		})
	}
	if got := lab.Bus.Seq(); got != seq {
		t.Fatalf("bad requests put %d events on the spine: something was sent or changed", got-seq)
	}
	if lab.Server.Contents() != contents {
		t.Fatalf("contents changed to %s", lab.Server.Contents())
	}
	if f := s.faults(); len(f) != 0 {
		t.Fatalf("bad requests added faults: %+v", f)
	}
	for _, d := range lab.Fleet.Devices() {
		if !reflect.DeepEqual(d.State(), states[d.Name]) {
			t.Fatalf("%s changed: %+v → %+v", d.Name, states[d.Name], d.State())
		}
	}
}

func TestControlsDriveTheLab(t *testing.T) {
	lab, s, srv := startDemo(t)
	pixel, _ := lab.Fleet.Device("pixel")

	code, body := do(t, srv, call{method: "POST", path: "/api/send", body: `{"device":"pixel","message":"from a test"}`}, nil)
	if code != 200 || !strings.Contains(body, `"status":"OK"`) {
		t.Fatalf("send: %d %s", code, body)
	}
	lab.Fleet.Wait()
	if n, ok := pixel.Last(); !ok || n.Body != "from a test" {
		t.Fatalf("pixel shows %+v", n)
	}

	if code, body := do(t, srv, call{method: "PUT", path: "/api/contents", body: `{"contents":"id_loaded"}`}, nil); code != 200 {
		t.Fatalf("contents: %d %s", code, body)
	}
	if lab.Server.Contents() != serversim.ContentsIDLoaded {
		t.Fatalf("contents = %s", lab.Server.Contents())
	}

	if code, body := do(t, srv, call{method: "POST", path: "/api/devices/pixel/offline"}, nil); code != 200 {
		t.Fatalf("offline: %d %s", code, body)
	}
	if pixel.State().Online {
		t.Fatal("pixel still online")
	}
	if code, _ := do(t, srv, call{method: "POST", path: "/api/devices/pixel/online"}, nil); code != 200 || !pixel.State().Online {
		t.Fatal("pixel did not come back online")
	}
	oldToken := pixel.Token()
	if code, body := do(t, srv, call{method: "POST", path: "/api/devices/pixel/reinstall"}, nil); code != 200 {
		t.Fatalf("reinstall: %d %s", code, body)
	}
	if pixel.Token() == oldToken {
		t.Fatal("reinstall kept the token")
	}

	code, body = do(t, srv, call{method: "POST", path: "/api/faults", body: `{"provider":"apns","device":"iphone-token","reason":"Unregistered","count":1}`}, nil)
	if code != 201 {
		t.Fatalf("fault: %d %s", code, body)
	}
	var f faultView
	json.Unmarshal([]byte(body), &f)
	if f.Status != 410 || f.Device != "iphone-token" || f.ID == "" || strings.Contains(body, "token\":\"") {
		t.Fatalf("fault %s: want status 410 from the reason, the device named, no token", body)
	}
	if code, _ := do(t, srv, call{method: "POST", path: "/api/faults", body: `{"provider":"fcm","action":"delay","latency":"5ms","percent":50}`}, nil); code != 201 {
		t.Fatal("latency fault refused")
	}
	if n := len(s.faults()); n != 2 {
		t.Fatalf("%d faults, want 2", n)
	}
	if code, _ := do(t, srv, call{method: "DELETE", path: "/api/faults/apns/" + f.ID}, nil); code != 204 {
		t.Fatal("delete fault")
	}
	if code, _ := do(t, srv, call{method: "DELETE", path: "/api/faults"}, nil); code != 204 || len(s.faults()) != 0 {
		t.Fatal("clear faults")
	}

	// The hub reads the spine on its own goroutine: on a busy machine the
	// send's frames may reach its history a moment after the send returned.
	var frames []frame
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body = do(t, srv, call{method: "GET", path: "/api/older?before=1000000&n=5"}, nil)
		frames = nil
		if code != 200 || json.Unmarshal([]byte(body), &frames) != nil {
			t.Fatalf("older: %d %.200s", code, body)
		}
		if len(frames) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("older: no frames after 10 s: %d %.200s", code, body)
		}
	}
}

func TestCrossOriginControlIsRefused(t *testing.T) {
	lab, _, srv := startDemo(t)
	seq := lab.Bus.Seq()
	code, _ := do(t, srv, call{method: "POST", path: "/api/send", body: `{"user_id":"alice","message":"csrf"}`},
		http.Header{"Origin": {"https://evil.example"}})
	if code != 403 {
		t.Fatalf("cross-origin send: %d, want 403", code)
	}
	if lab.Bus.Seq() != seq {
		t.Fatal("a cross-origin request sent a push")
	}
}

func TestControlsNeedALab(t *testing.T) {
	s, err := New(Config{Collect: []string{"ws://127.0.0.1:1/events"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if code, body := do(t, srv, call{method: "POST", path: "/api/send", body: `{"user_id":"alice","message":"x"}`}, nil); code != 503 {
		t.Fatalf("send without a lab: %d %s, want 503", code, body)
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/api/state"}, nil); code != 200 {
		t.Fatal("state must answer without a lab")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{}, {Collect: []string{"http://127.0.0.1/events"}}, {Collect: []string{"::"}}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestAccessToken(t *testing.T) {
	s, err := New(Config{Collect: []string{"ws://127.0.0.1:1/events"}, Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, path := range []string{"/", "/api/state", "/assets/js/app.js"} {
		if code, _ := do(t, srv, call{method: "GET", path: path}, nil); code != 401 {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/api/state"}, http.Header{"Authorization": {"Bearer wrong"}}); code != 401 {
		t.Error("a wrong token was accepted")
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/api/state"}, http.Header{"Authorization": {"Bearer s3cret"}}); code != 200 {
		t.Error("the right token was refused")
	}
	if _, resp, err := dialView(t, srv, "", nil); err == nil || resp.StatusCode != 401 {
		t.Errorf("websocket without the token: %v", err)
	}
	if _, _, err := dialView(t, srv, "?token=s3cret", nil); err != nil {
		t.Errorf("websocket with the token: %v", err)
	}
	// The page link with ?token= sets a cookie and drops the token from the address.
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(srv.URL + "/?token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(resp.Cookies()) != 1 || !resp.Cookies()[0].HttpOnly {
		t.Fatalf("token link: %d %v %v", resp.StatusCode, resp.Header, resp.Cookies())
	}
	if _, _, err := dialView(t, srv, "", http.Header{"Cookie": {resp.Cookies()[0].String()}}); err != nil {
		t.Errorf("websocket with the cookie: %v", err)
	}
}

// fakeListener stands for a listener on a routable address, without binding one.
type fakeListener struct{ addr net.Addr }

func (l fakeListener) Accept() (net.Conn, error) { return nil, errors.New("closed") }
func (l fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr            { return l.addr }

func TestServeOffLoopbackNeedsAToken(t *testing.T) {
	s, err := New(Config{Collect: []string{"ws://127.0.0.1:1/events"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	public := fakeListener{&net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8080}}
	err = s.Serve(context.Background(), public)
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("Serve on %s without a token: %v", public.addr, err)
	}
	if isLoopback(public.addr) || !isLoopback(&net.TCPAddr{IP: net.ParseIP("127.0.0.1")}) || !isLoopback(&net.TCPAddr{IP: net.ParseIP("::1")}) {
		t.Fatal("isLoopback is wrong")
	}
}

func TestRequestsAsTheMocksReceivedThem(t *testing.T) {
	lab, _, srv := startDemo(t)
	res, err := lab.Server.Send(context.Background(), serversim.Message{Device: "iphone-token", Message: "inspect me"})
	if err != nil || len(res) != 1 {
		t.Fatal(res, err)
	}
	code, body := do(t, srv, call{method: "GET", path: "/api/requests?trace=" + res[0].AckID}, nil)
	var recs []recordedView
	if code != 200 || json.Unmarshal([]byte(body), &recs) != nil || len(recs) != 1 {
		t.Fatalf("requests: %d %.300s", code, body)
	}
	r := recs[0]
	if r.Provider != "apns" || r.Status != 200 || r.Headers["apns-topic"] == "" && r.Headers["Apns-Topic"] == "" || len(r.Auth) == 0 {
		t.Fatalf("recorded %+v: want the APNs request with its headers and verified credential", r)
	}
	if strings.Contains(strings.ToLower(body), "bearer ") {
		t.Fatalf("the page would get a credential: %.500s", body)
	}
	for _, d := range lab.Fleet.Devices() {
		if strings.Contains(body, d.Token()) {
			t.Fatalf("the page would get %s's whole token: %.500s", d.Name, body)
		}
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/api/requests"}, nil); code != 400 {
		t.Fatal("requests without a trace or id must be 400")
	}
}

func TestLiveActivityTokensStayOffThePage(t *testing.T) {
	lab, _, srv := startDemo(t)
	app := lab.IOSToken
	app.LiveActivities, app.ActivityTypes = true, []string{"DeliveryAttributes"}
	d, err := lab.Fleet.Add(context.Background(), "iphone-live", "bob", app)
	if err != nil {
		t.Fatal(err)
	}
	act, err := d.StartActivity(context.Background(), "DeliveryAttributes", json.RawMessage(`{"order":"42"}`), json.RawMessage(`{"eta":"5 min"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if act.UpdateToken == "" {
		t.Fatal("a token-updated activity has no update token")
	}
	code, body := do(t, srv, call{method: "GET", path: "/api/state"}, nil)
	if code != 200 || !strings.Contains(body, "DeliveryAttributes") {
		t.Fatalf("state %d lacks the activity: %.300s", code, body)
	}
	if strings.Contains(body, act.UpdateToken) {
		t.Fatal("the page would get a Live Activity's whole update token")
	}
}
