package examples

import (
	"testing"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// A whole lab from another module: both mocks, the real push proxy, the
// Mattermost server simulator and one phone per platform. The server sends a
// message in full (sealed for the device); each phone verifies, decrypts and shows it, and acks through the
// proxy. The spine tells each notification's hops.
func TestLab(t *testing.T) {
	l, err := e2e.Start(testCtx(t), e2e.Options{Contents: serversim.ContentsFull})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	for i, app := range []devicesim.App{l.IOSToken, l.Android} {
		user := []string{"ios-user", "android-user"}[i]
		phone, err := l.Fleet.Add(testCtx(t), "phone-"+app.Name, user, app)
		if err != nil {
			t.Fatal(err)
		}
		res, err := l.Server.Send(testCtx(t), serversim.Message{UserID: user, ChannelName: "Town Square", SenderName: "alice", Message: "hello " + app.Name})
		if err != nil || len(res) != 1 || res[0].Status != "OK" {
			t.Fatalf("%s: send = %+v, %v; want one OK", app.Name, res, err)
		}
		l.Fleet.Wait()
		shown, ok := phone.Last()
		if !ok || shown.Body != "hello "+app.Name || !shown.Verified || !shown.Decrypted || shown.AckID != res[0].AckID {
			t.Errorf("%s shows %+v (%v), want the verified, decrypted message with ack %s", app.Name, shown, ok, res[0].AckID)
		}
		hops := map[events.Hop]bool{}
		for _, e := range l.Bus.Trace(res[0].AckID) {
			hops[e.Hop] = true
		}
		for _, h := range []events.Hop{events.ProxyReceived, events.ProviderAccepted, events.DeviceDelivered, events.DeviceDisplayed, events.ProxyAcked} {
			if !hops[h] {
				t.Errorf("%s: no %s on the spine; saw %v", app.Name, h, hops)
			}
		}
	}
}
