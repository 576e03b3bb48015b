package mockkit

import (
	"encoding/json"
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
