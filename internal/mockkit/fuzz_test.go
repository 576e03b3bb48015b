package mockkit

import (
	"encoding/json"
	"testing"

	"github.com/pushlab/pushlab/pushtest"
)

// Fault scripts arrive as JSON on the control API: decoding and validating any
// body must never panic, and a fault that Add accepts must be one Match can fire.
func FuzzFaultJSON(f *testing.F) {
	for _, seed := range []string{
		`{"status":503,"reason":"ServiceUnavailable","retry_after":"5"}`,
		`{"token":"ab","percent":30,"count":2,"action":"reset"}`,
		`{"latency":"250ms"}`, `{"latency":125}`, `{"latency":"-1s","action":"delay"}`,
		`{"action":"goaway","status":200}`, `{"status":"x"}`, `[]`, `{"latency":1e309}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var x pushtest.Fault
		if json.Unmarshal(body, &x) != nil {
			return
		}
		faults := NewFaults(1)
		added, err := faults.Add(x)
		if err != nil {
			return
		}
		if added.Action == "" || added.Percent < 0 || added.Percent > 100 || added.Count < 0 {
			t.Fatalf("Add accepted an invalid fault %+v", added)
		}
		if added.Action == pushtest.Delay && added.Latency <= 0 {
			t.Fatalf("a delay without latency was accepted: %+v", added)
		}
		if (added.Percent == 0 || added.Percent == 100) && added.Token == "" {
			if _, ok := faults.Match("any"); !ok {
				t.Fatalf("an unconditional fault did not fire: %+v", added)
			}
		}
		if _, err := json.Marshal(added); err != nil {
			t.Fatalf("an accepted fault does not encode: %v", err)
		}
	})
}
