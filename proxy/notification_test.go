package proxy

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mmpush"
)

// Every answer is HTTP 200 with upstream's JSON, trailing newline included.
func TestSendPushAnswers(t *testing.T) {
	f := &fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 200}}}
	s, _ := newFakeServer(t, runConfig{}, f)
	cases := []struct {
		name, body, want string
	}{
		{"ok", `{"platform":"fake","server_id":"s","device_id":"d"}`, `{"status":"OK"}`},
		{"ok with a -vN suffix", `{"platform":"fake-v2","server_id":"s","device_id":"d"}`, `{"status":"OK"}`},
		{"not JSON", `hello`, `{"error":"Failed to read message body: invalid character 'h' looking for beginning of value","status":"FAIL"}`},
		{"empty body", ``, `{"error":"Failed to read message body: EOF","status":"FAIL"}`},
		{"wrong type", `{"badge":"three"}`, `{"error":"Failed to read message body: json: cannot unmarshal string into Go struct field PushNotification.badge of type int","status":"FAIL"}`},
		{"missing server_id", `{"platform":"fake","device_id":"d"}`, `{"error":"Failed because of missing server Id","status":"FAIL"}`},
		{"missing device_id", `{"platform":"fake","server_id":"s"}`, `{"error":"Failed because of missing device Id serverId=s","status":"FAIL"}`},
		{"unknown platform", `{"platform":"windows","server_id":"s","device_id":"d"}`,
			`{"error":"Did not send message because of missing platform property type=windows serverId=s","status":"FAIL"}`},
		{"unknown platform after -v", `{"platform":"windows-v2","server_id":"s","device_id":"d"}`,
			`{"error":"Did not send message because of missing platform property type=windows serverId=s","status":"FAIL"}`},
		{"HTML in the error is escaped as upstream's encoder does", `{"platform":"<b>","server_id":"s","device_id":"d"}`,
			`{"error":"Did not send message because of missing platform property type=\u003cb\u003e serverId=s","status":"FAIL"}`},
		{"trailing garbage after the object is ignored", `{"platform":"fake","server_id":"s","device_id":"d"} trailing`, `{"status":"OK"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, s.Handler(), "/api/v1/send_push", c.body)
			if code != http.StatusOK || body != c.want+"\n" {
				t.Fatalf("got %d %q\nwant 200 %q", code, body, c.want+"\n")
			}
		})
	}
}

func TestBadRequestLoggedOnceAndCounted(t *testing.T) {
	f := &fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 200}}}
	var logs *logBuffer
	cfg := runConfig{Config: Config{FileConfig: FileConfig{EnableMetrics: true}}}
	cfg.Logger, logs = testLogger(t)
	s, _ := newFakeServer(t, cfg, f)
	post(t, s.Handler(), "/api/v1/send_push", `{"platform":"fake","device_id":"d"}`)
	if n := strings.Count(logs.String(), "bad request"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, logs)
	}
	if f.count() != 0 {
		t.Fatal("a bad request reached the provider")
	}
	_, metrics := get(t, s.Handler(), "/metrics")
	if !strings.Contains(metrics, `pushlab_proxy_bad_requests_total{endpoint="send_push",reason="Failed because of missing server Id"} 1`) {
		t.Fatalf("metrics:\n%s", metrics)
	}
}

func TestNormalize(t *testing.T) {
	long := strings.Repeat("x", 3000)
	cases := []struct {
		name                  string
		in                    mmpush.PushNotification
		wantPlatform          string
		wantVersion           int
		wantMsgLen, wantChLen int
	}{
		{"plain", mmpush.PushNotification{Platform: "apple"}, "apple", 1, 0, 0},
		{"version suffix", mmpush.PushNotification{Platform: "apple_rn-v2"}, "apple_rn", 2, 0, 0},
		{"unreadable version keeps 1 and strips the suffix", mmpush.PushNotification{Platform: "android-vX"}, "android", 1, 0, 0},
		{"2047 bytes stay", mmpush.PushNotification{Message: long[:2047]}, "", 1, 2047, 0},
		{"2048 bytes become 2046 (upstream's cut)", mmpush.PushNotification{Message: long[:2048]}, "", 1, 2046, 0},
		{"channel name cut to 64", mmpush.PushNotification{ChannelName: long[:65]}, "", 1, 0, 64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.in
			n.ServerID, n.DeviceID = "s", "d"
			v, err := Normalize(&n)
			if err != nil {
				t.Fatal(err)
			}
			if n.Platform != c.wantPlatform || v != c.wantVersion || len(n.Message) != c.wantMsgLen || len(n.ChannelName) != c.wantChLen {
				t.Fatalf("platform %q version %d message %d channel %d", n.Platform, v, len(n.Message), len(n.ChannelName))
			}
		})
	}
	var n mmpush.PushNotification
	if _, err := Normalize(&n); !errors.Is(err, ErrMissingServerID) {
		t.Fatalf("err = %v", err)
	}
	n.ServerID = "s"
	if _, err := Normalize(&n); !errors.Is(err, ErrMissingDeviceID) {
		t.Fatalf("err = %v", err)
	}
}

func TestAck(t *testing.T) {
	bus := events.NewBus()
	s, _ := newFakeServer(t, runConfig{Config: Config{FileConfig: FileConfig{EnableMetrics: true}}, Options: Options{Bus: bus}}, &fakeSender{p: APNs, tries: []outcome{{}}})
	cases := []struct{ name, body, want string }{
		{"ok", `{"id":"ack1","received_at":1700000000000,"platform":"apple","type":"message","post_id":"p","is_id_loaded":true}`, `{"status":"OK"}`},
		{"bad body", `[`, `{"error":"Failed to read ack body: unexpected EOF","status":"FAIL"}`},
		{"missing id", `{"platform":"apple","type":"message"}`, `{"error":"Failed because of missing ack Id","status":"FAIL"}`},
		{"missing platform", `{"id":"a","type":"message"}`, `{"error":"Failed because of missing ack platform","status":"FAIL"}`},
		{"missing type", `{"id":"a","platform":"apple"}`, `{"error":"Failed because of missing ack type","status":"FAIL"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, s.Handler(), "/api/v1/ack", c.body)
			if code != http.StatusOK || body != c.want+"\n" {
				t.Fatalf("got %d %q want %q", code, body, c.want)
			}
		})
	}
	tr := bus.Trace("ack1")
	if len(tr) != 1 || tr[0].Hop != events.ProxyAcked || tr[0].Attrs["post_id"] != "p" || tr[0].Attrs["id_loaded"] != "true" {
		t.Fatalf("trace = %+v", tr)
	}
	_, metrics := get(t, s.Handler(), "/metrics")
	if !strings.Contains(metrics, `pushlab_proxy_acks_total{platform="apple",type="message"} 1`) {
		t.Fatalf("metrics:\n%s", metrics)
	}
}

func TestOtherRoutes(t *testing.T) {
	s, _ := newFakeServer(t, runConfig{Options: Options{Version: "1.2.3", Commit: "abc"}}, &fakeSender{p: APNs, tries: []outcome{{}}})
	if code, body := get(t, s.Handler(), "/"); code != 200 || body != "<html><body>Mattermost Push Proxy</body></html>" {
		t.Errorf("/ = %d %q", code, body)
	}
	if code, body := get(t, s.Handler(), "/version"); code != 200 || !strings.Contains(body, `"GitVersion":"1.2.3","GitCommit":"abc"`) ||
		!strings.Contains(body, `"version":"1.2.3","hash":"abc"`) {
		t.Errorf("/version = %d %s", code, body)
	}
	if code, body := get(t, s.Handler(), "/healthz"); code != 200 || !strings.Contains(body, `"targets":["fake"]`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, _ := get(t, s.Handler(), "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without EnableMetrics = %d", code)
	}
	if code, _ := get(t, s.Handler(), "/api/v1/send_push"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET send_push = %d", code)
	}
}

func TestPanicKeepsServing(t *testing.T) {
	f := &fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 200}}}
	s, _ := newFakeServer(t, runConfig{}, f)
	s.targets["boom"] = &target{appType: "boom", platform: "apple", sender: &panicSender{}}
	if code, _ := post(t, s.Handler(), "/api/v1/send_push", `{"platform":"boom","server_id":"s","device_id":"d"}`); code != 500 {
		t.Fatalf("panic answered %d", code)
	}
	if _, body := post(t, s.Handler(), "/api/v1/send_push", `{"platform":"fake","server_id":"s","device_id":"d"}`); body != `{"status":"OK"}`+"\n" {
		t.Fatalf("after a panic: %q", body)
	}
}

type panicSender struct{ fakeSender }

func (*panicSender) build(*mmpush.PushNotification, int, bool) delivery { panic("boom") }
