package devicesim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
)

// TestLiveActivityOnDevice: a start on the push-to-start token starts an
// activity with its own update token; updates on that token apply in
// timestamp order (an older one is dropped, as iOS drops it); a push for
// an app without Live Activities, or a start on the wrong token, is
// dropped; stale-date is judged by the device clock.
func TestLiveActivityOnDevice(t *testing.T) {
	r := simtest.New(t, serversim.Config{})
	app := r.IOS
	app.LiveActivities = true
	app.ActivityTypes = []string{"Delivery"}
	d := r.Add("la", app)
	plain := r.Add("plain", r.IOS)
	pts := d.PushToStartToken()
	if pts == "" || pts == d.Token() || plain.PushToStartToken() != "" {
		t.Fatalf("push-to-start token %q (device token %q)", pts, d.Token())
	}
	now := time.Now().Unix()
	la := func(token, payload string) {
		t.Helper()
		r.APNs.Send(pushtest.Delivery{Provider: "apns", Token: token, ID: fmt.Sprint(time.Now().UnixNano()), App: app.BundleID,
			Headers: map[string]string{"apns-push-type": "liveactivity"}, Payload: []byte(payload)})
		r.Fleet.Wait()
	}
	la(pts, fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"start","content-state":{},"attributes-type":"Pizza","attributes":{}}}`, now))
	la(pts, fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"start","content-state":{"eta":"20 min"},"attributes-type":"Delivery","attributes":{"order":"42"},"input-push-token":1}}`, now))
	acts := d.Activities()
	if len(acts) != 1 || acts[0].UpdateToken == "" || acts[0].State != liveactivity.StateActive || string(acts[0].ContentState) != `{"eta":"20 min"}` {
		t.Fatalf("after start: %+v", acts)
	}
	upd := acts[0].UpdateToken
	la(upd, fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"update","content-state":{"eta":"5 min"},"stale-date":%d}}`, now+2, now+600))
	la(upd, fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"update","content-state":{"eta":"30 min"}}}`, now+1))
	la(upd, fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"start","content-state":{},"attributes-type":"X","attributes":{}}}`, now+3))
	la(plain.Token(), fmt.Sprintf(`{"aps":{"timestamp":%d,"event":"update","content-state":{}}}`, now+3))
	la(upd, `{"aps":{"event":"update"}}`)
	if a := d.Activities(); string(a[0].ContentState) != `{"eta":"5 min"}` || a[0].Updates != 1 {
		t.Fatalf("after the updates: %+v", a)
	}
	dropped := 0
	for _, e := range r.Bus.History() {
		if e.Hop == events.DeviceActivityDropped {
			dropped++
		}
	}
	if dropped != 5 {
		t.Fatalf("%d device.activity_dropped events, want 5 (undeclared type, old timestamp, start on an update token, app without activities, bad payload)", dropped)
	}
	// The device clock reaches the stale date.
	d.SetClockSkew(11 * time.Minute)
	if st := d.State(); len(st.Activities) != 1 || st.Activities[0].State != liveactivity.StateStale {
		t.Fatalf("by the device clock 11 minutes on: %+v", st.Activities)
	}
	// The devices control API shows the same.
	srv := httptest.NewServer(r.Fleet.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/devices/la/activities")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		PushToStart string                  `json:"push_to_start_token"`
		Activities  []liveactivity.Activity `json:"activities"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET activities: %d %v", resp.StatusCode, err)
	}
	if len(out.Activities) != 1 || out.Activities[0].State != liveactivity.StateStale || string(out.Activities[0].ContentState) != `{"eta":"5 min"}` ||
		out.PushToStart == "" || out.PushToStart == pts {
		t.Fatalf("GET activities: %+v (the token must be redacted)", out)
	}
}
