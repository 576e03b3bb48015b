package mockkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/pushtest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type inbox struct {
	mu  sync.Mutex
	got []pushtest.Delivery
}

func (b *inbox) Deliver(d pushtest.Delivery) {
	b.mu.Lock()
	b.got = append(b.got, d)
	b.mu.Unlock()
}

func (b *inbox) ids() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for _, d := range b.got {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestHubStoragePolicies(t *testing.T) {
	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	type send struct {
		id, collapse string
		ttl          time.Duration // 0: no expiry
		nowOrNever   bool
	}
	cases := []struct {
		name      string
		policy    StoragePolicy
		sends     []send
		advance   time.Duration
		want      []string
		wantDrops map[string]string
	}{
		{
			name:      "apns keeps only the last",
			policy:    APNsStorage,
			sends:     []send{{id: "a"}, {id: "b"}, {id: "c"}},
			want:      []string{"c"},
			wantDrops: map[string]string{"a": DropCoalesced, "b": DropCoalesced},
		},
		{
			name:      "apns now-or-never is dropped offline",
			policy:    APNsStorage,
			sends:     []send{{id: "a"}, {id: "b", nowOrNever: true}},
			want:      []string{"a"},
			wantDrops: map[string]string{"b": DropNowOrNever},
		},
		{
			name:      "expired while offline",
			policy:    APNsStorage,
			sends:     []send{{id: "a", ttl: time.Minute}},
			advance:   2 * time.Minute,
			want:      nil,
			wantDrops: map[string]string{"a": DropExpired},
		},
		{
			name:    "fcm keeps up to 100 in order",
			policy:  FCMStorage,
			sends:   []send{{id: "a"}, {id: "b", ttl: time.Hour}, {id: "c"}},
			advance: time.Minute,
			want:    []string{"a", "b", "c"},
		},
		{
			name:      "fcm collapse key replaces",
			policy:    FCMStorage,
			sends:     []send{{id: "a", collapse: "k"}, {id: "b"}, {id: "c", collapse: "k"}},
			want:      []string{"b", "c"},
			wantDrops: map[string]string{"a": DropCoalesced},
		},
		{
			name:      "fcm at most four collapse keys",
			policy:    FCMStorage,
			sends:     []send{{id: "1", collapse: "k1"}, {id: "2", collapse: "k2"}, {id: "3", collapse: "k3"}, {id: "4", collapse: "k4"}, {id: "5", collapse: "k5"}},
			want:      []string{"2", "3", "4", "5"},
			wantDrops: map[string]string{"1": DropCoalesced},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{start}
			h := NewHub(tc.policy, c.now)
			drops := map[string]string{}
			h.OnDrop = func(d pushtest.Delivery, why string) { drops[d.ID] = why }
			for _, s := range tc.sends {
				d := pushtest.Delivery{Token: "tok", ID: s.id, CollapseKey: s.collapse, NowOrNever: s.nowOrNever}
				if s.ttl > 0 {
					d.Expiry = c.t.Add(s.ttl)
				}
				h.Send(d)
			}
			c.t = c.t.Add(tc.advance)
			in := &inbox{}
			if n := h.Attach("tok", in); n != len(tc.want) {
				t.Fatalf("Attach handed over %d, want %d", n, len(tc.want))
			}
			if got := in.ids(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("delivered %v, want %v", got, tc.want)
			}
			for _, d := range in.got {
				if !d.Stored {
					t.Fatalf("%s: a handed-over delivery must be marked Stored", d.ID)
				}
			}
			if fmt.Sprint(drops) != fmt.Sprint(orEmpty(tc.wantDrops)) {
				t.Fatalf("drops %v, want %v", drops, tc.wantDrops)
			}
		})
	}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func TestHubFCMOverflowDiscardsAll(t *testing.T) {
	h := NewHub(FCMStorage, nil)
	dropped := 0
	h.OnDrop = func(_ pushtest.Delivery, why string) {
		if why == DropOverflow {
			dropped++
		}
	}
	for i := range 101 {
		h.Send(pushtest.Delivery{Token: "tok", ID: fmt.Sprint(i)})
	}
	if got := len(h.Pending("tok")); got != 0 {
		t.Fatalf("%d pending after overflow, want 0 (FCM discards all)", got)
	}
	if dropped != 101 {
		t.Fatalf("dropped %d, want 101", dropped)
	}
}

func TestHubOnlineDeliversAndForget(t *testing.T) {
	h := NewHub(APNsStorage, nil)
	in := &inbox{}
	h.Attach("tok", in)
	if got := h.Send(pushtest.Delivery{Token: "tok", ID: "x"}); got != Delivered {
		t.Fatalf("outcome %s", got)
	}
	h.Detach("tok")
	if got := h.Send(pushtest.Delivery{Token: "tok", ID: "y"}); got != Stored {
		t.Fatalf("outcome %s", got)
	}
	h.Forget("tok")
	if len(h.Pending("tok")) != 0 || h.Online("tok") {
		t.Fatal("Forget must drop the outbox and take the token offline")
	}
	if got := in.ids(); fmt.Sprint(got) != "[x]" {
		t.Fatalf("delivered %v", got)
	}
}

func TestGatewayMultiplexesDevices(t *testing.T) {
	h := NewHub(APNsStorage, nil)
	h.Send(pushtest.Delivery{Token: "t2", ID: "stored-for-t2", Payload: []byte(`{"aps":{}}`)})
	srv := httptest.NewServer(h.GatewayHandler(nil))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gc, err := DialGateway(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	in1, in2 := &inbox{}, &inbox{}
	gc.Attach("t1", in1)
	gc.Attach("t2", in2)
	waitFor(t, func() bool { return h.Online("t1") && h.Online("t2") })
	h.Send(pushtest.Delivery{Token: "t1", ID: "live-for-t1"})
	waitFor(t, func() bool { return len(in1.ids()) == 1 && len(in2.ids()) == 1 })
	if in1.ids()[0] != "live-for-t1" || in2.ids()[0] != "stored-for-t2" || string(in2.got[0].Payload) != `{"aps":{}}` {
		t.Fatalf("t1 got %v, t2 got %v", in1.ids(), in2.ids())
	}
	gc.Detach("t1")
	waitFor(t, func() bool { return !h.Online("t1") })
	gc.Close()
	waitFor(t, func() bool { return !h.Online("t2") })
	if got := h.Send(pushtest.Delivery{Token: "t2", ID: "later"}); got != Stored {
		t.Fatalf("after the gateway closed, outcome %s, want stored", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFaultsScript(t *testing.T) {
	f := NewFaults(42)
	if _, err := f.Add(pushtest.Fault{Status: 700}); err == nil {
		t.Fatal("status 700 accepted")
	}
	if _, err := f.Add(pushtest.Fault{Action: "explode"}); err == nil {
		t.Fatal("unknown action accepted")
	}
	if _, err := f.Add(pushtest.Fault{Status: 503, Percent: 120}); err == nil {
		t.Fatal("percent 120 accepted")
	}
	only, _ := f.Add(pushtest.Fault{Token: "dead", Status: 410, Reason: "Unregistered"})
	next2, _ := f.Add(pushtest.Fault{Status: 503, Reason: "ServiceUnavailable", RetryAfter: "1", Count: 2})
	if only.Action != pushtest.Respond || next2.ID == only.ID {
		t.Fatalf("faults %+v %+v", only, next2)
	}
	if got, ok := f.Match("dead"); !ok || got.Status != 410 {
		t.Fatalf("token fault: %+v %v", got, ok)
	}
	for i := range 2 {
		if got, ok := f.Match("other"); !ok || got.ID != next2.ID {
			t.Fatalf("request %d: %+v %v", i, got, ok)
		}
	}
	if _, ok := f.Match("other"); ok {
		t.Fatal("a count-2 fault fired a third time")
	}
	if len(f.List()) != 1 || f.List()[0].Hits != 1 {
		t.Fatalf("list %+v", f.List())
	}
}

func TestFaultsPercentIsReproducible(t *testing.T) {
	run := func(seed uint64) string {
		f := NewFaults(seed)
		f.Add(pushtest.Fault{Status: 500, Percent: 30})
		var b strings.Builder
		for range 200 {
			_, ok := f.Match("t")
			b.WriteString(map[bool]string{true: "x", false: "."}[ok])
		}
		return b.String()
	}
	a, b := run(7), run(7)
	if a != b {
		t.Fatal("the same seed gave two sequences")
	}
	if a == run(8) {
		t.Fatal("another seed gave the same sequence")
	}
	if n := strings.Count(a, "x"); n < 30 || n > 90 {
		t.Fatalf("30%% fault fired %d/200 times", n)
	}
}

func TestRecorderKeepsLastN(t *testing.T) {
	r := NewRecorder(3)
	for i := range 5 {
		r.Add(pushtest.Request{Path: fmt.Sprint(i)})
	}
	got := r.Since(0)
	if len(got) != 3 || got[0].Path != "2" || got[2].Seq != 5 {
		t.Fatalf("kept %+v", got)
	}
	if got := r.Since(4); len(got) != 1 || got[0].Path != "4" {
		t.Fatalf("since 4: %+v", got)
	}
}

func TestControlMetrics(t *testing.T) {
	hub := NewHub(APNsStorage, nil)
	reg := NewRegistry(func() string { return fmt.Sprint(time.Now().UnixNano()) }, nil)
	rec := NewRecorder(10)
	c := &Control{Provider: "apns", Faults: NewFaults(1), Registry: reg, Recorder: rec, Hub: hub}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()

	a := reg.Register(pushtest.Registration{App: "com.example", Environment: "production", Device: "d1"})
	b := reg.Register(pushtest.Registration{App: "com.example", Environment: "production", Device: "d2"})
	reg.Uninstall(b.Token)
	hub.Attach(a.Token, &inbox{})
	hub.Send(pushtest.Delivery{Token: a.Token})
	hub.Send(pushtest.Delivery{Token: b.Token})
	hub.Send(pushtest.Delivery{Token: b.Token}) // coalesces the first
	rec.Add(pushtest.Request{Status: 200})
	rec.Add(pushtest.Request{Status: 400, Reason: "BadDeviceToken"})
	rec.Add(pushtest.Request{Status: 400, Reason: "BadDeviceToken"})

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`pushlab_mock_requests_total{provider="apns",reason="BadDeviceToken",status="400"} 2`,
		`pushlab_mock_requests_total{provider="apns",reason="",status="200"} 1`,
		`pushlab_mock_pushes_total{outcome="delivered",provider="apns"} 1`,
		`pushlab_mock_pushes_total{outcome="stored",provider="apns"} 2`,
		`pushlab_mock_dropped_total{provider="apns",reason="coalesced"} 1`,
		`pushlab_mock_tokens{installed="true",provider="apns"} 1`,
		`pushlab_mock_tokens{installed="false",provider="apns"} 1`,
		`pushlab_mock_devices_online{provider="apns"} 1`,
		`pushlab_mock_pending{provider="apns"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s\n%s", want, body)
		}
	}
}

// A hub that keeps its online state on the registry's entries behaves as
// one with a map of its own, for the tokens the registry issued and for
// those it did not, and slots are used again.
func TestHubTrackedByRegistry(t *testing.T) {
	n := 0
	reg := NewRegistry(func() string { n++; return fmt.Sprintf("%064x", n) }, nil)
	h := NewHub(APNsStorage, nil)
	h.Track(reg)
	a := reg.Register(pushtest.Registration{App: "com.a", Device: "a"}).Token
	b := reg.Register(pushtest.Registration{App: "com.a", Device: "b"}).Token
	inA, inB, inX := &inbox{}, &inbox{}, &inbox{}
	h.Attach(a, inA)
	h.Attach(b, inB)
	h.Attach("made-up", inX) // a token the registry never issued
	if st := h.Stats(); st.Online != 3 || !h.Online(a) || !h.Online(b) || !h.Online("made-up") {
		t.Fatalf("online: %d", st.Online)
	}
	h.Send(pushtest.Delivery{Token: a, ID: "a1"})
	h.Send(pushtest.Delivery{Token: b, ID: "b1"})
	h.Send(pushtest.Delivery{Token: "made-up", ID: "x1"})
	h.Attach(a, inB) // a new receiver takes the token's slot over
	h.Send(pushtest.Delivery{Token: a, ID: "a2"})
	if fmt.Sprint(inA.ids(), inB.ids(), inX.ids()) != "[a1] [b1 a2] [x1]" {
		t.Fatalf("delivered %v %v %v", inA.ids(), inB.ids(), inX.ids())
	}
	h.Detach(b)
	if got := h.Send(pushtest.Delivery{Token: b, ID: "b2"}); got != Stored || h.Online(b) || h.Stats().Online != 2 {
		t.Fatalf("after Detach: outcome %s, online %d", got, h.Stats().Online)
	}
	h.Attach(b, inA) // the stored push follows, through a slot used again
	if fmt.Sprint(inA.ids()) != "[a1 b2]" || len(h.slots) != 3 {
		t.Fatalf("delivered %v, %d slots", inA.ids(), len(h.slots))
	}
	// A gateway that goes away takes offline only its own tokens.
	h.DetachReceiver(func(r pushtest.Receiver) bool { return r == inB || r == inX })
	if h.Online(a) || !h.Online(b) || h.Online("made-up") || h.Stats().Online != 1 {
		t.Fatalf("after DetachReceiver: a %v b %v made-up %v", h.Online(a), h.Online(b), h.Online("made-up"))
	}
	h.Forget(b)
	if h.Online(b) || h.Stats().Online != 0 {
		t.Fatal("Forget must take the token offline")
	}
	if r, ok := reg.Lookup(a); !ok || !r.Installed || r.Device != "a" {
		t.Fatalf("the registry's view changed: %+v", r)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a registry serving two hubs must panic")
		}
	}()
	NewHub(APNsStorage, nil).Track(reg)
}
