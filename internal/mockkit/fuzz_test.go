package mockkit

import (
	"encoding/json"
	"strconv"
	"strings"
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

// FuzzValueEnd: ValueEnd finds the end of any string literal, however its
// backslashes and quotes fall, and of a value holding it.
func FuzzValueEnd(f *testing.F) {
	for _, s := range []string{"", `a"b`, `a\`, `\\"`, `\"\\`, "é\u2028<>&", "\x00\x1f"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, ascii bool) {
		lit, _ := json.Marshal(s)
		if ascii { // as a client might write it: every escape it may use
			lit = []byte(strconv.QuoteToASCII(s))
			if !json.Valid(lit) {
				return
			}
		}
		if got := ValueEnd(append(lit, ",1"...), 0); got != len(lit) {
			t.Fatalf("ValueEnd(%s) = %d, want %d", lit, got, len(lit))
		}
		obj := append(append([]byte(`{"k":[`), lit...), `,{"x":1}]}`...)
		if got := ValueEnd(append(obj, ' '), 0); got != len(obj) {
			t.Fatalf("ValueEnd(%s) = %d, want %d", obj, got, len(obj))
		}
	})
}

// FuzzValidJSON: ValidJSON is json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`,
		`01`, `-0.5e+10`, `-`, `1.`, `1e`, `.5`, `tru`, `true false`, `"\x"`, `"\u12g4"`, "\"\x01\"", "\"\xff\xfe\"",
		`{"aps":{"alert":{"title":"t","body":"b"},"mutable-content":1},"ack_id":"x"}`,
		strings.Repeat("[", 70) + strings.Repeat("]", 70), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65), `[1]]`, `{"a":1}}`, `[}`, `{]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ValidJSON(b), json.Valid(b); got != want {
			t.Fatalf("ValidJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
