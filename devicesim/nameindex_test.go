package devicesim

import "testing"

// Names whose hashes collide are all found, each at its own index, and a
// name never added is not, whatever its hash.
func TestNameIndexCollisions(t *testing.T) {
	x := newNameIndex(0)
	x.hash = func(name string) uint64 { return uint64(len(name)) } // "a" and "b" collide
	var order []*Device
	for _, name := range []string{"a", "bb", "b", "c"} {
		if _, dup := x.find(name, order); dup {
			t.Fatalf("%q found before it was added", name)
		}
		if !x.add(name, len(order), order) {
			t.Fatalf("%q refused before it was added", name)
		}
		order = append(order, &Device{Name: name})
	}
	for _, name := range []string{"a", "bb", "b", "c"} {
		if x.add(name, len(order), order) {
			t.Errorf("%q added twice", name)
		}
	}
	for want, name := range []string{"a", "bb", "b", "c"} {
		if i, ok := x.find(name, order); !ok || i != want {
			t.Errorf("find(%q) = %d, %v; want %d", name, i, ok, want)
		}
	}
	for _, name := range []string{"d", "cc", ""} {
		if i, ok := x.find(name, order); ok {
			t.Errorf("find(%q) = %d, never added", name, i)
		}
	}
	if len(x.collided) != 2 {
		t.Errorf("%d names kept whole, want 2 (b, c)", len(x.collided))
	}
}
