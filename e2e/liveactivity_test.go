package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"
)

// TestLiveActivityBroadcast: 1,000 iPhones with a Live Activities app each
// get a start push on their push-to-start token (the real apns2 client),
// which starts the activity, gives it an update token and subscribes it to
// a broadcast channel; one broadcast (raw HTTP/2: apns2 has no broadcast)
// updates all of them, a second ends them. Every device's final state is
// asserted, and the event spine tells the same story.
func TestLiveActivityBroadcast(t *testing.T) {
	const devices = 1000
	// Every event kept: 1,000 devices make some 15,000.
	l := startLab(t, Options{Bus: events.NewBus(events.WithHistory(64 << 10))})
	app := l.IOSToken
	app.LiveActivities = true
	fleet := make([]*devicesim.Device, devices)
	for i := range fleet {
		d, err := l.Fleet.Add(testCtx(t), fmt.Sprintf("iphone-%04d", i), fmt.Sprintf("fan-%d", i), app)
		if err != nil {
			t.Fatal(err)
		}
		if d.PushToStartToken() == "" {
			t.Fatalf("%s has no push-to-start token", d.Name)
		}
		fleet[i] = d
	}

	// A channel that keeps its most recent message.
	tok := &token.Token{AuthKey: l.Set.APNsKey.Key, KeyID: l.Set.APNsKey.KeyID, TeamID: l.Set.TeamID}
	if _, err := tok.Generate(); err != nil {
		t.Fatal(err)
	}
	raw := &http.Client{Timeout: 30 * time.Second, Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: l.Set.CA.Pool()}}}
	do := func(method, url string, hdr map[string]string, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("authorization", "bearer "+tok.Bearer)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	created := do("POST", l.APNs.ChannelsURL+"/1/apps/"+app.BundleID+"/channels", nil, `{"message-storage-policy":1,"push-type":"LiveActivity"}`)
	channel := created.Header.Get("apns-channel-id")
	if created.StatusCode != 201 || channel == "" {
		t.Fatalf("create channel: %d", created.StatusCode)
	}

	// Start: one push per device to its push-to-start token.
	client := apns2.NewTokenClient(tok)
	client.Host = l.APNs.URL
	client.HTTPClient.Transport.(*http2.Transport).TLSClientConfig = &tls.Config{RootCAs: l.Set.CA.Pool()}
	now := time.Now().Unix()
	start := fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"start","content-state":{"score":"0-0"},"attributes-type":"MatchAttributes",`+
		`"attributes":{"home":"Lyon","away":"Nantes"},"input-push-token":1,"input-push-channel":%q,"alert":{"title":"Kick-off"}}}`, now, channel)
	work := make(chan *devicesim.Device)
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failures []string
	for range 32 {
		wg.Go(func() {
			for d := range work {
				res, err := client.Push(&apns2.Notification{DeviceToken: d.PushToStartToken(), Topic: app.BundleID + ".push-type.liveactivity",
					PushType: apns2.PushTypeLiveActivity, Priority: 10, Payload: start})
				if err != nil || res.StatusCode != 200 {
					failMu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %v %+v", d.Name, err, res))
					failMu.Unlock()
				}
			}
		})
	}
	for _, d := range fleet {
		work <- d
	}
	close(work)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d start pushes failed, first: %s", len(failures), failures[0])
	}
	l.Fleet.Wait()
	if ch := l.APNs.Channels(app.BundleID, ""); len(ch) != 1 || ch[0].Subscribers != devices {
		t.Fatalf("channel: %+v", ch)
	}

	// One broadcast updates every activity; a second ends them.
	broadcast := func(event, state, extra string) {
		t.Helper()
		now++
		body := fmt.Sprintf(`{"aps":{"timestamp":%d,"event":%q,"content-state":%s%s}}`, now, event, state, extra)
		resp := do("POST", l.APNs.URL+"/4/broadcasts/apps/"+app.BundleID, map[string]string{"apns-channel-id": channel,
			"apns-push-type": "liveactivity", "apns-priority": "10"}, body)
		if resp.StatusCode != 200 {
			t.Fatalf("broadcast %s: %d", event, resp.StatusCode)
		}
		l.Fleet.Wait()
	}
	broadcast("update", `{"score":"1-0"}`, `,"stale-date":`+fmt.Sprint(now+3600))
	broadcast("end", `{"score":"2-1"}`, `,"dismissal-date":`+fmt.Sprint(now+7200))

	tokens := map[string]bool{}
	for _, d := range fleet {
		acts := d.Activities()
		if len(acts) != 1 {
			t.Fatalf("%s: %d activities", d.Name, len(acts))
		}
		a := acts[0]
		var attrs map[string]string
		json.Unmarshal(a.Attributes, &attrs)
		if a.State != liveactivity.StateEnded || string(a.ContentState) != `{"score":"2-1"}` || a.Updates != 2 ||
			a.Channel != channel || a.AttributesType != "MatchAttributes" || attrs["home"] != "Lyon" || a.UpdateToken == "" || a.DismissalDate.IsZero() {
			t.Fatalf("%s: %+v", d.Name, a)
		}
		if tokens[a.UpdateToken] {
			t.Fatalf("%s: update token shared", d.Name)
		}
		tokens[a.UpdateToken] = true
		if st := d.State(); len(st.Activities) != 1 || st.Activities[0].State != liveactivity.StateEnded {
			t.Fatalf("%s: state %+v", d.Name, st.Activities)
		}
	}
	counts := map[events.Hop]int{}
	for _, e := range l.Bus.History() {
		if e.Hop == events.DeviceChannelSubscribed && e.Actor == "mockapns" {
			continue // the mock says it too; count the devices
		}
		counts[e.Hop]++
	}
	want := map[events.Hop]int{events.DeviceActivityStarted: devices, events.DeviceActivityUpdated: devices,
		events.DeviceActivityEnded: devices, events.DeviceChannelSubscribed: devices, events.ProviderBroadcast: 2,
		events.ProviderChannelCreated: 1, events.DeviceActivityDropped: 0}
	for hop, n := range want {
		if counts[hop] != n {
			t.Errorf("%s: %d events, want %d", hop, counts[hop], n)
		}
	}
}
