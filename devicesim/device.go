package devicesim

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/pushlab/pushlab/pushtest"
)

// Device is one simulated phone with one app. It implements
// pushtest.Receiver: Deliver returns at once and the push is handled on a
// short-lived goroutine (or call Handle to do it synchronously).
type Device struct {
	Name string
	User string
	App  App

	fleet *Fleet
	actor string

	mu        sync.Mutex
	token     string
	key       *pushcrypto.DeviceKey
	session   SessionResponse
	installed bool
	online    bool
	skew      time.Duration
	seen      []string // recent ack ids, a ring that grows to seenMax: replays and resends of a push
	seenNext  int
	shown     []Notification // the last Keep, oldest first
	center    []centerEntry  // what the OS still holds with a collapse id, up to seenMax, oldest first
	badge     int
	stats     Stats

	ptsToken   string              // Live Activities: push-to-start token
	activities *liveactivity.Store // Live Activities, by the device clock
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
	key, err := pushcrypto.GenerateDeviceKey(d.fleet.cfg.Rand)
	if err != nil {
		return err
	}
	p := d.fleet.provider(d.App)
	token, err := p.Register(ctx, d.App, d.Name)
	if err != nil {
		return fmt.Errorf("devicesim: %s: registering with the push service: %w", d.Name, err)
	}
	d.mu.Lock()
	d.token, d.key, d.installed, d.seen, d.shown, d.center, d.badge = token, key, true, nil, nil, nil, -1
	d.mu.Unlock()
	d.emit("", events.DeviceRegistered, "token", fmt.Sprintf("%s issued a token to %s (%s)", providerName(d.App), d.App.ID(), d.App.Env()), false, nil)
	if err := d.GoOnline(); err != nil {
		return errors.Join(err, d.Uninstall(context.WithoutCancel(ctx)))
	}
	if err := d.installActivities(ctx); err != nil {
		return err
	}
	rcpt := key.Recipient()
	resp, err := d.fleet.cfg.Server.AttachDevice(ctx, SessionRequest{
		UserID: d.User, DeviceID: d.App.storedDeviceID(token), DeviceName: d.Name, DeviceKey: &rcpt,
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
	d.emit("", events.DeviceRegistered, "session", fmt.Sprintf("attached to %s's session %s with content key %s (%s)", d.User, resp.SessionID, key.ID, pushcrypto.KeyFingerprint(rcpt.PublicKey)), false, nil)
	return nil
}

// Uninstall deletes the app: the push service kills the token (the next
// push to it is answered Unregistered / UNREGISTERED) and the content key is
// gone. The server is not told, as it is not when a phone deletes an app.
func (d *Device) Uninstall(ctx context.Context) error {
	d.mu.Lock()
	token, installed, pts := d.token, d.installed, d.ptsToken
	d.installed, d.online, d.key = false, false, nil
	d.ptsToken, d.activities = "", nil // the app's Live Activities go with it
	d.mu.Unlock()
	if !installed {
		return nil
	}
	if err := d.fleet.provider(d.App).Uninstall(ctx, token); err != nil {
		return fmt.Errorf("devicesim: %s: uninstall: %w", d.Name, err)
	}
	if pts != "" {
		if err := d.fleet.provider(d.App).Uninstall(ctx, pts); err != nil {
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
	return d.fleet.provider(d.App).Attach(token, d)
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
	return d.fleet.provider(d.App).Detach(token)
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
	return append([]Notification(nil), d.shown...)
}

// Last is the most recent notification shown.
func (d *Device) Last() (Notification, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.shown) == 0 {
		return Notification{}, false
	}
	return d.shown[len(d.shown)-1], true
}

// State snapshots the device.
func (d *Device) State() State {
	d.mu.Lock()
	st := State{Name: d.Name, User: d.User, App: d.App.Name, Platform: d.App.Platform, Session: d.session.SessionID,
		Installed: d.installed, Online: d.online, Skew: d.skew, Badge: d.badge, Stats: d.stats}
	if d.token != "" {
		st.Token = events.RedactToken(d.token)
	}
	if d.key != nil {
		st.KeyID = d.key.ID
	}
	store := d.activities
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
// handled on a goroutine that ends with it.
func (d *Device) Deliver(del pushtest.Delivery) {
	d.fleet.begin()
	go func() {
		defer d.fleet.end()
		pprof.SetGoroutineLabels(deviceLabels) // CPU here is the device's, not the mock's that started us
		d.Handle(context.Background(), del)
	}()
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
	var in inbound
	var perr error
	if d.App.Platform == IOS {
		in, perr = parseAPNs(del.Payload)
	} else {
		in, perr = parseFCM(del.Payload)
	}
	trace := in.AckID
	d.mu.Lock()
	d.stats.Delivered++
	now := d.fleet.cfg.Now().Add(d.skew)
	token, key, session, installed := d.token, d.key, d.session, d.installed
	d.mu.Unlock()
	in.VoIP = del.Headers["apns-push-type"] == "voip"
	plain := typeOr(in.Type) == PushMessage && in.Encrypted == "" && !in.IDLoaded
	if in.VoIP { // no message in a call push; names, if any, travel in clear
		plain = in.SenderName != "" || in.ChannelName != ""
	}
	attrs := map[string]string{"provider": del.Provider, "id": del.ID, "app": del.App}
	how := "online"
	if del.Stored {
		how = "after being stored while offline"
	}
	d.emit(trace, events.DeviceDelivered, del.Provider, fmt.Sprintf("%s push via %s, %s", typeOr(in.Type), del.Provider, how), plain, attrs)

	reject := func(hop events.Hop, r Reason, err error, detail string) (*Notification, error) {
		d.mu.Lock()
		d.stats.Rejected++
		d.mu.Unlock()
		if detail == "" && err != nil {
			detail = err.Error()
		}
		d.emit(trace, hop, string(r), detail, plain, nil)
		return nil, &RejectError{Device: d.Name, AckID: trace, Reason: r, Err: err}
	}
	switch {
	case perr != nil:
		return reject(events.DeviceRejected, ReasonMalformedPayload, perr, "")
	case !installed:
		return reject(events.DeviceRejected, ReasonNotInstalled, nil, "the app is not installed")
	case del.App != d.App.ID():
		return reject(events.DeviceRejected, ReasonWrongApp, nil, fmt.Sprintf("push for %q reached the app %q", del.App, d.App.ID()))
	}
	// The OS replaces a shown notification that has the push's collapse id
	// (apns-collapse-id; an Android notification's tag) before any app code
	// runs: a resend is shown once.
	collapse := collapseOf(d.App.Platform, del, in)
	if collapse != "" && d.replace(trace, collapse, plain) {
		return nil, nil
	}
	// iOS shows an alert by itself unless the service extension may run
	// (mutable-content and some alert text); Android shows a notification
	// block by itself when the app is in the background. The app does not
	// run, so nothing below (server, replay, signature) is checked.
	if (d.App.Platform == IOS && in.HasAlert && !in.MutableContent) || (d.App.Platform == Android && in.SystemNotification) {
		n := d.render(in, now)
		n.CollapseID = collapse
		return d.show(trace, n, "unverified", "shown by the OS without the app: not verified", plain), nil
	}

	serverID := d.fleet.cfg.ServerID
	if serverID == "" {
		serverID = session.ServerID
	}
	if session.SessionID == "" {
		return reject(events.DeviceRejected, ReasonNoSession, nil, "the app is logged into no server")
	}
	if in.ServerID != serverID {
		return reject(events.DeviceRejected, ReasonWrongServer, nil, fmt.Sprintf("server_id %q, the app is logged into %q", in.ServerID, serverID))
	}

	accepted, note, r, err := d.judgeSignature(in, d.App.storedDeviceID(token), session.ServerVersion, now)
	if err != nil {
		_, rerr := reject(events.DeviceSignatureBad, r, err, "")
		return d.fallback(trace, in, now, plain, collapse), rerr
	}
	// After the signature, so that a forged push cannot use up a real ack_id;
	// check and record in one step, so that two copies arriving together
	// (a resend racing its original) are one.
	if !d.claim(trace) {
		return reject(events.DeviceRejected, ReasonDuplicate, nil, "ack_id already handled: a resend or a replay")
	}
	d.emit(trace, events.DeviceSignatureOK, accepted, note, plain, nil)

	switch in.Type {
	case PushClear:
		cleared := d.clear(in.ChannelID, in.Badge)
		where := "of every channel"
		if in.ChannelID != "" {
			where = "of channel " + in.ChannelID
		}
		d.emit(trace, events.DeviceDisplayed, "cleared", fmt.Sprintf("cleared %d notification(s) %s, badge %d", cleared, where, in.Badge), false, nil)
		d.ack(ctx, trace, in, now, session, plain)
		return nil, nil
	case PushUpdateBadge:
		d.mu.Lock()
		d.badge = in.Badge
		d.mu.Unlock()
		d.emit(trace, events.DeviceDisplayed, "badge", fmt.Sprintf("badge set to %d", in.Badge), false, nil)
		d.ack(ctx, trace, in, now, session, plain)
		return nil, nil
	}

	n := d.render(in, now)
	n.Verified, n.CollapseID = accepted == SignatureVerified, collapse
	if in.VoIP {
		return d.ring(ctx, trace, in, n, session, now, plain), nil
	}
	if in.Encrypted != "" {
		var c pushcrypto.Contents
		var err error
		if key == nil {
			err = fmt.Errorf("%w: the device holds no key", pushcrypto.ErrWrongKey)
		} else {
			c, err = pushcrypto.OpenContents(key, in.Encrypted)
		}
		if err != nil {
			r := decryptReason(err)
			if errors.Is(err, pushcrypto.ErrMalformedEnvelope) && !errors.Is(err, pushcrypto.ErrDecrypt) && looksDecrypted(err) {
				r = ReasonBadContents
			}
			_, rerr := reject(events.DeviceDecryptFailed, r, err, "")
			return d.fallback(trace, in, now, plain, collapse), rerr
		}
		d.emit(trace, events.DeviceDecrypted, "OK", "contents opened with key "+key.ID, false, nil)
		applyContents(&n, c)
		if n.Body == "" {
			n.Body = GenericMessage // generic contents: names only
		}
		n.Decrypted = true
	}
	if in.IDLoaded {
		ans, ok := d.ack(ctx, trace, in, now, session, plain)
		if !ok {
			return nil, nil
		}
		applyContents(&n, pushcrypto.Contents{Message: ans.Message, ChannelName: ans.ChannelName, SenderName: ans.SenderName})
		n.ChannelID, n.RootID, n.Fetched = firstOf(ans.ChannelID, n.ChannelID), ans.RootID, true
		return d.show(trace, n, "shown", "id-loaded message fetched from the server", false), nil
	}
	shown := d.show(trace, n, "shown", "", plain)
	d.ack(ctx, trace, in, now, session, plain)
	return shown, nil
}

// render lays the push out as the OS would.
func (d *Device) render(in inbound, now time.Time) Notification {
	n := Notification{AckID: in.AckID, Type: typeOr(in.Type), Title: in.Title, Subtitle: in.Subtitle, Body: in.Body,
		Badge: in.Badge, Sound: in.Sound, ThreadID: in.Thread, Category: in.Category, ChannelID: in.ChannelID,
		PostID: in.PostID, RootID: in.RootID, At: now}
	if d.App.Platform == Android && !in.SystemNotification {
		// A data message: the app lays it out (Mattermost: channel as
		// title, message as body).
		n.Title, n.Body = in.ChannelName, in.Message
		if n.ThreadID == "" {
			n.ThreadID = firstOf(in.RootID, in.ChannelID)
		}
	}
	if n.Type == PushTest && n.Body == "" {
		n.Body = TestMessage // the proxy carries no text for a test push; the app knows what it means
	}
	if in.SenderName != "" && n.Subtitle == "" {
		n.Subtitle = in.SenderName
	}
	if n.Title == "" && n.Subtitle != "" {
		n.Title, n.Subtitle = n.Subtitle, ""
	}
	return n
}

// applyContents puts the opened contents in place of the placeholders.
func applyContents(n *Notification, c pushcrypto.Contents) {
	if c.Message != "" {
		n.Body = c.Message
	}
	switch {
	case c.ChannelName != "":
		n.Title, n.Subtitle = c.ChannelName, c.SenderName
	case c.SenderName != "":
		n.Title, n.Subtitle = c.SenderName, ""
	}
	if c.PostID != "" {
		n.PostID = c.PostID
	}
	if c.RootID != "" {
		n.RootID = c.RootID
	}
}

// fallback is what a failed push leaves on screen: on iOS the service
// extension replaces it with the generic alert (else iOS would show the
// payload as it arrived); an Android app shows nothing.
func (d *Device) fallback(trace string, in inbound, now time.Time, plain bool, collapse string) *Notification {
	if d.App.Platform != IOS || !in.HasAlert {
		return nil
	}
	n := Notification{AckID: in.AckID, Type: typeOr(in.Type), Body: GenericMessage, Badge: in.Badge, Sound: in.Sound,
		At: now, Fallback: true, CollapseID: collapse}
	return d.show(trace, n, "fallback", "verification failed: the generic alert is shown instead", plain)
}

// centerEntry is a notification the OS holds, by its collapse id.
type centerEntry struct{ collapse, channel, ack string }

// collapseOf is the id by which the OS would replace a shown notification
// with this push: APNs' apns-collapse-id for an iOS alert, the tag of an
// Android notification block. A data message has none: the app decides.
func collapseOf(p Platform, del pushtest.Delivery, in inbound) string {
	switch {
	case p == IOS && in.HasAlert:
		return del.CollapseKey
	case p == Android && in.SystemNotification:
		return in.Tag
	}
	return ""
}

// replace puts a push in place of the shown notification with its collapse
// id, if there is one: the card is updated, not shown a second time.
// The notification centre keeps far more than the Keep cards a device
// reports; a push replaces one there too, by its collapse id.
func (d *Device) replace(trace, collapse string, plain bool) bool {
	d.mu.Lock()
	var shown string
	if i := slices.IndexFunc(d.shown, func(n Notification) bool { return n.CollapseID == collapse }); i >= 0 {
		n := &d.shown[i]
		n.Replaced++
		n.At = d.fleet.cfg.Now().Add(d.skew)
		shown = n.AckID
	} else if i := slices.IndexFunc(d.center, func(e centerEntry) bool { return e.collapse == collapse }); i >= 0 {
		shown = d.center[i].ack
	} else {
		d.mu.Unlock()
		return false
	}
	d.stats.Replaced++
	d.mu.Unlock()
	d.emit(trace, events.DeviceReplaced, "replaced", fmt.Sprintf("replaced the notification %s shown with collapse id %q, not shown twice", shown, collapse),
		plain, map[string]string{"collapse_id": collapse, "replaced": shown})
	return true
}

func (d *Device) show(trace string, n Notification, status, note string, plain bool) *Notification {
	n.Plaintext = plain
	d.mu.Lock()
	if len(d.shown) >= d.fleet.cfg.Keep {
		d.shown = append(d.shown[:0], d.shown[1:]...)
	}
	d.shown = append(d.shown, n)
	if n.CollapseID != "" {
		if len(d.center) >= seenMax {
			d.center = d.center[1:]
		}
		d.center = append(d.center, centerEntry{collapse: n.CollapseID, channel: n.ChannelID, ack: n.AckID})
	}
	if n.Badge >= 0 {
		d.badge = n.Badge
	}
	d.stats.Displayed++
	d.mu.Unlock()
	detail := fmt.Sprintf("%q — %q", n.Title, n.Body)
	if n.Subtitle != "" {
		detail = fmt.Sprintf("%q / %q — %q", n.Title, n.Subtitle, n.Body)
	}
	if n.Badge >= 0 {
		detail += fmt.Sprintf(" [badge %d]", n.Badge)
	}
	if note != "" {
		detail += ": " + note
	}
	d.emit(trace, events.DeviceDisplayed, status, detail, plain, nil)
	return &n
}

func (d *Device) clear(channel string, badge int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	kept := d.shown[:0]
	for _, n := range d.shown {
		if channel == "" || n.ChannelID != channel {
			kept = append(kept, n)
		}
	}
	cleared := len(d.shown) - len(kept)
	d.shown = kept
	d.center = slices.DeleteFunc(d.center, func(e centerEntry) bool { return channel == "" || e.channel == channel })
	if badge >= 0 {
		d.badge = badge
	}
	return cleared
}

// ack tells the server the push arrived; the server forwards it to the proxy.
func (d *Device) ack(ctx context.Context, trace string, in inbound, now time.Time, session SessionResponse, plain bool) (AckResponse, bool) {
	// The app reports its OS, as Mattermost's does (Platform.OS).
	a := Ack{ID: in.AckID, ReceivedAt: now.UnixMilli(), Platform: string(d.App.Platform), Type: typeOr(in.Type),
		PostID: in.PostID, IsIDLoaded: in.IDLoaded}
	ans, err := d.fleet.cfg.Server.Ack(ctx, session.Token, a)
	if err != nil {
		d.emit(trace, events.DeviceAcked, "FAIL", "ack failed: "+err.Error(), plain, nil)
		return ans, false
	}
	d.mu.Lock()
	d.stats.Acked++
	d.mu.Unlock()
	detail := "server " + ans.Status + ", proxy " + ans.ProxyStatus
	if ans.ProxyError != "" {
		detail += " (" + ans.ProxyError + ")"
	}
	d.emit(trace, events.DeviceAcked, ans.Status, detail, plain, map[string]string{"proxy_status": ans.ProxyStatus})
	return ans, true
}

// claim records ackID as handled; false if it already was.
func (d *Device) claim(ackID string) bool {
	if ackID == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if slices.Contains(d.seen, ackID) {
		return false
	}
	if len(d.seen) < seenMax {
		d.seen = append(d.seen, ackID)
		return true
	}
	d.seen[d.seenNext] = ackID
	d.seenNext = (d.seenNext + 1) % seenMax
	return true
}

func (d *Device) emit(trace string, hop events.Hop, status, detail string, plain bool, attrs map[string]string) {
	bus := d.fleet.cfg.Bus
	if bus == nil {
		return
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["platform"] = string(d.App.Platform)
	if tok := d.Token(); tok != "" {
		attrs["token"] = events.RedactToken(tok)
	}
	if plain {
		detail = "PLAINTEXT: " + detail
	}
	bus.Publish(events.Event{TraceID: trace, Hop: hop, Actor: d.actor, Status: status, Detail: detail, Plaintext: plain, Attrs: attrs})
}

// signedDevice reads the device_id claim of a signature whose signature
// already verified (the claims mismatch case), to tell a replay to another
// device from a signature moved to another notification.
func signedDevice(sig string) string {
	var c struct {
		DeviceID string `json:"device_id"`
		jwt.RegisteredClaims
	}
	if _, _, err := jwt.NewParser().ParseUnverified(sig, &c); err != nil {
		return ""
	}
	return c.DeviceID
}

// looksDecrypted tells contents that decrypted but are not JSON from a
// broken envelope.
func looksDecrypted(err error) bool {
	return strings.Contains(err.Error(), "contents are not a JSON object")
}

func providerName(a App) string {
	if a.Platform == IOS {
		return "APNs"
	}
	return "FCM"
}

func typeOr(t string) string {
	if t == "" {
		return PushMessage
	}
	return t
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
