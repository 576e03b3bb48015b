package jsonscan

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

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

// FuzzValid: Valid is json.Valid.
func FuzzValid(f *testing.F) {
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
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// FuzzAppendMembers: the members of an object, last name winning, are what
// decoding it into a map of raw values gives.
func FuzzAppendMembers(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}] } `, `{"a":1,"a":2}`, `{"\u0061":"x","a\"b":null}`,
		`{"aps":{"alert":{"title":"t","body":"b"},"mutable-content":1},"ack_id":"x"}`, `{"k":"\\\"}"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]json.RawMessage
		if !utf8.Valid(b) || json.Unmarshal(b, &want) != nil || want == nil {
			return // not an object, or names decoding would change
		}
		got := map[string]string{}
		for _, m := range AppendMembers(nil, b) {
			got[string(m.Key)] = string(m.Raw)
		}
		if len(got) != len(want) {
			t.Fatalf("AppendMembers(%s): %d names, decoding finds %d", b, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != string(v) {
				t.Fatalf("AppendMembers(%s)[%q] = %s, decoding gives %s", b, k, got[k], v)
			}
		}
	})
}

// FuzzNeedsNoEscape: a string NeedsNoEscape lets through is what
// encoding/json writes between quotes.
func FuzzNeedsNoEscape(f *testing.F) {
	for _, s := range []string{"", "plain text", `a"b`, `a\b`, "<&>", "é", "\x00", "\x7f", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !NeedsNoEscape(s) {
			return
		}
		if q, _ := json.Marshal(s); string(q) != `"`+s+`"` {
			t.Fatalf("NeedsNoEscape(%q), but encoding/json writes %s", s, q)
		}
	})
}
