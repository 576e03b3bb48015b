package devicesim_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	. "github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
)

// A notification that reaches the phone twice (a proxy's resend) is shown
// once: iOS replaces the card of the same apns-collapse-id, Android the
// notification of the same tag, and an app drops an ack_id it has handled.
func TestSecondCopyShownOnce(t *testing.T) {
	r := simtest.New(t, serversim.Config{Contents: serversim.ContentsFull})
	capture := func(d *Device, hub *mockkit.Hub, m serversim.Message) pushtest.Delivery {
		d.GoOffline()
		r.Send(m)
		p := hub.Pending(d.Token())
		hub.Forget(d.Token())
		d.GoOnline()
		return p[0]
	}
	twice := func(t *testing.T, d *Device, del pushtest.Delivery, concurrent bool) {
		if !concurrent {
			d.Handle(context.Background(), del)
			d.Handle(context.Background(), del)
			return
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { d.Handle(context.Background(), del) })
		}
		wg.Wait()
	}
	hops := func(ack string) map[events.Hop]int {
		n := map[events.Hop]int{}
		for _, e := range r.Bus.Trace(ack) {
			n[e.Hop]++
		}
		return n
	}
	ackOf := func(del pushtest.Delivery) string {
		var m struct {
			AckID string            `json:"ack_id"`
			Data  map[string]string `json:"data"`
		}
		json.Unmarshal(del.Payload, &m)
		if m.AckID != "" {
			return m.AckID
		}
		return m.Data["ack_id"]
	}
	ios := r.Add("ios", r.IOS)
	droid := r.Add("droid", r.Droid)
	msg := func(d *Device) serversim.Message {
		return serversim.Message{UserID: d.User, ChannelName: "c", Message: "m"}
	}

	cases := []struct {
		name       string
		device     *Device
		hub        *mockkit.Hub
		edit       func(del *pushtest.Delivery, ack string)
		concurrent bool
		replaced   int
		duplicate  int
	}{
		{"iOS, apns-collapse-id: replaced", ios, r.APNs, func(d *pushtest.Delivery, ack string) { d.CollapseKey = ack }, false, 1, 0},
		{"iOS, no collapse id: the app drops it", ios, r.APNs, nil, false, 0, 1},
		{"iOS, both copies at once: one shown", ios, r.APNs, func(d *pushtest.Delivery, ack string) { d.CollapseKey = ack }, true, -1, -1},
		{"Android data message: the app drops it", droid, r.FCM, nil, false, 0, 1},
		{"Android data message, both at once: one shown", droid, r.FCM, nil, true, 0, 1},
		{"Android notification with a tag: replaced", droid, r.FCM, func(d *pushtest.Delivery, ack string) {
			var m map[string]any
			json.Unmarshal(d.Payload, &m)
			m["notification"] = map[string]string{"title": "c", "body": "m"}
			m["android"] = map[string]any{"priority": "high", "notification": map[string]string{"tag": ack}}
			d.Payload, _ = json.Marshal(m)
		}, false, 1, 0},
	}
	t.Run("iOS, the card gone from the recent list: replaced in the notification centre", func(t *testing.T) {
		del := capture(ios, r.APNs, msg(ios))
		ack := ackOf(del)
		del.CollapseKey = ack
		ios.Handle(context.Background(), del)
		for range 2 * FleetKeep(r.Fleet) { // push it out of the Keep cards
			r.Send(msg(ios))
		}
		ios.Handle(context.Background(), del)
		if h := hops(ack); h[events.DeviceDisplayed] != 1 || h[events.DeviceReplaced] != 1 {
			t.Fatalf("displayed %d, replaced %d; want 1 and 1", h[events.DeviceDisplayed], h[events.DeviceReplaced])
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.device.State().Stats
			del := capture(c.device, c.hub, msg(c.device))
			ack := ackOf(del)
			if c.edit != nil {
				c.edit(&del, ack)
			}
			twice(t, c.device, del, c.concurrent)
			r.Fleet.Wait()
			h := hops(ack)
			if h[events.DeviceDelivered] != 2 || h[events.DeviceDisplayed] != 1 {
				t.Fatalf("delivered %d, displayed %d; want 2 and 1", h[events.DeviceDelivered], h[events.DeviceDisplayed])
			}
			if c.replaced >= 0 && h[events.DeviceReplaced] != c.replaced {
				t.Errorf("replaced %d, want %d", h[events.DeviceReplaced], c.replaced)
			}
			if c.duplicate >= 0 && h[events.DeviceRejected] != c.duplicate {
				t.Errorf("rejected as duplicate %d, want %d", h[events.DeviceRejected], c.duplicate)
			}
			if h[events.DeviceReplaced]+h[events.DeviceRejected] != 1 {
				t.Errorf("the second copy was neither replaced nor dropped: %v", h)
			}
			st := c.device.State().Stats
			if st.Displayed-before.Displayed != 1 || st.Replaced-before.Replaced != h[events.DeviceReplaced] {
				t.Errorf("stats displayed +%d replaced +%d", st.Displayed-before.Displayed, st.Replaced-before.Replaced)
			}
			if h[events.DeviceReplaced] == 1 {
				last, _ := c.device.Last()
				if last.AckID != ack || last.Replaced != 1 || last.CollapseID != ack {
					t.Errorf("card %+v: want the notification, replaced once, collapse id %q", last, ack)
				}
			}
		})
	}
}
