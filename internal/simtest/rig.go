// Package simtest joins a server simulator and a fleet of simulated phones
// through a fake proxy, for the tests of both packages: devicesim's tests of
// the phones and serversim's of the server.
package simtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// Rig is a server simulator and a fleet joined by a fake proxy that lays
// pushes out roughly as the real one does and hands them to mockkit hubs.
type Rig struct {
	T       *testing.T
	Bus     *events.Bus
	Key     *ecdsa.PrivateKey // the server's signing key, pinned as "kid-1"
	Server  *serversim.Server
	Fleet   *devicesim.Fleet
	APNs    *mockkit.Hub
	FCM     *mockkit.Hub
	APNsReg *mockkit.Registry
	FCMReg  *mockkit.Registry
	IOS     devicesim.App
	Droid   devicesim.App

	mu     sync.Mutex
	answer string // what the fake proxy answers send_push with ("" = OK, or deliver)
	acks   []mmpush.Ack
}

// New starts the fake proxy, a server with cfg (its proxy, signing key and
// bus filled in) and an empty fleet; all stop with the test.
func New(t *testing.T, cfg serversim.Config) *Rig {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r := &Rig{T: t, Bus: events.NewBus(), Key: key}
	n := 0
	tok := func() string { n++; return "tok" + strconv.Itoa(n) + "-0123456789abcdef" }
	r.APNs, r.FCM = mockkit.NewHub(mockkit.APNsStorage, nil), mockkit.NewHub(mockkit.FCMStorage, nil)
	r.APNsReg, r.FCMReg = mockkit.NewRegistry(tok, nil), mockkit.NewRegistry(tok, nil)
	r.APNs.Track(r.APNsReg)
	r.FCM.Track(r.FCMReg)
	r.IOS = devicesim.App{Name: "ios", Platform: devicesim.IOS, ProxyType: devicesim.TypeApple, TeamID: "TEAM123456", BundleID: "com.example.app", Environment: testpki.Production}
	r.Droid = devicesim.App{Name: "android", Platform: devicesim.Android, ProxyType: devicesim.TypeAndroid, Package: "com.example.app", ProjectID: "proj"}
	proxy := httptest.NewServer(http.HandlerFunc(r.fakeProxy))
	t.Cleanup(proxy.Close)
	cfg.ProxyURL, cfg.SigningKey, cfg.SigningKeyID, cfg.Bus = proxy.URL, key, "kid-1", r.Bus
	s, err := serversim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Server = s
	f, err := devicesim.NewFleet(devicesim.FleetConfig{Server: s.Link(), Pinned: map[string]*ecdsa.PublicKey{"kid-1": &key.PublicKey},
		APNs: HubProvider(r.APNs, r.APNsReg), FCM: HubProvider(r.FCM, r.FCMReg), Bus: r.Bus})
	if err != nil {
		t.Fatal(err)
	}
	r.Fleet = f
	t.Cleanup(f.Close)
	return r
}

// Add adds a device with app for the user "user-<name>".
func (r *Rig) Add(name string, app devicesim.App) *devicesim.Device {
	r.T.Helper()
	d, err := r.Fleet.Add(context.Background(), name, "user-"+name, app)
	if err != nil {
		r.T.Fatal(err)
	}
	return d
}

// Send sends m, waits for the devices, and returns the first result.
func (r *Rig) Send(m serversim.Message) serversim.SendResult {
	r.T.Helper()
	res, err := r.Server.Send(context.Background(), m)
	if err != nil {
		r.T.Fatal(err)
	}
	r.Fleet.Wait()
	return res[0]
}

// Last is the last event of hop on trace.
func (r *Rig) Last(trace string, hop events.Hop) (events.Event, bool) {
	var out events.Event
	found := false
	for _, e := range r.Bus.Trace(trace) {
		if e.Hop == hop {
			out, found = e, true
		}
	}
	return out, found
}

// SetAnswer makes the fake proxy answer every send_push with body instead
// of delivering ("": deliver and answer OK).
func (r *Rig) SetAnswer(body string) {
	r.mu.Lock()
	r.answer = body
	r.mu.Unlock()
}

// Acks are the acks the fake proxy got, oldest first.
func (r *Rig) Acks() []mmpush.Ack {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mmpush.Ack(nil), r.acks...)
}

func (r *Rig) fakeProxy(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/api/v1/ack":
		var a mmpush.Ack
		json.NewDecoder(req.Body).Decode(&a)
		r.mu.Lock()
		r.acks = append(r.acks, a)
		r.mu.Unlock()
		w.Write([]byte(`{"status":"OK"}`))
	case "/api/v1/send_push":
		var pn serversim.PushNotification
		if err := json.NewDecoder(req.Body).Decode(&pn); err != nil {
			w.Write([]byte(`{"status":"FAIL","error":"Failed to read message body"}`))
			return
		}
		r.mu.Lock()
		answer := r.answer
		r.mu.Unlock()
		if answer != "" {
			w.Write([]byte(answer))
			return
		}
		d := pushtest.Delivery{Token: pn.DeviceID, ID: "id-" + pn.AckID, AcceptedAt: time.Now()}
		if strings.HasPrefix(pn.Platform, devicesim.TypeApple) {
			d.Provider, d.App, d.Payload = "apns", r.IOS.BundleID, apnsPayload(pn)
			r.APNs.Send(d)
		} else {
			d.Provider, d.App, d.Payload = "fcm", r.Droid.Package, fcmPayload(pn)
			r.FCM.Send(d)
		}
		w.Write([]byte(`{"status":"OK"}`))
	default:
		http.NotFound(w, req)
	}
}

func custom(pn serversim.PushNotification) map[string]any {
	m := map[string]any{"type": pn.Type, "server_id": pn.ServerID, "ack_id": pn.AckID, "signature": pn.Signature,
		"channel_id": pn.ChannelID, "post_id": pn.PostID, "version": pn.Version}
	if pn.Signature == "" {
		m["signature"] = "NO_SIGNATURE"
	}
	if pn.SenderName != "" {
		m["sender_name"] = pn.SenderName
	}
	if pn.IsIDLoaded {
		m["id_loaded"] = true
	}
	if pn.Encrypted != "" { // a proxy that carries pushlab's field
		m[devicesim.PayloadKeyEncrypted] = pn.Encrypted
	}
	return m
}

func apnsPayload(pn serversim.PushNotification) json.RawMessage {
	aps := map[string]any{"badge": pn.Badge}
	if pn.Type == devicesim.PushMessage {
		aps["mutable-content"], aps["content-available"], aps["sound"] = 1, 1, "default"
		if pn.ChannelName != "" {
			aps["alert"] = map[string]string{"title": pn.ChannelName, "body": pn.Message}
		} else {
			aps["alert"] = pn.Message
		}
	} else {
		aps["content-available"] = 1
	}
	m := custom(pn)
	m["aps"] = aps
	b, _ := json.Marshal(m)
	return b
}

func fcmPayload(pn serversim.PushNotification) json.RawMessage {
	data := map[string]string{"badge": strconv.Itoa(pn.Badge), "message": pn.Message, "channel_name": pn.ChannelName}
	for k, v := range custom(pn) {
		switch v := v.(type) {
		case string:
			data[k] = v
		case bool:
			data[k] = strconv.FormatBool(v)
		}
	}
	b, _ := json.Marshal(map[string]any{"data": data, "android": map[string]string{"priority": "high"}})
	return b
}

// HubProvider is an in-process provider over a bare mockkit Hub and
// Registry, for tests of devices without a mock server.
func HubProvider(hub *mockkit.Hub, reg *mockkit.Registry) *devicesim.InProcess {
	return &devicesim.InProcess{
		RegisterFunc: func(app devicesim.App, device string) (pushtest.Registration, error) {
			return reg.Register(pushtest.Registration{App: app.ID(), Environment: app.Environment, Project: app.ProjectID, Device: device}), nil
		},
		AttachFunc: hub.Attach, DetachFunc: hub.Detach,
		UninstallFunc: func(token string) error {
			if _, ok := reg.Uninstall(token); !ok {
				return fmt.Errorf("simtest: the registry never issued token %s", token)
			}
			hub.Forget(token)
			return nil
		},
	}
}
