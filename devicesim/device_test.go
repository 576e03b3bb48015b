package devicesim_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	. "github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

func TestDeviceRoundTrip(t *testing.T) {
	for _, envField := range []string{serversim.EnvelopeInMessage, serversim.EnvelopeInField} {
		r := simtest.New(t, serversim.Config{Contents: serversim.ContentsFull, EnvelopeField: envField})
		for _, app := range []App{r.IOS, r.Droid} {
			t.Run(envField+"/"+string(app.Platform), func(t *testing.T) {
				d := r.Add("d-"+envField+string(app.Platform), app)
				res := r.Send(serversim.Message{UserID: d.User, ChannelName: "chan", SenderName: "bob", Message: "secret words"})
				n, ok := d.Last()
				if !ok || n.Body != "secret words" || n.Title != "chan" || n.Subtitle != "bob" || !n.Decrypted || !n.Verified {
					t.Fatalf("shown %+v", n)
				}
				sent, _ := r.Last(res.AckID, events.ServerSent)
				if strings.Contains(sent.Payload, "secret words") {
					t.Errorf("the proxy could read the contents: %s", sent.Payload)
				}
				if _, ok := r.Last(res.AckID, events.DeviceAcked); !ok {
					t.Error("no ack")
				}
				acks := r.Acks()
				if a := acks[len(acks)-1]; a.ID != res.AckID || a.Platform != string(app.Platform) || a.Type != PushMessage {
					t.Errorf("proxy got ack %+v", a)
				}
			})
		}
	}
}

// The device's own checks, each with its reason and event.
func TestDeviceRejects(t *testing.T) {
	r := simtest.New(t, serversim.Config{Contents: serversim.ContentsFull})
	ios := r.Add("ios", r.IOS)
	good := func() pushtest.Delivery {
		ios.GoOffline()
		r.Send(serversim.Message{UserID: ios.User, ChannelName: "c", Message: "m"})
		p := r.APNs.Pending(ios.Token())
		r.APNs.Forget(ios.Token())
		ios.GoOnline()
		return p[0]
	}
	edit := func(del pushtest.Delivery, f func(m map[string]any)) pushtest.Delivery {
		var m map[string]any
		json.Unmarshal(del.Payload, &m)
		f(m)
		del.Payload, _ = json.Marshal(m)
		return del
	}
	tests := []struct {
		name   string
		del    func() pushtest.Delivery
		hop    events.Hop
		reason Reason
		pred   func(error) bool
	}{
		{"not JSON", func() pushtest.Delivery { d := good(); d.Payload = []byte("{"); return d }, events.DeviceRejected, ReasonMalformedPayload, nil},
		{"other app", func() pushtest.Delivery { d := good(); d.App = "com.evil"; return d }, events.DeviceRejected, ReasonWrongApp, IsWrongApp},
		{"other server", func() pushtest.Delivery {
			return edit(good(), func(m map[string]any) { m["server_id"] = "elsewhere" })
		}, events.DeviceRejected, ReasonWrongServer, nil},
		{"unsigned", func() pushtest.Delivery {
			return edit(good(), func(m map[string]any) { m["signature"] = "NO_SIGNATURE" })
		}, events.DeviceSignatureBad, ReasonUnsigned, IsSignatureFailure},
		{"garbage signature", func() pushtest.Delivery {
			return edit(good(), func(m map[string]any) { m["signature"] = "a.b.c" })
		}, events.DeviceSignatureBad, ReasonMalformedSig, IsSignatureFailure},
		{"signature of another push", func() pushtest.Delivery {
			return edit(good(), func(m map[string]any) { m["ack_id"] = "another-ack" })
		}, events.DeviceSignatureBad, ReasonWrongNotification, IsReplay},
		{"envelope not base64", func() pushtest.Delivery {
			return edit(good(), func(m map[string]any) {
				m["aps"].(map[string]any)["alert"] = "v1." + strings.Repeat("A", 130) + "!"
				m["encrypted"] = "v1.!!!!"
			})
		}, events.DeviceDecryptFailed, ReasonMalformedEnvelope, IsDecryptFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			del := tt.del()
			_, err := ios.Handle(context.Background(), del)
			if ReasonOf(err) != tt.reason {
				t.Fatalf("err %v, want reason %s", err, tt.reason)
			}
			if tt.pred != nil && !tt.pred(err) {
				t.Errorf("predicate false for %v", err)
			}
			var re *RejectError
			if !asReject(err, &re) || re.Device != "ios" {
				t.Errorf("not a *RejectError for the device: %#v", err)
			}
			evs := r.Bus.History()
			last := evs[len(evs)-1]
			if last.Hop == events.DeviceDisplayed { // iOS puts the generic alert up after a crypto failure
				if last.Status != "fallback" {
					t.Errorf("shown after a rejection: %s", last.Detail)
				}
				last = evs[len(evs)-2]
			}
			if last.Hop != tt.hop || last.Status != string(tt.reason) {
				t.Errorf("last event %s %s, want %s %s", last.Hop, last.Status, tt.hop, tt.reason)
			}
		})
	}
}

func asReject(err error, re **RejectError) bool {
	x, ok := err.(*RejectError)
	*re = x
	return ok
}

func TestDeviceOSBehaviour(t *testing.T) {
	r := simtest.New(t, serversim.Config{Contents: serversim.ContentsFull})
	ios := r.Add("ios", r.IOS)
	droid := r.Add("droid", r.Droid)

	t.Run("iOS shows an alert without mutable-content itself, unverified", func(t *testing.T) {
		del := pushtest.Delivery{Provider: "apns", App: r.IOS.BundleID, Token: ios.Token(),
			Payload: json.RawMessage(`{"aps":{"alert":{"title":"T","body":"B"},"badge":3},"ack_id":"x1","server_id":"` + r.Server.ID() + `"}`)}
		n, err := ios.Handle(context.Background(), del)
		if err != nil || n == nil || n.Verified || n.Body != "B" || n.Badge != 3 {
			t.Fatalf("n %+v err %v", n, err)
		}
	})
	t.Run("Android shows a notification block itself, unverified", func(t *testing.T) {
		del := pushtest.Delivery{Provider: "fcm", App: r.Droid.Package, Token: droid.Token(),
			Payload: json.RawMessage(`{"notification":{"title":"T","body":"B"},"data":{"server_id":"` + r.Server.ID() + `"}}`)}
		n, err := droid.Handle(context.Background(), del)
		if err != nil || n == nil || n.Verified || n.Title != "T" {
			t.Fatalf("n %+v err %v", n, err)
		}
	})
	for _, d := range []*Device{ios, droid} {
		t.Run(string(d.App.Platform)+" clear removes the channel's notifications and sets the badge", func(t *testing.T) {
			a := r.Send(serversim.Message{UserID: d.User, ChannelID: "c1", ChannelName: "one", Message: "1"})
			r.Send(serversim.Message{UserID: d.User, ChannelID: "c2", ChannelName: "two", Message: "2"})
			if d.State().Badge != 2 {
				t.Fatalf("badge %d, want 2", d.State().Badge)
			}
			zero := 0
			c := r.Send(serversim.Message{UserID: d.User, Type: PushClear, ChannelID: "c1", Badge: &zero})
			for _, n := range d.Shown() {
				if n.ChannelID == "c1" {
					t.Errorf("c1 still shown: %+v", n)
				}
			}
			if e, _ := r.Last(c.AckID, events.DeviceDisplayed); e.Status != "cleared" {
				t.Errorf("clear event %+v", e)
			}
			if _, ok := r.Last(a.AckID, events.DeviceDisplayed); !ok {
				t.Error("first message never shown")
			}
			if d.State().Badge != 0 {
				t.Errorf("badge %d after clear", d.State().Badge)
			}
			five := 5
			r.Send(serversim.Message{UserID: d.User, Type: PushUpdateBadge, Badge: &five})
			if d.State().Badge != 5 {
				t.Errorf("badge %d after update_badge 5", d.State().Badge)
			}
		})
	}
	t.Run("uninstalled app takes nothing", func(t *testing.T) {
		d := r.Add("gone", r.IOS)
		tok := d.Token()
		d.Uninstall(context.Background())
		_, err := d.Handle(context.Background(), pushtest.Delivery{App: r.IOS.BundleID, Token: tok, Payload: json.RawMessage(`{"aps":{}}`)})
		if ReasonOf(err) != ReasonNotInstalled {
			t.Errorf("err %v", err)
		}
		if _, ok := r.APNsReg.Lookup(tok); !ok {
			t.Error("token unknown to the provider")
		} else if reg, _ := r.APNsReg.Lookup(tok); reg.Installed {
			t.Error("the provider still thinks the app is installed")
		}
	})
}

func TestIDLoadedAndTestPush(t *testing.T) {
	r := simtest.New(t, serversim.Config{Contents: serversim.ContentsIDLoaded})
	d := r.Add("droid", r.Droid)
	res := r.Send(serversim.Message{UserID: d.User, ChannelName: "ch", SenderName: "carol", Message: "fetched later"})
	n, _ := d.Last()
	if n.Body != "fetched later" || !n.Fetched || n.Title != "ch" {
		t.Errorf("shown %+v", n)
	}
	sent, _ := r.Last(res.AckID, events.ServerSent)
	if strings.Contains(sent.Payload, "fetched later") || strings.Contains(sent.Payload, "carol") {
		t.Errorf("id-loaded push carried contents: %s", sent.Payload)
	}
	r.Send(serversim.Message{SessionID: d.SessionID(), Type: PushTest})
	if n, _ := d.Last(); n.Body != TestMessage || n.Type != PushTest {
		t.Errorf("test push shown as %+v", n)
	}
}

// downServer is a server the device cannot attach to.
type downServer struct{}

func (downServer) AttachDevice(context.Context, SessionRequest) (SessionResponse, error) {
	return SessionResponse{}, errors.New("connection refused")
}
func (downServer) Ack(context.Context, string, Ack) (AckResponse, error) {
	return AckResponse{}, errors.New("connection refused")
}

// An install that cannot attach to the server leaves no live token at the
// push service: the app never got going, so nothing may push to it.
func TestFailedInstallLeavesNoToken(t *testing.T) {
	hub, reg := mockkit.NewHub(mockkit.APNsStorage, nil), mockkit.NewRegistry(func() string { return "0123456789abcdef0123" }, nil)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f, err := NewFleet(FleetConfig{Server: downServer{}, Pinned: map[string]*ecdsa.PublicKey{"k": &key.PublicKey},
		APNs: simtest.HubProvider(hub, reg)})
	if err != nil {
		t.Fatal(err)
	}
	app := App{Name: "ios", Platform: IOS, ProxyType: TypeApple, TeamID: "TEAM123456", BundleID: "com.example.app", Environment: testpki.Production}
	d, err := f.Add(context.Background(), "ios-1", "alice", app)
	if err == nil {
		t.Fatal("Add succeeded without a server")
	}
	for _, r := range reg.List() {
		if r.Installed {
			t.Fatalf("token %s still registered after the failed install (%v)", r.Token, err)
		}
	}
	if reg.Len() == 0 {
		t.Fatal("the install never registered a token: the test proves nothing")
	}
	if d.State().Online {
		t.Fatal("the device stayed online")
	}
}

// noVersion is a server link whose session answer lacks the server's
// release, as an app that never loaded the server's config.
type noVersion struct{ ServerLink }

func (l noVersion) AttachDevice(ctx context.Context, req SessionRequest) (SessionResponse, error) {
	resp, err := l.ServerLink.AttachDevice(ctx, req)
	resp.ServerVersion = ""
	return resp, err
}

// NO_SIGNATURE from a server whose release the app does not know is refused.
func TestNoSignatureUnknownServerVersion(t *testing.T) {
	r := simtest.New(t, serversim.Config{Contents: serversim.ContentsFull})
	f, err := NewFleet(FleetConfig{Server: noVersion{r.Server.Link()}, Pinned: map[string]*ecdsa.PublicKey{"kid-1": &r.Key.PublicKey},
		APNs: simtest.HubProvider(r.APNs, r.APNsReg), FCM: simtest.HubProvider(r.FCM, r.FCMReg), Bus: r.Bus})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Add(context.Background(), "nv", "user-nv", r.Droid); err != nil {
		t.Fatal(err)
	}
	res, err := r.Server.Send(context.Background(), serversim.Message{UserID: "user-nv", Message: "x", Signature: serversim.SignatureNone})
	if err != nil || len(res) != 1 {
		t.Fatalf("send: %v %+v", err, res)
	}
	f.Wait()
	var got string
	for _, e := range r.Bus.Trace(res[0].AckID) {
		if e.Hop == events.DeviceSignatureBad {
			got = e.Status
		}
	}
	if got != string(ReasonNoServerVersion) {
		t.Fatalf("device.signature_bad %q, want %q", got, ReasonNoServerVersion)
	}
}
