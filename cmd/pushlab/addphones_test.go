package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/internal/simtest"
)

// sessionLink attaches every phone to a session, failing the one named fail.
type sessionLink struct {
	fail     string
	attached atomic.Int64
}

func (l *sessionLink) AttachDevice(_ context.Context, req devicesim.SessionRequest) (devicesim.SessionResponse, error) {
	if req.DeviceName == l.fail {
		return devicesim.SessionResponse{}, errors.New("refused")
	}
	n := l.attached.Add(1)
	return devicesim.SessionResponse{SessionID: "s" + strconv.FormatInt(n, 10), Token: "t", ServerID: "srv"}, nil
}

func (*sessionLink) Ack(context.Context, string, devicesim.Ack) (devicesim.AckResponse, error) {
	return devicesim.AckResponse{}, nil
}

// addPhones installs phones several at once and hands them back in name
// order; a failure is reported.
func TestAddPhones(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	reg := mockkit.NewRegistry(func() string { return fmt.Sprintf("%064x", n.Add(1)) }, nil)
	app := devicesim.App{Name: "ios", Platform: devicesim.IOS, ProxyType: devicesim.TypeApple, BundleID: "com.example.app", Environment: "production"}
	for _, fail := range []string{"", "ios-7"} {
		link := &sessionLink{fail: fail}
		fleet, err := devicesim.NewFleet(devicesim.FleetConfig{Server: link, ServerID: "srv", Pinned: map[string]*ecdsa.PublicKey{"k": &key.PublicKey},
			APNs: simtest.HubProvider(mockkit.NewHub(mockkit.APNsStorage, nil), reg)})
		if err != nil {
			t.Fatal(err)
		}
		added, err := addPhones(context.Background(), fleet, "ios", 20, "u", app, 4)
		if fail != "" {
			if err == nil {
				t.Fatalf("phone %s failed to attach, but addPhones reported no error", fail)
			}
			continue
		}
		if err != nil || len(added) != 20 {
			t.Fatalf("%d phones, %v", len(added), err)
		}
		for i, d := range added {
			if want := "ios-" + strconv.Itoa(i+1); d.Name != want || d.State().Session == "" {
				t.Fatalf("phone %d: %s, session %q (want %s, attached)", i, d.Name, d.State().Session, want)
			}
		}
	}
}
