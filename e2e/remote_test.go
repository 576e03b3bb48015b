package e2e

import (
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// Devices in "another process": registered through the mocks' control API,
// reached over one multiplexed gateway websocket per mock.
func TestRemoteDevices(t *testing.T) {
	l := startLab(t, Options{Contents: serversim.ContentsFull})
	apns, err := devicesim.DialRemote(testCtx(t), l.APNs.ControlURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apns.Close() })
	fcm, err := devicesim.DialRemote(testCtx(t), l.FCM.ControlURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fcm.Close() })
	fleet, err := devicesim.NewFleet(devicesim.FleetConfig{
		Server: l.Server.Link(), Pinned: devicesim.PinnedKeys(l.Set),
		APNs: apns, FCM: fcm, Bus: l.Bus,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	for _, app := range []devicesim.App{l.IOSToken, l.Android} {
		t.Run(app.Name, func(t *testing.T) {
			d, err := fleet.Add(testCtx(t), "remote-"+string(app.Platform), "remote-"+string(app.Platform), app)
			if err != nil {
				t.Fatal(err)
			}
			res, err := l.Server.Send(testCtx(t), serversim.Message{UserID: d.User, ChannelName: "c", Message: "over the gateway"})
			if err != nil || res[0].Status != serversim.StatusOK {
				t.Fatalf("%v %+v", err, res)
			}
			waitHop(t, l, res[0].AckID, events.ProxyAcked)
			fleet.Wait()
			if n, _ := d.Last(); n.Body != "over the gateway" || !n.Decrypted {
				t.Errorf("shown %+v", n)
			}
			if err := d.Uninstall(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			res, _ = l.Server.Send(testCtx(t), serversim.Message{UserID: d.User, Message: "gone"})
			if res[0].Status != serversim.StatusRemove {
				t.Errorf("after a remote uninstall: %+v", res[0])
			}
		})
	}
}

// waitHop waits for a hop that arrives asynchronously (over a websocket).
// The deadline only guards against a hang; the test asserts the event.
func waitHop(t *testing.T, l *Lab, trace string, hop events.Hop) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := hops(l, trace)[hop]; ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s for %s:\n%s", hop, trace, dump(l, trace))
}
