package pushtest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A Fault's JSON is the control API's: the latency as a duration string
// (milliseconds accepted), snake_case names, and no unknown field.
func TestFaultJSON(t *testing.T) {
	f := Fault{ID: "f1", Token: "tok", Percent: 30, Count: 2, Action: AcceptLate, Status: 503,
		Reason: "ServiceUnavailable", RetryAfter: "5", Latency: 1500 * time.Millisecond, Hits: 1}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"f1","token":"tok","percent":30,"count":2,"action":"accept_late","status":503,"reason":"ServiceUnavailable","retry_after":"5","hits":1,"latency":"1.5s"}`
	if string(b) != want {
		t.Errorf("Marshal = %s\nwant      %s", b, want)
	}
	var back Fault
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Errorf("round trip: %+v, %v; want %+v", back, err, f)
	}
	if err := json.Unmarshal([]byte(`{"latency":125}`), &back); err != nil || back.Latency != 125*time.Millisecond {
		t.Errorf("milliseconds: %v, %v", back.Latency, err)
	}
	if err := json.Unmarshal([]byte(`{"lateny":"1s"}`), &back); err == nil || !strings.Contains(err.Error(), "lateny") {
		t.Errorf("a misspelt field: %v", err)
	}
}

// A Registration names its environment or its project, and keeps "env" for
// the control API's older clients.
func TestRegistrationJSON(t *testing.T) {
	for _, c := range []struct {
		reg  Registration
		want string
	}{
		{Registration{Token: "t", App: "com.example", Environment: "production"}, `"environment":"production",`},
		{Registration{Token: "t", App: "com.example", Project: "p-1"}, `"project":"p-1",`},
	} {
		b, err := json.Marshal(c.reg)
		if err != nil {
			t.Fatal(err)
		}
		env := string(c.reg.Environment) + c.reg.Project
		if !strings.Contains(string(b), c.want) || !strings.Contains(string(b), `"env":"`+env+`"`) {
			t.Errorf("Marshal = %s, want %s and env %s", b, c.want, env)
		}
		var back Registration
		if err := json.Unmarshal(b, &back); err != nil || back.Environment != c.reg.Environment || back.Project != c.reg.Project {
			t.Errorf("round trip: %+v, %v", back, err)
		}
	}
}
