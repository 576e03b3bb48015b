package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzControls feeds arbitrary bodies to the controls that parse JSON: the
// answer is never a 5xx, and a refusal always says why.
func FuzzControls(f *testing.F) {
	_, s, _ := startDemo(f)
	for _, seed := range []struct {
		route uint8
		body  string
	}{
		{0, `{"user_id":"alice","message":"hi"}`},
		{0, `{"type":"update_badge","device":"pixel","badge":3}`},
		{0, `{"device":"pixel","message":"\u0000<script>"}`},
		{1, `{"provider":"apns","device":"iphone-token","reason":"Unregistered","count":1}`},
		{1, `{"provider":"fcm","action":"delay","latency":"1ms","percent":0.5}`},
		{2, `{"contents":"generic"}`},
		{2, `{"contents":null}`},
		{3, ``},
	} {
		f.Add(seed.route, seed.body)
	}
	routes := []struct{ method, path string }{
		{"POST", "/api/send"}, {"POST", "/api/faults"}, {"PUT", "/api/contents"}, {"GET", "/api/older?before=1"},
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := routes[int(route)%len(routes)]
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Error string }
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%s %s %q: %d without an error sentence: %s", r.method, r.path, body, rec.Code, rec.Body)
			}
		}
		if rec.Code == http.StatusCreated && r.path == "/api/faults" {
			s.cfg.Lab.APNs.ClearFaults() // keep the lab answering normally for the next input
			s.cfg.Lab.FCM.ClearFaults()
		}
	})
}
