package httpjson

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	errBad := errors.New("bad request")
	for _, tc := range []struct {
		name   string
		api    API
		body   string
		status int // 0 = read
		want   string
	}{
		{"ok", API{}, `{"a":"x"}`, 0, ""},
		{"unknown field accepted", API{}, `{"a":"x","b":1}`, 0, ""},
		{"unknown field refused", API{DisallowUnknownFields: true}, `{"a":"x","b":1}`, 400, `{"error":"bad JSON: json: unknown field \"b\""}`},
		{"not JSON", API{}, `{`, 400, `{"error":"bad JSON: unexpected EOF"}`},
		{"BadJSON and status", API{BadJSON: func(err error) error { return errBad }, StatusCode: true}, `{`, 400,
			`{"error":"bad request","status_code":"400"}`},
		{"too large", API{MaxBody: 8}, `{"a":"0123456789"}`, 413, `{"error":"http: request body too large"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			var v struct{ A string }
			ok := tc.api.Read(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body)), &v)
			if ok != (tc.status == 0) {
				t.Fatalf("Read = %v, answered %d %s", ok, w.Code, w.Body)
			}
			if ok {
				return
			}
			if w.Code != tc.status || strings.TrimSpace(w.Body.String()) != tc.want {
				t.Errorf("answered %d %s, want %d %s", w.Code, w.Body, tc.status, tc.want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
