package e2e

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// The happy path, per platform and per contents mode, through the real proxy
// and both mocks over TLS: delivered, signature verified, decrypted text
// equal to what was sent, displayed, and the ack at the proxy.
func TestPipeline(t *testing.T) {
	l := startLab(t, Options{})
	apps := []devicesim.App{l.IOSToken, l.IOSCert, l.Android, l.AndroidRN}
	devs := make([]*devicesim.Device, len(apps))
	for i, app := range apps {
		d, err := l.Fleet.Add(testCtx(t), fmt.Sprintf("dev-%d", i), fmt.Sprintf("user-%d", i), app)
		if err != nil {
			t.Fatal(err)
		}
		devs[i] = d
	}
	type want struct{ title, subtitle, body string }
	const channel, sender = "Town Square", "alice"
	modes := []struct {
		contents  serversim.Contents
		want      func(msg string) want
		decrypted bool
		fetched   bool
	}{
		{serversim.ContentsFull, func(msg string) want { return want{channel, sender, msg} }, true, false},
		{serversim.ContentsGeneric, func(string) want { return want{channel, sender, devicesim.GenericMessage} }, true, false},
		{serversim.ContentsGenericNoChannel, func(string) want { return want{sender, "", devicesim.GenericMessage} }, true, false},
		{serversim.ContentsIDLoaded, func(msg string) want { return want{channel, sender, msg} }, false, true},
	}
	for _, mode := range modes {
		for i, d := range devs {
			t.Run(fmt.Sprintf("%s/%s", mode.contents, d.App.Name), func(t *testing.T) {
				if err := l.Server.SetContents(mode.contents); err != nil {
					t.Fatal(err)
				}
				msg := fmt.Sprintf("hello %s from %s ✓", d.Name, mode.contents)
				r := send(t, l, serversim.Message{UserID: fmt.Sprintf("user-%d", i), ChannelName: channel, SenderName: sender, Message: msg})
				if err := resultErr(r); err != nil {
					t.Fatalf("%v\n%s", err, dump(l, r.AckID))
				}
				h := requireHops(t, l, r.AckID, events.ServerSent, events.ProxyReceived, events.ProviderAccepted,
					events.DeviceDelivered, events.DeviceSignatureOK, events.DeviceDisplayed, events.ServerAnswered,
					events.DeviceAcked, events.ProxyAcked)
				if h[events.ServerSent].Seq > h[events.ProxyReceived].Seq || h[events.ServerAnswered].Status != "OK" {
					t.Errorf("server.sent #%d must precede proxy.received #%d; server.answered %q, want OK",
						h[events.ServerSent].Seq, h[events.ProxyReceived].Seq, h[events.ServerAnswered].Status)
				}
				if mode.decrypted {
					requireHops(t, l, r.AckID, events.DeviceDecrypted)
				} else {
					forbidHops(t, l, r.AckID, events.DeviceDecrypted)
				}
				forbidHops(t, l, r.AckID, events.DeviceSignatureBad, events.DeviceDecryptFailed, events.DeviceRejected)
				if e := h[events.ServerSent]; e.Plaintext {
					t.Errorf("hpns server.sent is marked plaintext: %s", e.Detail)
				}
				n, ok := d.Last()
				if !ok {
					t.Fatal("nothing shown")
				}
				got := want{n.Title, n.Subtitle, n.Body}
				if w := mode.want(msg); got != w {
					t.Errorf("shown %+v, want %+v", got, w)
				}
				if n.AckID != r.AckID || !n.Verified || n.Decrypted != mode.decrypted || n.Fetched != mode.fetched || n.Fallback || n.Plaintext {
					t.Errorf("shown %+v", n)
				}
				if n.Badge < 1 {
					t.Errorf("badge %d, want the user's unread count", n.Badge)
				}
			})
		}
	}
}

// In clear (tpns) the contents travel unencrypted, and every event the server
// and device emit for the push says so.
func TestPipelinePlaintextProfile(t *testing.T) {
	l := startLab(t, Options{Profile: serversim.ProfileTPNS, Contents: serversim.ContentsFull})
	for _, app := range []devicesim.App{l.IOSToken, l.Android} {
		t.Run(app.Name, func(t *testing.T) {
			d, err := l.Fleet.Add(testCtx(t), "tpns-"+string(app.Platform), "u-"+string(app.Platform), app)
			if err != nil {
				t.Fatal(err)
			}
			r := send(t, l, serversim.Message{UserID: d.User, ChannelName: "general", SenderName: "bob", Message: "in clear"})
			if err := resultErr(r); err != nil {
				t.Fatal(err)
			}
			requireHops(t, l, r.AckID, events.DeviceDisplayed, events.ProxyAcked)
			forbidHops(t, l, r.AckID, events.DeviceDecrypted)
			for _, e := range l.Bus.Trace(r.AckID) {
				if (e.Actor == "server" || e.Actor == "device:"+d.Name) && !e.Plaintext {
					t.Errorf("%s by %s is not marked plaintext", e.Hop, e.Actor)
				}
			}
			n, _ := d.Last()
			if n.Body != "in clear" || n.Title != "general" || !n.Plaintext || n.Decrypted {
				t.Errorf("shown %+v", n)
			}
		})
	}
}

// Clear, badge and test pushes through the real proxy: no alert, the app
// wakes, acts and acks.
func TestPipelineOtherTypes(t *testing.T) {
	l := startLab(t, Options{Contents: serversim.ContentsFull})
	for _, app := range []devicesim.App{l.IOSToken, l.IOSCert, l.Android} {
		t.Run(app.Name, func(t *testing.T) {
			d, err := l.Fleet.Add(testCtx(t), "types-"+app.Name, "types-"+app.Name, app)
			if err != nil {
				t.Fatal(err)
			}
			send(t, l, serversim.Message{UserID: d.User, ChannelID: "chan-a", ChannelName: "a", Message: "one"})
			send(t, l, serversim.Message{UserID: d.User, ChannelID: "chan-b", ChannelName: "b", Message: "two"})
			if n := len(d.Shown()); n != 2 {
				t.Fatalf("%d shown, want 2", n)
			}
			r := send(t, l, serversim.Message{UserID: d.User, Type: devicesim.PushClear, ChannelID: "chan-a"})
			h := requireHops(t, l, r.AckID, events.DeviceSignatureOK, events.DeviceDisplayed, events.ProxyAcked)
			if e := h[events.DeviceDisplayed]; e.Status != "cleared" {
				t.Errorf("clear: %s %s", e.Status, e.Detail)
			}
			if shown := d.Shown(); len(shown) != 1 || shown[0].ChannelID != "chan-b" {
				t.Errorf("after clearing chan-a: %+v", shown)
			}
			seven := 7
			r = send(t, l, serversim.Message{UserID: d.User, Type: devicesim.PushUpdateBadge, Badge: &seven})
			requireHops(t, l, r.AckID, events.DeviceSignatureOK, events.ProxyAcked)
			if b := d.State().Badge; b != 7 {
				t.Errorf("badge %d after update_badge 7", b)
			}
			r = send(t, l, serversim.Message{Device: d.Name, Type: devicesim.PushTest})
			requireHops(t, l, r.AckID, events.DeviceDisplayed, events.ProxyAcked)
			if n, _ := d.Last(); n.Body != devicesim.TestMessage || !n.Verified {
				t.Errorf("test push shown as %+v", n)
			}
		})
	}
}

// A proxy cuts message past mmpush.MaxMessage bytes; sealed contents travel in
// message, so the server shortens a long post until its envelope fits, and
// every phone still verifies, decrypts and shows it.
func TestLongMessageStaysDecryptable(t *testing.T) {
	l := startLab(t, Options{Contents: serversim.ContentsFull})
	long := strings.Repeat("long post ✓ ", 600) // 8,400 bytes
	for i, app := range []devicesim.App{l.IOSToken, l.Android} {
		d, err := l.Fleet.Add(testCtx(t), fmt.Sprintf("long-%d", i), fmt.Sprintf("long-user-%d", i), app)
		if err != nil {
			t.Fatal(err)
		}
		r := send(t, l, serversim.Message{UserID: fmt.Sprintf("long-user-%d", i), ChannelName: "c", SenderName: "s", Message: long})
		if err := resultErr(r); err != nil {
			t.Fatalf("%v\n%s", err, dump(l, r.AckID))
		}
		requireHops(t, l, r.AckID, events.DeviceSignatureOK, events.DeviceDecrypted, events.DeviceDisplayed)
		forbidHops(t, l, r.AckID, events.DeviceDecryptFailed)
		n, _ := d.Last()
		body := strings.TrimSuffix(n.Body, "…")
		if body == n.Body || len(body) < 1000 || !strings.HasPrefix(long, body) || !utf8.ValidString(n.Body) {
			t.Fatalf("%s shows %d bytes %q…, want a valid shortened prefix of the post", app.Name, len(n.Body), n.Body[:min(40, len(n.Body))])
		}
	}
}
