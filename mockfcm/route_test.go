package mockfcm

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSendPathAgreesWithTheMux: whatever send path route takes past the
// mux, the mux would have sent to send with the same project.
func TestSendPathAgreesWithTheMux(t *testing.T) {
	mux := http.NewServeMux()
	var got string
	mux.HandleFunc("POST "+sendPrefix+"{project}"+sendSuffix, func(w http.ResponseWriter, r *http.Request) {
		got = r.PathValue("project")
	})
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) { got = "(none)" })
	taken := 0
	for _, target := range []string{
		"/v1/projects/p/messages:send", "/v1/projects/my-project-1/messages:send", "/v1/projects/a%20b/messages:send",
		"/v1/projects/a%2Fb/messages:send", "/v1/projects/a%25b/messages:send", "/v1/projects//messages:send",
		"/v1/projects/./messages:send", "/v1/projects/../messages:send", "/v1/projects/a/b/messages:send",
		"/v1/projects/p/messages:send/", "/v1/projects/p/messages:sendx", "/v1//projects/p/messages:send",
		"/v1/projects/p/./messages:send", "/v1/projects/%70/messages:send", "/v1/projects/p/messages%3Asend",
		"/v2/projects/p/messages:send", "/v1/projects/p/messages:send?x=1", "/v1/projects/p:q/messages:send",
	} {
		for _, method := range []string{"POST", "GET", "PUT"} {
			r := httptest.NewRequest(method, "https://fcm.googleapis.com"+target, nil)
			project, ok := sendPath(r)
			if !ok {
				continue
			}
			taken++
			got = ""
			mux.ServeHTTP(httptest.NewRecorder(), r)
			if got != project {
				t.Errorf("%s %s: route takes it as project %q, the mux as %q", method, target, project, got)
			}
		}
	}
	if taken < 5 {
		t.Fatalf("route took %d requests past the mux; the usual sends should be among them", taken)
	}
}
