package devicesim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"reflect"
	"testing"
)

// Every field of App is part of the key its devices share it by: an App
// field missing from appKey would give two different builds one App.
func TestAppKeyCoversApp(t *testing.T) {
	if a, k := reflect.TypeFor[App]().NumField(), reflect.TypeFor[appKey]().NumField(); a != k {
		t.Fatalf("App has %d fields, appKey %d: add the new one to appKey and keyOf", a, k)
	}
}

// Devices of one app share one copy of it; another build, or another list
// of activity types, is another App.
func TestDevicesShareTheirApp(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f, err := NewFleet(FleetConfig{Server: noServer{}, Pinned: map[string]*ecdsa.PublicKey{"k": &key.PublicKey}, APNs: &InProcess{}})
	if err != nil {
		t.Fatal(err)
	}
	app := App{Name: "ios", Platform: IOS, ProxyType: TypeApple, BundleID: "com.example.app", Environment: "production", ActivityTypes: []string{"A"}}
	add := func(name string, a App) *Device {
		d, err := f.New(name, "u", a)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1, d2 := add("1", app), add("2", app)
	if d1.App != d2.App || !reflect.DeepEqual(*d1.App, app) {
		t.Fatalf("same app: %p %p %+v", d1.App, d2.App, *d1.App)
	}
	app.ActivityTypes[0] = "B" // the caller's slice changing does not change the devices'
	if d1.App.ActivityTypes[0] != "A" {
		t.Fatalf("device app changed with the caller's slice: %v", d1.App.ActivityTypes)
	}
	for i, other := range []App{
		{Name: "ios", Platform: IOS, ProxyType: TypeApple, BundleID: "com.example.app", Environment: "production", ActivityTypes: []string{"B"}},
		{Name: "ios", Platform: IOS, ProxyType: TypeApple, BundleID: "com.example.app", Environment: "production"},
		{Name: "ios", Platform: IOS, ProxyType: TypeApple, BundleID: "com.example.app", Environment: "production", ActivityTypes: []string{""}},
		{Name: "ios", Platform: IOS, ProxyType: TypeApple, BundleID: "com.example.app", Environment: "development", ActivityTypes: []string{"A"}},
	} {
		if d := add("other"+string(rune('a'+i)), other); d.App == d1.App || !reflect.DeepEqual(*d.App, other) {
			t.Errorf("app %+v: got %+v, shared %v", other, *d.App, d.App == d1.App)
		}
	}
}

// noServer is a server link never called: the devices are not installed.
type noServer struct{}

func (noServer) AttachDevice(context.Context, SessionRequest) (SessionResponse, error) {
	panic("not installed")
}
func (noServer) Ack(context.Context, string, Ack) (AckResponse, error) { panic("not installed") }

// A content key id reads back as it was, whether it is kept in place or not.
func TestKeyIDRoundTrip(t *testing.T) {
	for _, id := range []string{"", "abcdefghijkl", "short", "a-longer-key-id-with-a-rotation-counter-7", string(make([]byte, 12))} {
		if got := newKeyID(id).String(); got != id {
			t.Errorf("%q read back as %q", id, got)
		}
	}
}
