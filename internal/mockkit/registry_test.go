package mockkit

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// The registry's compact storage hands back what was registered: scopes,
// devices and times survive the round trip, uninstall keeps its time.
func TestRegistryKeepsRegistrations(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	n := 0
	r := NewRegistry(func() string { n++; return "tok" + strconv.Itoa(n) }, func() time.Time { return clock })
	a := r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Production, Device: "d1"})
	b := r.Register(pushtest.Registration{App: "com.b", Project: "p", Device: "d2"})
	c := r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Production, Device: "d3"})
	if a.Token == b.Token || !a.Installed || !a.RegisteredAt.Equal(clock) || !a.LastActiveAt.Equal(clock) {
		t.Fatalf("registered %+v, %+v", a, b)
	}
	clock = clock.Add(time.Hour)
	r.Touch(b.Token)
	got, ok := r.Lookup(b.Token)
	if !ok || got.App != "com.b" || got.Project != "p" || got.Environment != "" || got.Device != "d2" ||
		!got.RegisteredAt.Equal(clock.Add(-time.Hour)) || !got.LastActiveAt.Equal(clock) {
		t.Fatalf("lookup after touch: %+v", got)
	}
	u, ok := r.Uninstall(c.Token)
	if !ok || u.Installed || !u.UninstalledAt.Equal(clock) || u.App != "com.a" || u.Device != "d3" {
		t.Fatalf("uninstalled: %+v", u)
	}
	clock = clock.Add(time.Hour)
	if again, _ := r.Uninstall(c.Token); !again.UninstalledAt.Equal(u.UninstalledAt) {
		t.Fatalf("second uninstall moved the time: %+v", again)
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Fatal("unknown token found")
	}
	if r.Len() != 3 || len(r.List()) != 3 {
		t.Fatalf("len %d, list %v", r.Len(), r.List())
	}
	if got, _ := r.Lookup(a.Token); got.UninstalledAt != (time.Time{}) || !got.Installed {
		t.Fatalf("untouched token: %+v", got)
	}
}

// APNs-shaped tokens (kept as their bytes) and others live side by side;
// the hex shape is looked up as minted, lower case.
func TestRegistryHexTokens(t *testing.T) {
	hexTok := "00ff" + strings.Repeat("a1", 30)
	toks := []string{hexTok, "not-hex", strings.ToUpper(hexTok)[:62] + "zz"}
	i := 0
	r := NewRegistry(func() string { i++; return toks[i-1] }, nil)
	for range toks {
		r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Development, Device: "d"})
	}
	for _, tok := range toks {
		if got, ok := r.Lookup(tok); !ok || got.Token != tok {
			t.Fatalf("lookup %q: %+v %v", tok, got, ok)
		}
	}
	if _, ok := r.Lookup(strings.ToUpper(hexTok)); ok {
		t.Fatal("the upper-case spelling of a minted token was found")
	}
	var listed []string
	for _, reg := range r.List() {
		listed = append(listed, reg.Token)
	}
	slices.Sort(listed)
	want := slices.Clone(toks)
	slices.Sort(want)
	if !slices.Equal(listed, want) || r.Len() != 3 {
		t.Fatalf("listed %q, want %q", listed, want)
	}
}

// A token minted again is a fresh install: the old one's uninstall mark
// does not stay on it.
func TestRegistryTokenMintedAgain(t *testing.T) {
	r := NewRegistry(func() string { return "same" }, nil)
	first := r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Production, Device: "d1"})
	if _, ok := r.Uninstall(first.Token); !ok {
		t.Fatal("uninstall: token not found")
	}
	again := r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Production, Device: "d2"})
	got, ok := r.Lookup(again.Token)
	if !again.Installed || !ok || !got.Installed || !got.UninstalledAt.IsZero() || got.Device != "d2" {
		t.Fatalf("registered again: %+v, looked up %+v", again, got)
	}
}

// A token minted again while its device is online stays online at the
// hub that tracks the registry, and its slot is freed when it goes offline.
func TestRegistryTokenMintedAgainStaysOnline(t *testing.T) {
	r := NewRegistry(func() string { return "same" }, nil)
	h := NewHub(APNsStorage, nil)
	h.Track(r)
	first := r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Production, Device: "d1"})
	var got []pushtest.Delivery
	h.Attach(first.Token, pushtest.ReceiverFunc(func(d pushtest.Delivery) { got = append(got, d) }))
	again := r.Register(pushtest.Registration{App: "com.a", Environment: testpki.Production, Device: "d2"})
	if !h.Online(again.Token) || h.Stats().Online != 1 {
		t.Fatalf("minted again: online %v, %d online", h.Online(again.Token), h.Stats().Online)
	}
	if o := h.Send(pushtest.Delivery{Token: again.Token, ID: "1"}); o != Delivered || len(got) != 1 {
		t.Fatalf("send: %s, %d delivered", o, len(got))
	}
	h.Detach(again.Token)
	if h.Online(again.Token) || h.Stats().Online != 0 {
		t.Fatalf("detached: online %v, %d online", h.Online(again.Token), h.Stats().Online)
	}
}
