package mockkit

import (
	"regexp"
	"strings"
	"testing"
)

var fcmShape = regexp.MustCompile(`^[A-Za-z0-9_-]{22}:APA91b[A-Za-z0-9_-]{134}$`)

func TestIDTokenShape(t *testing.T) {
	a, b := IDToken([16]byte{1}), IDToken([16]byte{2})
	if !fcmShape.MatchString(a) || len(a) != IDTokenLen || IDTokenLen != 163 {
		t.Fatalf("IDToken = %q (%d characters), not FCM's shape", a, len(a))
	}
	if a == b || a[29:] == b[29:] {
		t.Fatalf("two ids give the same text: %q, %q", a, b)
	}
	if IDToken([16]byte{1}) != a {
		t.Fatal("IDToken is not deterministic")
	}
}

func TestTokenMapKeepsIDTokensByID(t *testing.T) {
	m := newTokenMap[int]()
	tok := IDToken([16]byte{7, 7, 7})
	m.put(tok, 1)
	if len(m.ids) != 1 || len(m.others) != 0 {
		t.Fatalf("id token kept as %d ids, %d strings", len(m.ids), len(m.others))
	}
	if v, ok := m.get(tok); !ok || v != 1 {
		t.Fatalf("get = %d, %v", v, ok)
	}
	// Same id characters, other rest: another token, not found, and kept
	// apart when put.
	forged := tok[:len(tok)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(tok, "A")]
	if _, ok := m.get(forged); ok {
		t.Fatal("a token sharing only the id was found")
	}
	m.put(forged, 2)
	if v, _ := m.get(tok); v != 1 || m.len() != 2 || len(m.others) != 1 {
		t.Fatalf("after putting the forged token: get = %d, len %d, strings %d", v, m.len(), len(m.others))
	}
	seen := map[string]int{}
	for k, v := range m.all() {
		seen[k] = v
	}
	if seen[tok] != 1 || seen[forged] != 2 || len(seen) != 2 {
		t.Fatalf("all = %v", seen)
	}
	m.delete(tok)
	if _, ok := m.get(tok); ok || m.len() != 1 {
		t.Fatalf("after delete: found %v, len %d", ok, m.len())
	}
}

func TestTokenMapOtherShapes(t *testing.T) {
	m := newTokenMap[int]()
	apns := strings.Repeat("ab", 32)
	custom := strings.Repeat("x", 22) + ":APA91b" + strings.Repeat("y", 134)
	upper := strings.ToUpper(IDToken([16]byte{3})[:22]) + IDToken([16]byte{3})[22:]
	for i, tok := range []string{apns, custom, upper} {
		m.put(tok, i+1)
	}
	for i, tok := range []string{apns, custom, upper} {
		if v, ok := m.get(tok); !ok || v != i+1 {
			t.Errorf("get(%q) = %d, %v", tok, v, ok)
		}
	}
	if len(m.hex) != 1 || len(m.others) != 2 || len(m.ids) != 0 {
		t.Fatalf("kept as %d hex, %d ids, %d strings", len(m.hex), len(m.ids), len(m.others))
	}
}

func FuzzTokenMapID(f *testing.F) {
	f.Add(IDToken([16]byte{9}))
	f.Add(strings.Repeat("x", 22) + ":APA91b" + strings.Repeat("y", 134))
	f.Add(strings.Repeat("A", 163))
	f.Fuzz(func(t *testing.T, token string) {
		id, ok := asIDToken(token)
		if ok && IDToken(id) != token {
			t.Fatalf("asIDToken(%q) = %x, whose token is %q", token, id, IDToken(id))
		}
		m := newTokenMap[int]()
		m.put(token, 1)
		if v, ok := m.get(token); !ok || v != 1 {
			t.Fatalf("get after put = %d, %v", v, ok)
		}
		for k := range m.all() {
			if k != token {
				t.Fatalf("all yields %q for %q", k, token)
			}
		}
	})
}

// BenchmarkTokenMapGet is what a look-up of an FCM token costs: the first
// (its text is checked against its id's expansion) and again (a send looks
// its token up several times).
func BenchmarkTokenMapGet(b *testing.B) {
	m := newTokenMap[int]()
	// Ids with the same first byte: each look-up of the next one is a first.
	var toks [4]string
	for i := range toks {
		toks[i] = IDToken([16]byte{5, byte(i)})
		m.put(toks[i], 1)
	}
	b.Run("first", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, ok := m.get(toks[i%len(toks)]); !ok {
				b.Fatal("not found")
			}
			i++
		}
	})
	b.Run("again", func(b *testing.B) {
		for b.Loop() {
			if _, ok := m.get(toks[0]); !ok {
				b.Fatal("not found")
			}
		}
	})
}
