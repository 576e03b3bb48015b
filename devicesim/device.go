package devicesim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/pushlab/pushlab/pushtest"
)

// Device is one simulated phone with one app. It implements
// pushtest.Receiver: Deliver returns at once and the push is handled on a
// fleet worker (or call Handle to do it synchronously).
type Device struct {
	Name string
	User string
	// App is shared by the fleet's devices of the same app, so that a
	// million phones of one build do not each hold a copy: read it, never
	// change it.
	App *App

	deps *deps // the fleet's world, shared and never changed

	mu        sync.Mutex
	token     string
	key       *contentSecret
	session   SessionResponse
	installed bool
	online    bool
	skew      time.Duration
	hist      *history // nil until the first push: an idle device costs nothing for it
	badge     int
	stats     counters
	live      *liveActivities // nil: the app has no Live Activities, or is not installed
}

// Stats counts what happened to a device's pushes.
type Stats struct {
	Delivered int `json:"delivered"`
	Displayed int `json:"displayed"`
	Acked     int `json:"acked"`
	Rejected  int `json:"rejected"`
	// Replaced: pushes that replaced a shown notification of the same
	// collapse id instead of showing a second one.
	Replaced int `json:"replaced,omitempty"`
}

// State is a device as a tester sees it.
type State struct {
	Name      string        `json:"name"`
	User      string        `json:"user"`
	App       string        `json:"app"`
	Platform  Platform      `json:"platform"`
	Token     string        `json:"token,omitempty"` // redacted
	Session   string        `json:"session,omitempty"`
	KeyID     string        `json:"key_id,omitempty"`
	Installed bool          `json:"installed"`
	Online    bool          `json:"online"`
	Skew      time.Duration `json:"skew"`
	Badge     int           `json:"badge"`
	Stats     Stats         `json:"stats"`
	// Activities are the device's Live Activities with their current content state.
	Activities []liveactivity.Activity `json:"activities,omitempty"`
}

// seenMax bounds the ack ids a device remembers to drop a second push of
// the same notification (a proxy's resend, a replay): enough for a resend
// that comes seconds later at thousands of pushes a second to one device;
// the ring grows only as pushes arrive, so an idle device costs nothing.
const seenMax = 1024

// Install installs the app: a fresh content key, a token from the push
// service, the push connection, and the device attached to the user's
// session on the server. Reinstalling after Uninstall gives a new token.
func (d *Device) Install(ctx context.Context) error {
	key, err := pushcrypto.GenerateDeviceKey(d.deps.rand)
	if err != nil {
		return err
	}
	secret := compactSecret(key)
	token, err := d.provider().Register(ctx, *d.App, d.Name)
	if err != nil {
		return fmt.Errorf("devicesim: %s: registering with the push service: %w", d.Name, err)
	}
	d.mu.Lock()
	d.token, d.key, d.installed, d.hist, d.badge = token, secret, true, nil, -1
	d.mu.Unlock()
	if d.deps.bus != nil { // formatted only for a reader
		d.emit("", events.DeviceRegistered, "token", fmt.Sprintf("%s issued a token to %s (%s)", providerName(*d.App), d.App.ID(), d.App.Env()), false, nil)
	}
	if err := d.GoOnline(); err != nil {
		return errors.Join(err, d.Uninstall(context.WithoutCancel(ctx)))
	}
	if err := d.installActivities(ctx); err != nil {
		return err
	}
	// The key is dropped after this: the server may keep its auth secret
	// rather than a copy.
	ck := ContentKey{ID: key.ID, PublicKey: key.Private.PublicKey(), AuthSecret: key.AuthSecret}
	resp, err := d.deps.server.AttachDevice(ctx, SessionRequest{
		UserID: d.User, DeviceID: d.App.storedDeviceID(token), DeviceName: d.Name, DeviceKey: &ck,
	})
	if err != nil {
		d.emit("", events.DeviceRegistered, "FAIL", "attaching to the server session failed: "+err.Error(), false, nil)
		// No token is left at the push service for an app that never got going.
		if uerr := d.Uninstall(context.WithoutCancel(ctx)); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return fmt.Errorf("devicesim: %s: attaching to the server: %w", d.Name, err)
	}
	d.mu.Lock()
	d.session = resp
	d.mu.Unlock()
	if d.deps.bus != nil { // the fingerprint costs a fifth of an install: only for a reader
		d.emit("", events.DeviceRegistered, "session", fmt.Sprintf("attached to %s's session %s with content key %s (%s)", d.User, resp.SessionID, key.ID, ck.Fingerprint()), false, nil)
	}
	return nil
}

// Uninstall deletes the app: the push service kills the token (the next
// push to it is answered Unregistered / UNREGISTERED) and the content key is
// gone. The server is not told, as it is not when a phone deletes an app.
func (d *Device) Uninstall(ctx context.Context) error {
	d.mu.Lock()
	token, installed, pts := d.token, d.installed, d.live.token()
	d.installed, d.online, d.key = false, false, nil
	d.live = nil // the app's Live Activities go with it
	d.mu.Unlock()
	if !installed {
		return nil
	}
	if err := d.provider().Uninstall(ctx, token); err != nil {
		return fmt.Errorf("devicesim: %s: uninstall: %w", d.Name, err)
	}
	if pts != "" {
		if err := d.provider().Uninstall(ctx, pts); err != nil {
			return fmt.Errorf("devicesim: %s: uninstall: %w", d.Name, err)
		}
	}
	d.emit("", events.DeviceRegistered, "uninstalled", "app deleted: token "+events.RedactToken(token)+" is dead", false, nil)
	return nil
}

// Reinstall is Uninstall then Install: a new token, key and session.
func (d *Device) Reinstall(ctx context.Context) error {
	if err := d.Uninstall(ctx); err != nil {
		return err
	}
	return d.Install(ctx)
}

// GoOnline connects the device to its push service; stored pushes follow.
func (d *Device) GoOnline() error {
	d.mu.Lock()
	if !d.installed || d.online {
		d.mu.Unlock()
		return nil
	}
	d.online = true
	token := d.token
	d.mu.Unlock()
	return d.provider().Attach(token, d)
}

// GoOffline disconnects it: the push service stores pushes by its rules.
func (d *Device) GoOffline() error {
	d.mu.Lock()
	if !d.online {
		d.mu.Unlock()
		return nil
	}
	d.online = false
	token := d.token
	d.mu.Unlock()
	return d.provider().Detach(token)
}

// SetClockSkew sets the device clock to true time + skew.
func (d *Device) SetClockSkew(skew time.Duration) {
	d.mu.Lock()
	d.skew = skew
	d.mu.Unlock()
}

// Token is the current push token ("" before Install).
func (d *Device) Token() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.token
}

// SessionID is the server session the device is attached to.
func (d *Device) SessionID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.session.SessionID
}

// Shown returns the notifications the device remembers, oldest first.
func (d *Device) Shown() []Notification {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Notification(nil), d.past().shown...)
}

// Last is the most recent notification shown.
func (d *Device) Last() (Notification, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	shown := d.past().shown
	if len(shown) == 0 {
		return Notification{}, false
	}
	return shown[len(shown)-1], true
}

// State snapshots the device.
func (d *Device) State() State {
	d.mu.Lock()
	st := State{Name: d.Name, User: d.User, App: d.App.Name, Platform: d.App.Platform, Session: d.session.SessionID,
		Installed: d.installed, Online: d.online, Skew: d.skew, Badge: d.badge, Stats: d.stats.public()}
	if d.token != "" {
		st.Token = events.RedactToken(d.token)
	}
	if d.key != nil {
		st.KeyID = d.key.id.String()
	}
	store := d.live.activities()
	d.mu.Unlock()
	if store != nil { // reads the device clock, which takes d.mu
		st.Activities = store.List()
	}
	return st
}

// deviceLabels marks the goroutines handling pushes in a CPU profile.
var deviceLabels = events.ActorContext(ActorDevices)

// ActorDevices is the pprof actor label of simulated devices' work.
const ActorDevices = "devices"

// Deliver implements pushtest.Receiver: it returns at once; the push is
// handled on one of the fleet's workers, which keep their grown stacks
// from one push to the next (package internal/workers).
func (d *Device) Deliver(del pushtest.Delivery) {
	d.deps.busy.begin()
	d.deps.workers.Go(func() {
		defer d.deps.busy.end()
		d.Handle(context.Background(), del)
	})
}

// Handle does what the phone does with a push, synchronously: check it is
// for this app and server, verify the signature, decrypt, show, ack. It
// returns what was shown (nil if nothing) and a *RejectError when the push
// was refused. Every step goes onto the event spine.
func (d *Device) Handle(ctx context.Context, del pushtest.Delivery) (*Notification, error) {
	if del.Headers["apns-push-type"] == "liveactivity" {
		d.handleActivity(ctx, del)
		return nil, nil
	}
	a := d.receive(del)
	if r := d.accept(a); r != nil {
		return nil, d.refuse(a, r)
	}
	// The OS replaces a shown notification that has the push's collapse id
	// (apns-collapse-id; an Android notification's tag) before any app code
	// runs: a resend is shown once.
	if a.collapse != "" && d.replace(a.trace, a.collapse, a.plain) {
		return nil, nil
	}
	if d.shownByOS(a) {
		n := d.render(a.in, a.now)
		n.CollapseID = a.collapse
		return d.show(a.trace, n, "unverified", "shown by the OS without the app: not verified", a.plain), nil
	}
	if r := d.route(a); r != nil {
		return nil, d.refuse(a, r)
	}
	verdict, note, r := d.judgeSignature(a)
	if r != nil {
		err := d.refuse(a, r) // before the fallback alert, as the phone does it
		return d.fallback(a), err
	}
	// After the signature, so that a forged push cannot use up a real ack_id.
	if r := d.once(a); r != nil {
		return nil, d.refuse(a, r)
	}
	d.emit(a.trace, events.DeviceSignatureOK, verdict, note, a.plain, nil)

	switch a.in.Type {
	case PushClear:
		d.clearShown(ctx, a)
		return nil, nil
	case PushUpdateBadge:
		d.setBadge(ctx, a)
		return nil, nil
	}
	n := d.render(a.in, a.now)
	n.Verified, n.CollapseID = verdict == SignatureVerified, a.collapse
	if a.in.VoIP {
		return d.ring(ctx, a, n), nil
	}
	if a.in.Encrypted != "" {
		if r := d.decrypt(a, &n); r != nil {
			err := d.refuse(a, r)
			return d.fallback(a), err
		}
	}
	if a.in.IDLoaded {
		return d.fetch(ctx, a, n), nil
	}
	shown := d.show(a.trace, n, "shown", "", a.plain)
	d.ack(ctx, a)
	return shown, nil
}
