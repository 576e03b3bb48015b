package mockkit

import (
	"bytes"
	"unicode/utf8"
)

// Helpers for the mocks' fast paths, which read the few members they need
// straight from a body that json.Valid has accepted, instead of building
// maps or decoder tokens per request.

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

// IsPlainString reports whether PlainString would take raw.
func IsPlainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	raw = raw[1 : len(raw)-1]
	return bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)
}
