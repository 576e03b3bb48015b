package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/pushtest"
)

// Phone is a scenario's device, wherever it runs: a devicesim.Device in this
// process, or a phone of a `pushlab devices` container driven over its
// control API (its token read from the mock that issued it). What the phone
// did is on the event spine either way; Phone answers what the spine does
// not hold: its token, its session, what it shows.
type Phone struct {
	// Name is the device's full name (with the scenario's prefix); its
	// events carry the actor "device:"+Name.
	Name string
	App  devicesim.App

	local  *devicesim.Device
	remote *remoteFleet
}

// remoteFleet is a devices container: its control API, and the mocks'
// control APIs where its phones' tokens are issued.
type remoteFleet struct {
	url, apnsControl, fcmControl string
	client                       *http.Client // carries the control token
}

func localPhone(d *devicesim.Device) *Phone { return &Phone{Name: d.Name, App: *d.App, local: d} }

// Local is the in-process device, if the phone is one.
func (p *Phone) Local() (*devicesim.Device, bool) { return p.local, p.local != nil }

func (p *Phone) call(method, path string, in, out any, want int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return httpjson.Call(ctx, p.remote.client, method, p.remote.url+"/devices/"+url.PathEscape(p.Name)+path, in, out, want)
}

type remoteView struct {
	State devicesim.State          `json:"state"`
	Shown []devicesim.Notification `json:"shown"`
}

func (p *Phone) view() (remoteView, error) {
	var v remoteView
	err := p.call(http.MethodGet, "", nil, &v, http.StatusOK)
	return v, err
}

// Token is the device's current push token ("" if it has none or cannot
// be read).
func (p *Phone) Token() string {
	if p.local != nil {
		return p.local.Token()
	}
	control := p.remote.apnsControl
	if p.App.Platform == devicesim.Android {
		control = p.remote.fcmControl
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var regs []pushtest.Registration
	if err := httpjson.Call(ctx, p.remote.client, http.MethodGet, control+"/control/devices", nil, &regs, http.StatusOK); err != nil {
		return ""
	}
	var tok string
	var at time.Time
	for _, r := range regs {
		if r.Device == p.Name && r.Installed && !r.RegisteredAt.Before(at) {
			tok, at = r.Token, r.RegisteredAt
		}
	}
	return tok
}

// SessionID is the server session the device is attached to.
func (p *Phone) SessionID() string {
	if p.local != nil {
		return p.local.SessionID()
	}
	return p.State().Session
}

// State snapshots the device (zero if it cannot be read).
func (p *Phone) State() devicesim.State {
	if p.local != nil {
		return p.local.State()
	}
	v, _ := p.view()
	return v.State
}

// Shown returns the notifications the device remembers, oldest first.
func (p *Phone) Shown() []devicesim.Notification {
	if p.local != nil {
		return p.local.Shown()
	}
	v, _ := p.view()
	return v.Shown
}

// Last is the most recent notification shown.
func (p *Phone) Last() (devicesim.Notification, bool) {
	shown := p.Shown()
	if len(shown) == 0 {
		return devicesim.Notification{}, false
	}
	return shown[len(shown)-1], true
}

// GoOffline disconnects the device from its push service.
func (p *Phone) GoOffline() error {
	if p.local != nil {
		return p.local.GoOffline()
	}
	return p.call(http.MethodPost, "/offline", nil, nil, http.StatusOK)
}

// Uninstall deletes the app: the push service kills the token.
func (p *Phone) Uninstall(ctx context.Context) error {
	if p.local != nil {
		return p.local.Uninstall(ctx)
	}
	return p.call(http.MethodPost, "/uninstall", nil, nil, http.StatusOK)
}

// errRemotePhone: only a device in this process takes a push by hand.
var errRemotePhone = errors.New("a phone in a devices container takes pushes only from its push service")

// add installs a phone in the devices container.
func (f *remoteFleet) add(ctx context.Context, name, user string, app devicesim.App) (*Phone, error) {
	req := map[string]any{"name": name, "user": user, "identity": app}
	if err := httpjson.Call(ctx, f.client, http.MethodPost, f.url+"/devices", req, nil, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("devices container: %w", err)
	}
	return &Phone{Name: name, App: app, remote: f}, nil
}

// wait returns once the container's phones handle no push.
func (f *remoteFleet) wait() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	httpjson.Call(ctx, f.client, http.MethodGet, f.url+"/devices/idle", nil, nil, http.StatusNoContent)
}
