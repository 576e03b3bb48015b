package mockkit

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// FuzzValidJSON: ValidJSON answers as json.Valid, whatever the input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		`{"message":{"token":"abc","data":{"a":"b"},"android":{"priority":"high","ttl":"1.5s"}}}`,
		` {"a" : [1, -2.5e+3, 0.1E2, true, false, null, "x\u00e9\n\"", {}, []] } `,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `{,}`, `01`, `-`, `1.`, `1e`, `.5`, `"\x"`, `"\u12g4"`, `"a` + "\x01" + `"`,
		`"` + "\xff\xfe" + `"`, `tru`, `nulll`, `[1] [2]`, ``, ` `, `{"a":{"b":[{"c":[]}]}}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"a":1}}`, `[1}`, `{"a":]`, `"\ud800"`, "\t\r\n[\t1\r]\n",
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
		strings.Repeat(`{"a":`, maxJSONDepth-1) + "{}" + strings.Repeat("}", maxJSONDepth-1),
		strings.Repeat(`{"a":`, maxJSONDepth) + "{}" + strings.Repeat("}", maxJSONDepth),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ValidJSON(b), json.Valid(b); got != want {
			t.Fatalf("ValidJSON(%q) = %v, json.Valid says %v", b, got, want)
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
