package mockfcm

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestReadBody: a declared length is read exactly, a body longer than it
// declared is refused, and one of no declared length is read to its end.
func TestReadBody(t *testing.T) {
	read := func(body string, declared int64) (string, error) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.ContentLength = declared
		b, err := readBody(httptest.NewRecorder(), r)
		return string(b), err
	}
	if got, err := read(`{"message":{}}`, 14); err != nil || got != `{"message":{}}` {
		t.Errorf("declared: %q, %v", got, err)
	}
	if got, err := read(`{"message":{}}`, -1); err != nil || got != `{"message":{}}` {
		t.Errorf("undeclared: %q, %v", got, err)
	}
	if _, err := read(`{"message":{}}`, 3); err == nil {
		t.Error("a body longer than its Content-Length was read")
	}
	for _, declared := range []int64{maxBody + 1, -1} {
		var mbe *http.MaxBytesError
		if _, err := read(strings.Repeat(" ", maxBody+1), declared); !errors.As(err, &mbe) {
			t.Errorf("a body past the limit, declared %d: %v", declared, err)
		}
	}
}

// TestWriteNameQuotesAsGoogle: the answer is {"name": %q} whichever way
// writeName writes it.
func TestWriteNameQuotesAsGoogle(t *testing.T) {
	for _, name := range []string{"projects/p/messages/0:1700000000000000%abc", "projects/a b/messages/1", `projects/q"\/messages/1`,
		"projects/\x7f\x01/messages/1", "projects/é/messages/1", "projects/\xff/messages/1"} {
		w := httptest.NewRecorder()
		writeName(w, name)
		if want := "{\n  \"name\": " + strconv.Quote(name) + "\n}\n"; w.Body.String() != want {
			t.Errorf("writeName(%q) = %q, want %q", name, w.Body.String(), want)
		}
		if got := w.Header().Get("Content-Type"); got != "application/json; charset=UTF-8" {
			t.Errorf("Content-Type %q", got)
		}
	}
}

// TestAnswerQuotesAsGoogle: the answer made with the name is {"name": %q},
// the name projects/{project}/messages/{id}, for a usual project and for
// ones writeName has to quote.
func TestAnswerQuotesAsGoogle(t *testing.T) {
	s := &Server{ids: newIDs(1), now: time.Now}
	for _, project := range []string{"pushlab-a", `q"\`, "é", "\x7f"} {
		for _, validateOnly := range []bool{false, true} {
			x := &exchange{project: project}
			x.request.ValidateOnly = validateOnly
			name, answer := s.nameMessage(x)
			if want := "projects/" + project + "/messages/" + x.msgID; name != want {
				t.Errorf("name %q, want %q", name, want)
			}
			if validateOnly != (x.msgID == "fake_message_id") || !validateOnly && !strings.HasPrefix(x.msgID, "0:") {
				t.Errorf("validate_only %v: id %q", validateOnly, x.msgID)
			}
			w := httptest.NewRecorder()
			writeAnswer(w, answer, name)
			if want := "{\n  \"name\": " + strconv.Quote(name) + "\n}\n"; w.Body.String() != want {
				t.Errorf("answer %q, want %q", w.Body.String(), want)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json; charset=UTF-8" {
				t.Errorf("Content-Type %q", got)
			}
		}
	}
}
