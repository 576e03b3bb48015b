package devicesim

import (
	"bytes"
	"encoding/json"
	"testing"
)

// looseString's shortcuts read a value of a decoded document as decoding
// it again would, whatever it holds.
func FuzzLooseStringIsDecoding(f *testing.F) {
	for _, v := range []string{`"plain"`, `"esc\"aped\\"`, `"\u00e9t\u00e9"`, `"héllo 🙂"`, "\"bad \xff utf8\"", `""`,
		`1`, `-0.5e10`, `1E+2`, `true`, `false`, `null`, `{"name":"x"}`, `[1,2]`, `"<&>"`} {
		f.Add([]byte(`{"k":` + v + `}`))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var top map[string]json.RawMessage
		if json.Unmarshal(doc, &top) != nil {
			return
		}
		for k, raw := range top {
			if got, want := looseString(raw), decodeLooseString(raw); got != want {
				t.Errorf("%q: %q (%q), decoding gives %q", k, got, bytes.TrimSpace(raw), want)
			}
		}
	})
}
