package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// The devices control API installs phones as a harness asks (POST /devices)
// and refuses what it cannot install, with a status that says why.
func TestDevicesAPIAddsPhones(t *testing.T) {
	set, err := testpki.NewSet(testpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fcm, err := mockfcm.New(mockfcm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serversim.New(serversim.Config{ProxyURL: "https://127.0.0.1:1", SigningKey: set.Signing, SigningKeyID: set.SigningKeyID})
	if err != nil {
		t.Fatal(err)
	}
	cfg := devicesim.FleetConfig{Server: srv.Link(), Pinned: devicesim.PinnedKeys(set), FCM: devicesim.FCM(fcm)}
	fleet, err := devicesim.NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	apps := map[string]devicesim.App{"ios": devicesim.IOSTokenApp(set), "android": devicesim.AndroidApp(set)}
	api := httptest.NewServer(fleetAPI(fleet, apps, cfg))
	defer api.Close()
	post := func(body string) (int, string) {
		resp, err := http.Post(api.URL+"/devices", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post(`{"name":"p1","user":"alice","app":"android"}`)
	if code != http.StatusCreated {
		t.Fatalf("add: HTTP %d %s", code, body)
	}
	var st devicesim.State
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Name != "p1" || st.User != "alice" || st.Session == "" {
		t.Fatalf("add answered %s (%v)", body, err)
	}
	if d, ok := fleet.Device("p1"); !ok || d.Token() == "" {
		t.Fatal("the phone was not installed")
	}
	other := devicesim.AndroidApp(set)
	other.ProjectID = "someone-elses-project"
	identity, _ := json.Marshal(map[string]any{"name": "p2", "user": "bob", "identity": other})
	if code, body := post(string(identity)); code != http.StatusCreated {
		t.Fatalf("add with an identity: HTTP %d %s", code, body)
	}
	if d, _ := fleet.Device("p2"); d == nil || d.App.ProjectID != "someone-elses-project" {
		t.Fatal("the identity was not the phone's app")
	}
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"name":"p1","user":"alice","app":"android"}`, http.StatusConflict},   // the name is taken
		{`{"name":"p3","user":"alice","app":"ios"}`, http.StatusConflict},       // no APNs gateway
		{`{"name":"p3","user":"alice","app":"windows"}`, http.StatusBadRequest}, // no such app
		{`{"name":"","user":"alice","app":"android"}`, http.StatusBadRequest},
		{`{"name":`, http.StatusBadRequest},
	} {
		if code, body := post(c.body); code != c.want {
			t.Errorf("%s: HTTP %d %s, want %d", c.body, code, body, c.want)
		}
	}
	resp, err := http.Get(api.URL + "/devices/idle")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("idle: HTTP %d", resp.StatusCode)
	}
	if fleet.Len() != 2 {
		t.Fatalf("%d phones, want 2", fleet.Len())
	}
}
