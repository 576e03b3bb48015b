package devicesim_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// TestLiveActivityRemote: a device in another process than mockapns (its
// control API and push gateway) gets its push-to-start token, starts an
// activity from a start push, subscribes to the channel the push names
// through the control API, and is handed the channel's most recent message.
func TestLiveActivityRemote(t *testing.T) {
	r := simtest.New(t, serversim.Config{})
	s, err := mockapns.New(mockapns.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	remote, err := DialRemote(ctx, s.ControlURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Close() })
	f, err := NewFleet(FleetConfig{Server: r.Server.Link(), Pinned: map[string]*ecdsa.PublicKey{"kid-1": &r.Key.PublicKey},
		APNs: remote, Bus: r.Bus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	app := r.IOS
	app.LiveActivities = true
	d, err := f.Add(ctx, "remote-la", "u", app)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.CreateChannel(app.BundleID, testpki.Production, mockapns.StorageMostRecent)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	s.Inject(pushtest.Delivery{Provider: "apns", Token: d.PushToStartToken(), ID: "start-1", App: app.BundleID,
		Headers: map[string]string{"apns-push-type": "liveactivity"},
		Payload: fmt.Appendf(nil, `{"aps":{"timestamp":%d,"event":"start","content-state":{"n":0},"attributes-type":"T","attributes":{},"input-push-channel":%q}}`, now, ch.ID)})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := s.Channels(app.BundleID, testpki.Production); len(got) == 1 && got[0].Subscribers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the device never subscribed: %+v (activities %+v)", s.Channels("", ""), d.Activities())
		}
		time.Sleep(10 * time.Millisecond)
	}
	acts := d.Activities()
	if len(acts) != 1 || acts[0].Channel != ch.ID || acts[0].State != liveactivity.StateActive {
		t.Fatalf("activities %+v", acts)
	}
	// Subscribing by the devices control API, to a second channel; an unknown one is refused.
	ch2, err := s.CreateChannel(app.BundleID, testpki.Production, mockapns.StorageNone)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		channel string
		status  int
	}{{ch2.ID, http.StatusNoContent}, {"AAAAAAAAAAAAAAAAAAAAAA==", http.StatusBadGateway}} {
		resp, err := http.Post(srv.URL+"/devices/remote-la/channels", "application/json", strings.NewReader(`{"channel":"`+tt.channel+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Fatalf("subscribe to %s: %d, want %d", tt.channel, resp.StatusCode, tt.status)
		}
	}
	if got := s.Channels(app.BundleID, testpki.Production); len(got) != 2 || got[0].Subscribers+got[1].Subscribers != 2 {
		t.Fatalf("channels %+v", got)
	}
	// The app starts an activity itself on the second channel.
	resp, err := http.Post(srv.URL+"/devices/remote-la/activities", "application/json",
		strings.NewReader(`{"attributes_type":"Race","attributes":{"lap":1},"content_state":{"pos":3},"channel":"`+ch2.ID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var a liveactivity.Activity
	json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || a.Channel != ch2.ID || a.AttributesType != "Race" || string(a.ContentState) != `{"pos":3}` {
		t.Fatalf("local start: %d %+v", resp.StatusCode, a)
	}
	if got := len(d.Activities()); got != 2 {
		t.Fatalf("%d activities", got)
	}
}
