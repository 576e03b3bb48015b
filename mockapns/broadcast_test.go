package mockapns

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/testpki"
	"golang.org/x/net/http2"
)

// h2 is a raw golang.org/x/net/http2 client (apns2 has no broadcast
// support) speaking to the mock with a provider token.
type h2 struct {
	t      *testing.T
	c      *http.Client
	bearer string
}

func newH2(t *testing.T, f *fixture) *h2 {
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: f.s.CertPool()}}
	return &h2{t: t, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}, bearer: bearerFor(t, f.set.APNsKey)}
}

type answer struct {
	status  int
	reason  string
	header  http.Header
	body    []byte
	channel string
}

func (h *h2) do(method, url string, hdr map[string]string, body string) answer {
	h.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "bearer "+h.bearer)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: b, channel: resp.Header.Get("Apns-Channel-Id")}
	var e struct{ Reason string }
	if json.Unmarshal(b, &e) == nil {
		a.reason = e.Reason
	}
	return a
}

func laUpdate(ts int64, score string) string {
	return `{"aps":{"timestamp":` + itoa(ts) + `,"event":"update","content-state":{"score":"` + score + `"}}}`
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

// TestBroadcastChannels drives channel management and broadcast sends the
// way Apple documents them, with a raw HTTP/2 client: create (201,
// apns-channel-id), read, list, broadcast to every subscriber, the most
// recent message handed to a late subscriber when the channel keeps it
// (and not when it does not), delete, and each reason.
func TestBroadcastChannels(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxChannels = 2 })
	h := newH2(t, f)
	app := f.set.BundleID
	manage := f.s.ChannelsURL + "/1/apps/" + app + "/channels"

	created := h.do("POST", manage, map[string]string{"apns-request-id": "5e1c6e2a-0000-4000-8000-000000000001"}, `{"message-storage-policy":1,"push-type":"LiveActivity"}`)
	if created.status != 201 || created.channel == "" || created.header.Get("Apns-Request-Id") != "5e1c6e2a-0000-4000-8000-000000000001" {
		t.Fatalf("create: %+v", created)
	}
	keep := created.channel
	none := h.do("POST", manage, nil, `{"message-storage-policy":0,"push-type":"LiveActivity"}`).channel
	if full := h.do("POST", manage, nil, `{"message-storage-policy":0,"push-type":"LiveActivity"}`); full.status != 400 || full.reason != ReasonCannotCreateChannelConfig {
		t.Fatalf("third channel with a limit of 2: %+v", full)
	}
	if got := h.do("GET", manage, map[string]string{"apns-channel-id": keep}, ""); got.status != 200 || string(bytes.TrimSpace(got.body)) != `{"message-storage-policy":1,"push-type":"LiveActivity"}` {
		t.Fatalf("read: %d %s", got.status, got.body)
	}
	var list struct{ Channels []string }
	all := h.do("GET", f.s.ChannelsURL+"/1/apps/"+app+"/all-channels", nil, "")
	if json.Unmarshal(all.body, &list) != nil || len(list.Channels) != 2 {
		t.Fatalf("list: %d %s", all.status, all.body)
	}
	// The sandbox has its own channels.
	if got := h.do("GET", f.s.DevelopmentChannelsURL+"/1/apps/"+app+"/channels", map[string]string{"apns-channel-id": keep}, ""); got.reason != ReasonChannelNotRegistered {
		t.Fatalf("production channel read in the sandbox: %+v", got)
	}

	// Three subscribers, one offline, then a broadcast.
	boxes := map[string]*inbox{}
	var toks []string
	for range 3 {
		tok := f.register(app, testpki.Production)
		toks = append(toks, tok)
		if err := f.s.Subscribe(keep, tok); err != nil {
			t.Fatal(err)
		}
		boxes[tok] = &inbox{}
	}
	f.s.Attach(toks[0], boxes[toks[0]])
	f.s.Attach(toks[1], boxes[toks[1]])
	send := f.s.URL + "/4/broadcasts/apps/" + app
	ts := f.clock.Now().Unix()
	if got := h.do("POST", send, map[string]string{"apns-channel-id": keep, "apns-push-type": "liveactivity"}, laUpdate(ts, "1-0")); got.status != 200 || got.header.Get("Apns-Id") == "" {
		t.Fatalf("broadcast: %+v", got)
	}
	for _, tok := range toks[:2] {
		ds := boxes[tok].all()
		if len(ds) != 1 || !strings.Contains(string(ds[0].Payload), `"1-0"`) || ds[0].Headers["apns-channel-id"] != keep || ds[0].Headers["apns-push-type"] != "liveactivity" {
			t.Fatalf("subscriber %s: %+v", tok[:8], ds)
		}
	}
	if n := f.s.Attach(toks[2], boxes[toks[2]]); n != 1 {
		t.Fatalf("offline subscriber got %d stored on return", n)
	}
	// A late subscriber: the kept channel hands over the most recent message, the other nothing.
	late := f.register(app, testpki.Production)
	lateBox := &inbox{}
	f.s.Attach(late, lateBox)
	h.do("POST", send, map[string]string{"apns-channel-id": keep, "apns-push-type": "liveactivity"}, laUpdate(ts+1, "2-0"))
	h.do("POST", send, map[string]string{"apns-channel-id": none, "apns-push-type": "liveactivity"}, laUpdate(ts+1, "x"))
	if err := f.s.Subscribe(keep, late); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Subscribe(none, late); err != nil {
		t.Fatal(err)
	}
	if ds := lateBox.all(); len(ds) != 1 || !strings.Contains(string(ds[0].Payload), `"2-0"`) || ds[0].Token != late {
		t.Fatalf("late subscriber: %+v", ds)
	}
	if n := countHop(f.bus, events.ProviderBroadcast); n != 3 {
		t.Fatalf("%d provider.broadcast events", n)
	}

	reasons := []struct {
		name   string
		hdr    map[string]string
		body   string
		status int
		reason string
	}{
		{"no channel id", map[string]string{"apns-push-type": "liveactivity"}, laUpdate(ts, "x"), 400, ReasonMissingChannelID},
		{"channel id not base64", map[string]string{"apns-channel-id": "not base64!", "apns-push-type": "liveactivity"}, laUpdate(ts, "x"), 400, ReasonBadChannelID},
		{"unknown channel", map[string]string{"apns-channel-id": "AAAAAAAAAAAAAAAAAAAAAA==", "apns-push-type": "liveactivity"}, laUpdate(ts, "x"), 400, ReasonChannelNotRegistered},
		{"no push type", map[string]string{"apns-channel-id": keep}, laUpdate(ts, "x"), 400, ReasonMissingPushType},
		{"alert push type", map[string]string{"apns-channel-id": keep, "apns-push-type": "alert"}, laUpdate(ts, "x"), 400, ReasonInvalidPushType},
		{"payload over 5 KB", map[string]string{"apns-channel-id": keep, "apns-push-type": "liveactivity"}, sized(MaxBroadcastPayload + 1), 413, ReasonPayloadTooLarge},
	}
	for _, tt := range reasons {
		if got := h.do("POST", send, tt.hdr, tt.body); got.status != tt.status || got.reason != tt.reason {
			t.Errorf("%s: %d %q, want %d %q", tt.name, got.status, got.reason, tt.status, tt.reason)
		}
	}
	if got := h.do("POST", manage, nil, `{"message-storage-policy":1}`); got.reason != ReasonMissingPushType {
		t.Errorf("create without push-type: %+v", got)
	}
	if got := h.do("POST", manage, nil, `{"message-storage-policy":1,"push-type":"Alert"}`); got.reason != ReasonInvalidPushType {
		t.Errorf("create with push-type Alert: %+v", got)
	}
	if got := h.do("GET", manage, nil, ""); got.reason != ReasonMissingChannelID {
		t.Errorf("read without a channel id: %+v", got)
	}
	if got := h.do("DELETE", manage, map[string]string{"apns-channel-id": none}, ""); got.status != 204 {
		t.Fatalf("delete: %+v", got)
	}
	if got := h.do("POST", send, map[string]string{"apns-channel-id": none, "apns-push-type": "liveactivity"}, laUpdate(ts, "x")); got.reason != ReasonChannelNotRegistered {
		t.Errorf("broadcast on a deleted channel: %+v", got)
	}
	resp, err := http.Get(f.s.ControlURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`pushlab_mock_broadcast_channels{env="production",provider="apns"} 1`,
		`pushlab_mock_broadcast_subscribers{env="production",provider="apns"} 4`,
		`pushlab_mock_broadcasts_total{env="production",provider="apns"} 2`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	f.s.SetBroadcast(app, false)
	if got := h.do("POST", manage, nil, `{"message-storage-policy":1,"push-type":"LiveActivity"}`); got.reason != ReasonFeatureNotEnabled {
		t.Errorf("create without the capability: %+v", got)
	}
	// Management needs a provider credential like any request.
	h.bearer = "junk"
	if got := h.do("GET", f.s.ChannelsURL+"/1/apps/"+app+"/all-channels", nil, ""); got.status != 403 || got.reason != ReasonInvalidProviderToken {
		t.Errorf("bad token: %+v", got)
	}
}

func countHop(bus *events.Bus, hop events.Hop) int {
	n := 0
	for _, e := range bus.History() {
		if e.Hop == hop {
			n++
		}
	}
	return n
}

// FuzzChannelRequest: any body gets a documented verdict, never a panic, and
// what is accepted is a LiveActivity channel with policy 0 or 1.
func FuzzChannelRequest(f *testing.F) {
	f.Add(`{"message-storage-policy":1,"push-type":"LiveActivity"}`)
	f.Add(`{"push-type":"liveactivity"}`)
	f.Add(`{"message-storage-policy":2,"push-type":"LiveActivity"}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := ParseChannelRequest(strings.NewReader(body))
		if err != nil {
			if err.Status != 400 {
				t.Fatalf("status %d", err.Status)
			}
			return
		}
		if !strings.EqualFold(req.PushType, "LiveActivity") || (req.StoragePolicy != 0 && req.StoragePolicy != 1) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
	})
}
