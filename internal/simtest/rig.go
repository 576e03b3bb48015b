package devicesim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// rig is a server simulator and a fleet joined by a fake proxy that lays
// pushes out roughly as the real one does and hands them to mockkit hubs.
type rig struct {
	t      *testing.T
	bus    *events.Bus
	key    *ecdsa.PrivateKey
	server *Server
	fleet  *Fleet
	apns   *mockkit.Hub
	fcm    *mockkit.Hub
	apnsR  *mockkit.Registry
	fcmR   *mockkit.Registry

	mu     sync.Mutex
	answer string // what the fake proxy answers send_push with ("" = OK, or deliver)
	acks   []Ack
	ios    App
	droid  App
}

func newRig(t *testing.T, cfg ServerConfig) *rig {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r := &rig{t: t, bus: events.NewBus(), key: key}
	n := 0
	tok := func() string { n++; return "tok" + strconv.Itoa(n) + "-0123456789abcdef" }
	r.apns, r.fcm = mockkit.NewHub(mockkit.APNsStorage, nil), mockkit.NewHub(mockkit.FCMStorage, nil)
	r.apnsR, r.fcmR = mockkit.NewRegistry(tok, nil), mockkit.NewRegistry(tok, nil)
	r.ios = App{Name: "ios", Platform: IOS, ProxyType: TypeApple, TeamID: "TEAM123456", BundleID: "com.example.app", Environment: testpki.Production}
	r.droid = App{Name: "android", Platform: Android, ProxyType: TypeAndroid, Package: "com.example.app", ProjectID: "proj"}
	proxy := httptest.NewServer(http.HandlerFunc(r.fakeProxy))
	t.Cleanup(proxy.Close)
	cfg.ProxyURL, cfg.SigningKey, cfg.SigningKeyID, cfg.Bus = proxy.URL, key, "kid-1", r.bus
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.server = s
	f, err := NewFleet(FleetConfig{Server: LocalServer(s), Pinned: map[string]*ecdsa.PublicKey{"kid-1": &key.PublicKey},
		APNs: hubProvider(r.apns, r.apnsR), FCM: hubProvider(r.fcm, r.fcmR), Bus: r.bus})
	if err != nil {
		t.Fatal(err)
	}
	r.fleet = f
	t.Cleanup(f.Close)
	return r
}

func (r *rig) add(name string, app App) *Device {
	r.t.Helper()
	d, err := r.fleet.Add(context.Background(), name, "user-"+name, app)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func (r *rig) send(m Message) SendResult {
	r.t.Helper()
	res, err := r.server.Send(context.Background(), m)
	if err != nil {
		r.t.Fatal(err)
	}
	r.fleet.Wait()
	return res[0]
}

func (r *rig) last(trace string, hop events.Hop) (events.Event, bool) {
	var out events.Event
	found := false
	for _, e := range r.bus.Trace(trace) {
		if e.Hop == hop {
			out, found = e, true
		}
	}
	return out, found
}

func (r *rig) fakeProxy(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/api/v1/ack":
		var a Ack
		json.NewDecoder(req.Body).Decode(&a)
		r.mu.Lock()
		r.acks = append(r.acks, a)
		r.mu.Unlock()
		w.Write([]byte(`{"status":"OK"}`))
	case "/api/v1/send_push":
		var pn PushNotification
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
		if strings.HasPrefix(pn.Platform, TypeApple) {
			d.Provider, d.App, d.Payload = "apns", r.ios.BundleID, apnsPayload(pn)
			r.apns.Send(d)
		} else {
			d.Provider, d.App, d.Payload = "fcm", r.droid.Package, fcmPayload(pn)
			r.fcm.Send(d)
		}
		w.Write([]byte(`{"status":"OK"}`))
	default:
		http.NotFound(w, req)
	}
}

func custom(pn PushNotification) map[string]any {
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
		m[PayloadKeyEncrypted] = pn.Encrypted
	}
	return m
}

func apnsPayload(pn PushNotification) json.RawMessage {
	aps := map[string]any{"badge": pn.Badge}
	if pn.Type == PushMessage {
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

func fcmPayload(pn PushNotification) json.RawMessage {
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

// hubProvider is an in-process provider over a bare mockkit Hub and
// Registry, for tests of devices without a mock server.
func hubProvider(hub *mockkit.Hub, reg *mockkit.Registry) *InProcess {
	return &InProcess{
		RegisterFunc: func(app App, device string) (pushtest.Registration, error) {
			return reg.Register(pushtest.Registration{App: app.ID(), Environment: app.Environment, Project: app.ProjectID, Device: device}), nil
		},
		AttachFunc: hub.Attach, DetachFunc: hub.Detach,
		UninstallFunc: func(token string) error {
			if err := uninstaller(reg.Uninstall)(token); err != nil {
				return err
			}
			hub.Forget(token)
			return nil
		},
	}
}
