package mockkit

import (
	"encoding/hex"
	"iter"
)

// tokenMap maps device tokens to V. A mock may hold a million tokens, so
// those of APNs's shape (64 lowercase hex digits) are kept as their 32 bytes,
// the map key itself: half the size, and no allocation of their own; those
// IDToken made (mockfcm's) as their 16-byte id. Others (a token a test made
// up) are kept as they are. The zero value is not ready: use newTokenMap.
type tokenMap[V any] struct {
	hex    map[hexToken]V
	ids    map[tokenID]V
	others map[string]V
}

// hexToken is a token of 64 lowercase hex digits as its bytes.
type hexToken [32]byte

func newTokenMap[V any]() tokenMap[V] {
	return tokenMap[V]{hex: map[hexToken]V{}, ids: map[tokenID]V{}, others: map[string]V{}}
}

func (m tokenMap[V]) get(token string) (V, bool) {
	if k, ok := asHex(token); ok {
		v, ok := m.hex[k]
		return v, ok
	}
	if id, ok := asIDToken(token); ok {
		v, ok := m.ids[id]
		return v, ok
	}
	v, ok := m.others[token]
	return v, ok
}

func (m tokenMap[V]) put(token string, v V) {
	if k, ok := asHex(token); ok {
		m.hex[k] = v
		return
	}
	if id, ok := asIDToken(token); ok {
		m.ids[id] = v
		return
	}
	m.others[token] = v
}

func (m tokenMap[V]) delete(token string) {
	if k, ok := asHex(token); ok {
		delete(m.hex, k)
		return
	}
	if id, ok := asIDToken(token); ok {
		delete(m.ids, id)
		return
	}
	delete(m.others, token)
}

// update replaces every value v for which f(v) returns a new one, without
// spelling out the tokens.
func (m tokenMap[V]) update(f func(V) (V, bool)) {
	updateMap(m.hex, f)
	updateMap(m.ids, f)
	updateMap(m.others, f)
}

func updateMap[K comparable, V any](m map[K]V, f func(V) (V, bool)) {
	for k, v := range m {
		if nv, changed := f(v); changed {
			m[k] = nv
		}
	}
}

func (m tokenMap[V]) len() int { return len(m.hex) + len(m.ids) + len(m.others) }

// all yields every token and its value (order unspecified); the map may be
// changed while it runs, as a Go map may.
func (m tokenMap[V]) all() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for t, v := range m.others {
			if !yield(t, v) {
				return
			}
		}
		for k, v := range m.hex {
			if !yield(hex.EncodeToString(k[:]), v) {
				return
			}
		}
		for id, v := range m.ids {
			if !yield(IDToken(id), v) {
				return
			}
		}
	}
}

// asHex is token as a hexToken, if it has that shape (upper case not: a
// token is kept as it was minted).
func asHex(token string) (k hexToken, ok bool) {
	if len(token) != 2*len(k) {
		return k, false
	}
	for i := range k {
		hi, ok1 := hexDigit(token[2*i])
		lo, ok2 := hexDigit(token[2*i+1])
		if !ok1 || !ok2 {
			return k, false
		}
		k[i] = hi<<4 | lo
	}
	return k, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
