// Package jsonscan reads JSON in place, for the hot paths of the mocks and the
// phones: a request body or a push is checked once (Valid, json.Valid's
// answer several times faster) and then only the few members a reader needs
// are found where they lie, instead of decoding the document into maps.
// Anything unusual (escapes, deep nesting) is left to encoding/json by the
// callers. The fuzz targets hold every function here to encoding/json.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// SkipSpace returns the index of the first byte at or after i of b that is
// not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// ValueEnd returns the end of the JSON value that starts at b[i]; b must be
// valid JSON (json.Valid) and b[i] the value's first byte.
func ValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; ; i++ {
			i += bytes.IndexByte(b[i:], '"') // found: b is valid
			backslashes := 0
			for j := i - 1; b[j] == '\\'; j-- {
				backslashes++
			}
			if backslashes%2 == 0 { // not escaped
				return i + 1
			}
		}
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = ValueEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r', ',', '}', ']':
			return i
		}
		i++
	}
	return i
}

// PlainString returns the JSON string literal raw as a Go string when
// nothing in it needs decoding (no escapes, valid UTF-8); ok is false
// otherwise, and the caller leaves it to encoding/json.
func PlainString(raw []byte) (s string, ok bool) {
	if !IsPlainString(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

// NeedsNoEscape reports whether s is printable ASCII that encoding/json
// writes between quotes as it is (no escapes, no HTML characters), so a
// writer may copy it verbatim; false sends it to encoding/json.
func NeedsNoEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// IsPlainString reports whether PlainString would take raw.
func IsPlainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	raw = raw[1 : len(raw)-1]
	return bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)
}

// Valid reports what json.Valid(b) does, several times faster: the mocks
// and the phones check every body before reading it in place, and
// encoding/json's scanner, a function call per byte, was the largest part
// of a push's own cost in mockapns. Containers nested deeper than it keeps
// track of go to json.Valid (and its depth limit). FuzzValid holds it
// to json.Valid.
func Valid(b []byte) bool {
	var open [64]byte // the containers open around i: '{' or '['
	depth := 0
	i := SkipSpace(b, 0)
	for {
		// A value starts at i.
		if i >= len(b) {
			return false
		}
		ok := true
		switch c := b[i]; c {
		case '{', '[':
			if depth == len(open) {
				return json.Valid(b)
			}
			i = SkipSpace(b, i+1)
			if i < len(b) && b[i] == closer(c) {
				i++
				break // empty: the value ends here
			}
			open[depth] = c
			depth++
			if c == '{' {
				if i, ok = member(b, i); !ok {
					return false
				}
			}
			continue // its first value starts at i
		case '"':
			i, ok = stringEnd(b, i)
		case 't':
			i, ok = literalEnd(b, i, "true")
		case 'f':
			i, ok = literalEnd(b, i, "false")
		case 'n':
			i, ok = literalEnd(b, i, "null")
		default:
			i, ok = numberEnd(b, i)
		}
		if !ok {
			return false
		}
		// A value ended at i: a comma and the next, or the end of its
		// container (and maybe of the ones around it), or of b.
		for {
			i = SkipSpace(b, i)
			if depth == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			if b[i] == ',' {
				i = SkipSpace(b, i+1)
				if open[depth-1] == '{' {
					if i, ok = member(b, i); !ok {
						return false
					}
				}
				break
			}
			if b[i] != closer(open[depth-1]) {
				return false
			}
			depth--
			i++
		}
	}
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

// member reads an object member's name and colon at b[i:]; it returns
// where its value starts.
func member(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	i, ok := stringEnd(b, i)
	if !ok {
		return i, false
	}
	if i = SkipSpace(b, i); i >= len(b) || b[i] != ':' {
		return i, false
	}
	return SkipSpace(b, i+1), true
}

// stringEnd returns the end of the string literal at b[i]: no control
// characters, only JSON's escapes (any other byte passes, as json.Valid
// does not check UTF-8).
func stringEnd(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		for i < len(b) && !stringStop[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i++; i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

// numberEnd returns the end of the number at b[i]: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func numberEnd(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digitsEnd(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, false
		}
		i = digitsEnd(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, false
		}
		i = digitsEnd(b, i)
	}
	return i, true
}

// stringStop are the bytes stringEnd stops at: the end, an escape, a
// control character.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func digitsEnd(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func literalEnd(b []byte, i int, lit string) (int, bool) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return i, false
	}
	return i + len(lit), true
}
