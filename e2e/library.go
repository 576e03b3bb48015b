package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// FleetSize is the device count of the "fleet/1000" scenario.
const FleetSize = 1000

// Scenarios is the library, in the order a report lists it. Expectations
// are today's documented behaviour (README, proxy/verdict.go); they live in
// the data so that a change of behaviour is a one-line change here.
func Scenarios() []Scenario {
	var all []Scenario
	for _, c := range []serversim.Contents{serversim.ContentsFull, serversim.ContentsGeneric, serversim.ContentsGenericNoChannel, serversim.ContentsIDLoaded} {
		all = append(all, deliverScenario(c))
	}
	all = append(all,
		Scenario{
			Name: "tpns/plaintext", Doc: "no content encryption: delivered in clear, and every server and device event says so",
			Profile: serversim.ProfileTPNS, Contents: serversim.ContentsFull,
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Sends: []SendSpec{
				{To: "ios", Message: msg("in clear"), Expect: Expect{Verdict: "OK", Shown: "in clear", NotHops: []events.Hop{events.DeviceDecrypted}}},
				{To: "droid", Message: msg("in clear"), Expect: Expect{Verdict: "OK", Shown: "in clear", NotHops: []events.Hop{events.DeviceDecrypted}}},
			},
			Run: func(ctx context.Context, env *Env) error {
				for _, tr := range env.Traces() {
					for _, e := range env.Bus.Trace(tr) {
						if (e.Actor == "server" || strings.HasPrefix(e.Actor, "device:")) && !e.Plaintext {
							return fmt.Errorf("%s: %s by %s is not marked plaintext", tr, e.Hop, e.Actor)
						}
					}
				}
				return nil
			},
		},
		Scenario{
			Name: "badge-and-clear", Doc: "two channels, clear one, set the badge: no alert, the app wakes, acts and acks",
			Contents: serversim.ContentsFull,
			Devices:  []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Run:      badgeAndClear,
		},
		Scenario{
			Name: "voip/calls", Doc: "a call push (sub_type calls, transport voip): PushKit on iOS, a data message on Android",
			Contents: serversim.ContentsFull,
			Devices:  []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Sends: []SendSpec{
				// Today the proxy posts a call to the topic's ".voip" variant
				// (push type voip) and the mock accepts it for the app's token.
				{To: "ios", Message: call(), Expect: Expect{Verdict: "OK"}},
				// Android has no PushKit: a call is an ordinary data message
				// with sub_type calls (the server refuses transport voip to it).
				{To: "droid", Message: androidCall(), Expect: Expect{Verdict: "OK"}},
			},
		},
		Scenario{
			Name: "uninstall/remove", Doc: "the app was uninstalled: 410 Unregistered / 404 UNREGISTERED, REMOVE, the server drops the session",
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken, Uninstalled: true}, {Name: "ios-cert", App: IOSCert, Uninstalled: true}, {Name: "droid", App: Android, Uninstalled: true}},
			Sends: []SendSpec{
				{To: "ios", Message: msg("anyone there?"), Expect: Expect{Verdict: "REMOVE", Provider: "Unregistered", SessionRemoved: true}},
				{To: "ios-cert", Message: msg("anyone there?"), Expect: Expect{Verdict: "REMOVE", Provider: "Unregistered", SessionRemoved: true}},
				{To: "droid", Message: msg("anyone there?"), Expect: Expect{Verdict: "REMOVE", Provider: "UNREGISTERED", SessionRemoved: true}},
			},
		},
		Scenario{
			Name: "identity/wrong-bundle-id", Doc: "an iOS build whose bundle id is not the proxy's topic: DeviceTokenNotForTopic, REMOVE",
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken, Edit: func(a *devicesim.App) { a.BundleID = "com.example.rebranded" }}},
			Sends:   []SendSpec{{To: "ios", Message: msg("x"), Expect: Expect{Verdict: "REMOVE", Provider: "DeviceTokenNotForTopic", SessionRemoved: true}}},
		},
		Scenario{
			Name: "identity/sandbox-token-to-production", Doc: "a development build's token sent to production APNs: BadDeviceToken, REMOVE",
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken, Edit: func(a *devicesim.App) { a.Environment = testpki.Development }}},
			Sends:   []SendSpec{{To: "ios", Message: msg("x"), Expect: Expect{Verdict: "REMOVE", Provider: "BadDeviceToken", SessionRemoved: true}}},
		},
		Scenario{
			Name: "identity/other-firebase-project", Doc: "an Android build of another Firebase project: SENDER_ID_MISMATCH, REMOVE",
			Devices: []DeviceSpec{{Name: "droid", App: Android, Edit: func(a *devicesim.App) { a.ProjectID = "someone-elses-project" }}},
			Sends:   []SendSpec{{To: "droid", Message: msg("x"), Expect: Expect{Verdict: "REMOVE", Provider: "SENDER_ID_MISMATCH", SessionRemoved: true}}},
		},
		Scenario{
			Name: "auth/expired-provider-token", Doc: "APNs says ExpiredProviderToken, FCM UNAUTHENTICATED, once: FAIL reported (not retried), the next push goes through",
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Faults: []FaultSpec{
				{Provider: APNs, Device: "ios", Fault: pushtest.Fault{Action: pushtest.Respond, Status: 403, Reason: "ExpiredProviderToken", Count: 1}},
				{Provider: FCM, Device: "droid", Fault: pushtest.Fault{Action: pushtest.Respond, Status: 401, Reason: "UNAUTHENTICATED", Count: 1}},
			},
			Sends: []SendSpec{
				{To: "ios", Message: msg("first"), Expect: Expect{Verdict: "FAIL", Provider: "ExpiredProviderToken"}},
				{To: "ios", Message: msg("second"), Expect: Expect{Verdict: "OK", Shown: "second"}},
				// The mock names a 401 by its FCM error code, THIRD_PARTY_AUTH_ERROR.
				{To: "droid", Message: msg("first"), Expect: Expect{Verdict: "FAIL", Provider: "THIRD_PARTY_AUTH_ERROR"}},
				{To: "droid", Message: msg("second"), Expect: Expect{Verdict: "OK", Shown: "second"}},
			},
		},
		Scenario{
			Name: "auth/provider-token-aged", Doc: "APNs' clock runs an hour ahead of the proxy's: its provider token is expired there, ExpiredProviderToken is reported, and once the clocks agree pushes go through",
			// The mock's clock is shared: alone.
			Exclusive: true,
			Devices:   []DeviceSpec{{Name: "ios", App: IOSToken}},
			Run:       providerTokenAged,
		},
		Scenario{
			Name: "retry/apns-503-shutdown", Doc: "a burst of 503 Shutdown: the proxy retries with backoff and the push is delivered exactly once",
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken}},
			Faults:  []FaultSpec{{Provider: APNs, Device: "ios", Fault: pushtest.Fault{Action: pushtest.Respond, Status: 503, Reason: "Shutdown", Count: 2}}},
			Sends:   []SendSpec{{To: "ios", Message: msg("after the storm"), Expect: Expect{Verdict: "OK", Shown: "after the storm"}}},
		},
		Scenario{
			Name: "retry/fcm-503-unavailable", Doc: "FCM answers 503 UNAVAILABLE twice: the firebase client retries, delivered exactly once",
			Devices: []DeviceSpec{{Name: "droid", App: Android}},
			Faults:  []FaultSpec{{Provider: FCM, Device: "droid", Fault: pushtest.Fault{Action: pushtest.Respond, Status: 503, Reason: "UNAVAILABLE", Count: 2}}},
			Sends:   []SendSpec{{To: "droid", Message: msg("after the outage"), Expect: Expect{Verdict: "OK", Shown: "after the outage"}}},
		},
		Scenario{
			Name: "retry/fcm-quota-retry-after", Doc: "FCM QUOTA_EXCEEDED with Retry-After: retried after the wait, delivered exactly once",
			Devices: []DeviceSpec{{Name: "droid", App: Android}},
			Faults:  []FaultSpec{{Provider: FCM, Device: "droid", Fault: pushtest.Fault{Action: pushtest.Respond, Status: 429, Reason: "QUOTA_EXCEEDED", RetryAfter: "1", Count: 1}}},
			Sends:   []SendSpec{{To: "droid", Message: msg("slowly"), Expect: Expect{Verdict: "OK", Shown: "slowly"}}},
		},
		Scenario{
			Name: "timeout/provider-latency", Doc: "the provider answers after the proxy's timeout: FAIL reported, nothing silently lost",
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken}},
			Faults: []FaultSpec{{Provider: APNs, Device: "ios", Fault: pushtest.Fault{Action: pushtest.Delay,
				Latency: ProxySendTimeout + 2*time.Second}}},
			// The mock serves the request once the delay is over, so the
			// device may get a push the server was told FAILed: the
			// accounting flags that, and this expectation says whether it
			// may happen.
			Sends: []SendSpec{{To: "ios", Message: msg("too slow"), Expect: Expect{Verdict: "FAIL", Hops: []events.Hop{events.ServerAnswered}, Delivered: intp(0)}}},
		},
		Scenario{
			Name: "transport/connection-reset", Doc: "the connection is reset with the request in flight: reported, never silently lost; the next push goes through",
			// A reset kills every stream of the proxy's one connection: alone.
			Exclusive: true,
			Devices:   []DeviceSpec{{Name: "ios", App: IOSToken}},
			Faults:    []FaultSpec{{Provider: APNs, Device: "ios", Fault: pushtest.Fault{Action: pushtest.Reset, Count: 1}}},
			Sends: []SendSpec{
				// Reset before the request left: retried, OK. Reset after: the
				// proxy cannot know whether APNs took it and does not resend
				// (it might deliver twice): FAIL. Either way, accounted.
				{To: "ios", Message: msg("reset"), Expect: Expect{Hops: []events.Hop{events.ServerAnswered}}},
				{To: "ios", Message: msg("after the reset"), Expect: Expect{Verdict: "OK", Shown: "after the reset"}},
			},
		},
		Scenario{
			Name: "transport/goaway", Doc: "APNs answers, then sends GOAWAY: the answer counts, the proxy reconnects for the next push",
			Exclusive: true,
			Devices:   []DeviceSpec{{Name: "ios", App: IOSToken}},
			Faults:    []FaultSpec{{Provider: APNs, Device: "ios", Fault: pushtest.Fault{Action: pushtest.GoAway, Count: 1}}},
			Sends: []SendSpec{
				{To: "ios", Message: msg("before goaway"), Expect: Expect{Verdict: "OK", Shown: "before goaway"}},
				{To: "ios", Message: msg("after goaway"), Expect: Expect{Verdict: "OK", Shown: "after goaway"}},
			},
		},
		Scenario{
			Name: "security/forged-signature", Doc: "a server holding another key under the pinned key id: rejected on the device, never acked",
			Contents: serversim.ContentsFull,
			Devices:  []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Run:      forgedSignature,
		},
		Scenario{
			Name: "security/replay", Doc: "a captured push replayed to the same device and to another: both refused",
			LocalDevices: "it hands a captured push to the phone itself, as a rogue push service would: only a phone in the harness process takes a push from anything but its push service",
			Contents:     serversim.ContentsFull,
			Devices:      []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "ios-other", App: IOSToken}, {Name: "droid", App: Android}, {Name: "droid-other", App: Android}},
			Run:          replay,
		},
		Scenario{
			Name: "security/tampered-payload", Doc: "one character of the sealed contents changed: the device refuses to decrypt",
			LocalDevices: "it hands a captured push to the phone itself, as a rogue push service would: only a phone in the harness process takes a push from anything but its push service",
			Contents:     serversim.ContentsFull,
			Devices:      []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Run:          tampered,
		},
		Scenario{
			Name: "limits/payload-too-large", Doc: "a push over the provider's 4 KiB: PayloadTooLarge / INVALID_ARGUMENT, FAIL reported",
			Profile: serversim.ProfileTPNS, Contents: serversim.ContentsFull,
			Devices: []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Sends: []SendSpec{
				{To: "ios", Message: huge(), Expect: Expect{Verdict: "FAIL", Provider: "PayloadTooLarge"}},
				{To: "droid", Message: huge(), Expect: Expect{Verdict: "FAIL", Provider: "INVALID_ARGUMENT"}},
			},
		},
		Scenario{
			Name: "proxy/restart-mid-stream", Doc: "the proxy container restarts while pushes flow: every push before, during and after is accounted",
			Only: Containers, Exclusive: true, Contents: serversim.ContentsFull,
			// A device that acks while the proxy is down is told so (its
			// ack FAILs, reported); that is what a restart costs.
			AcksMayFail: true,
			Devices:     []DeviceSpec{{Name: "ios", App: IOSToken}, {Name: "droid", App: Android}},
			Run:         restartMidStream,
		},
		Scenario{
			Name: "fleet/1000", Doc: fmt.Sprintf("%d devices, half iOS and half Android, sent to concurrently: every one accounted", FleetSize),
			Heavy: true, Exclusive: true, Contents: serversim.ContentsFull,
			Run: fleet,
		},
	)
	return all
}

// ProxySendTimeout bounds one send_push in the proxies the harness starts
// (SendTimeoutSec in the config it writes).
const ProxySendTimeout = 6 * time.Second

// ProxyTryTimeout bounds one try (RetryTimeoutSec).
const ProxyTryTimeout = 2 * time.Second

// collectLimit bounds how long a scenario waits for its events to settle.
const collectLimit = 30 * time.Second

func msg(text string) serversim.Message {
	return serversim.Message{ChannelID: "chan-town", ChannelName: "Town Square", SenderName: "alice", Message: text}
}

func call() serversim.Message {
	m := msg("incoming call")
	m.SubType, m.Transport = "calls", "voip"
	return m
}

func androidCall() serversim.Message {
	m := msg("incoming call")
	m.SubType = "calls"
	return m
}

func huge() serversim.Message {
	// The proxy cuts message and channel_name (upstream's limits); the
	// sender's name it carries whole: 5,000 bytes, past 4 KiB in any layout.
	m := msg(strings.Repeat("big ", 500))
	m.SenderName = strings.Repeat("a very long display name ", 200)
	return m
}

func deliverScenario(c serversim.Contents) Scenario {
	want := func(text string) string {
		switch c {
		case serversim.ContentsGeneric, serversim.ContentsGenericNoChannel:
			return devicesim.GenericMessage
		}
		return text
	}
	ok := Expect{Verdict: "OK", Fetched: c == serversim.ContentsIDLoaded,
		NotHops: []events.Hop{events.DeviceSignatureBad, events.DeviceDecryptFailed, events.DeviceRejected}}
	if c != serversim.ContentsIDLoaded {
		ok.Hops = append(append([]events.Hop{}, deliveredHops...), events.DeviceDecrypted)
	}
	doc := fmt.Sprintf("contents %s to iOS (token and certificate auth) and Android (both types): delivered, verified, shown, acked", c)
	if c == serversim.ContentsIDLoaded {
		doc = "id-loaded: only ids travel, the device fetches the message with its ack"
	}
	s := Scenario{Name: "deliver/" + string(c), Doc: doc, Contents: c}
	for _, k := range []AppKind{IOSToken, IOSCert, Android, AndroidRN} {
		text := fmt.Sprintf("hello %s in %s ✓", k, c)
		e := ok
		e.Shown = want(text)
		s.Devices = append(s.Devices, DeviceSpec{Name: string(k), App: k})
		s.Sends = append(s.Sends, SendSpec{To: string(k), Message: msg(text), Expect: e})
	}
	return s
}

func badgeAndClear(ctx context.Context, env *Env) error {
	for _, name := range []string{"ios", "droid"} {
		d, _ := env.Device(name)
		a, b := msg("one"), msg("two")
		a.ChannelID, b.ChannelID = "chan-a", "chan-b"
		for _, m := range []serversim.Message{a, b} {
			r, err := env.SendTo(ctx, d, m)
			if err != nil || r.Status != serversim.StatusOK {
				return fmt.Errorf("%s: %v %+v", name, err, r)
			}
			// Across processes the proxy's OK comes before the push reaches
			// the phone: shown first, then cleared.
			if err := waitEvent(ctx, env, r.AckID, events.DeviceDisplayed, "shown"); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		r, err := env.SendTo(ctx, d, serversim.Message{Type: devicesim.PushClear, ChannelID: "chan-a"})
		if err != nil || r.Status != serversim.StatusOK {
			return fmt.Errorf("%s clear: %v %+v", name, err, r)
		}
		if err := waitEvent(ctx, env, r.AckID, events.DeviceDisplayed, "cleared"); err != nil {
			return fmt.Errorf("%s clear: %w", name, err)
		}
		if shown := d.Shown(); len(shown) != 1 || shown[0].ChannelID != "chan-b" {
			return fmt.Errorf("%s: after clearing chan-a the device shows %d notifications (want only chan-b's)", name, len(shown))
		}
		seven := 7
		r, err = env.SendTo(ctx, d, serversim.Message{Type: devicesim.PushUpdateBadge, Badge: &seven})
		if err != nil || r.Status != serversim.StatusOK {
			return fmt.Errorf("%s update_badge: %v %+v", name, err, r)
		}
		if err := waitEvent(ctx, env, r.AckID, events.DeviceAcked, ""); err != nil {
			return fmt.Errorf("%s update_badge: %w", name, err)
		}
		if b := d.State().Badge; b != 7 {
			return fmt.Errorf("%s: badge %d after update_badge 7", name, b)
		}
	}
	return nil
}

func providerTokenAged(ctx context.Context, env *Env) error {
	d, _ := env.Device("ios")
	clock := env.APNsControl + "/control/clock"
	if err := env.controlCall(ctx, "POST", clock, map[string]string{"advance": "61m"}, 0, nil); err != nil {
		return err
	}
	r, err := env.SendTo(ctx, d, msg("from the past"))
	if rerr := env.controlCall(context.WithoutCancel(ctx), "POST", clock, map[string]bool{"reset": true}, 0, nil); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	if r.Status != serversim.StatusFail {
		return fmt.Errorf("with APNs an hour ahead the proxy answered %s, want FAIL (ExpiredProviderToken) (ack_id %s)", r.Status, r.AckID)
	}
	if err := waitEvent(ctx, env, r.AckID, events.ServerAnswered, ""); err != nil {
		return err
	}
	if got := providerReason(env.Bus.Trace(r.AckID)); !strings.Contains(got, "ExpiredProviderToken") {
		return fmt.Errorf("provider reason %q, want ExpiredProviderToken (ack_id %s)", got, r.AckID)
	}
	r, err = env.SendTo(ctx, d, msg("clocks agree"))
	if err != nil || r.Status != serversim.StatusOK {
		return fmt.Errorf("after the clocks agree: %v %+v (ack_id %s)", err, r, r.AckID)
	}
	return nil
}

// waitEvent waits for a hop (with a status, if given) on a trace.
func waitEvent(ctx context.Context, env *Env, trace string, hop events.Hop, status string) error {
	deadline := time.Now().Add(collectLimit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, e := range env.Bus.Trace(trace) {
			if e.Hop == hop && (status == "" || e.Status == status) {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no %s %s on %s:\n%s", hop, status, trace, Timeline(env.Bus.Trace(trace)))
}

// expectRefused checks that d refused trace with hop/reason and never acked.
func expectRefused(ctx context.Context, env *Env, d *Phone, trace string, hop events.Hop, reason devicesim.Reason) error {
	if err := waitEvent(ctx, env, trace, hop, string(reason)); err != nil {
		return fmt.Errorf("%s: want %s %s: %w", d.Name, hop, reason, err)
	}
	for _, e := range env.Bus.Trace(trace) {
		if e.Actor == "device:"+d.Name && e.Hop == events.DeviceAcked {
			return fmt.Errorf("%s acked a push it should have refused (%s):\n%s", d.Name, reason, Timeline(env.Bus.Trace(trace)))
		}
	}
	return nil
}

func forgedSignature(ctx context.Context, env *Env) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	// Another key under the pinned key id, posting through the same proxy.
	forger, err := serversim.New(serversim.Config{ID: env.Server.ID(), ProxyURL: env.ProxyURL,
		ProxyClient: env.ProxyClient, SigningKey: key, SigningKeyID: env.Set.SigningKeyID,
		Contents: serversim.ContentsFull, Bus: env.Bus})
	if err != nil {
		return err
	}
	for _, name := range []string{"ios", "droid"} {
		d, _ := env.Device(name)
		sess, err := forger.AttachDevice(devicesim.SessionRequest{UserID: "eve", DeviceID: d.App.ProxyType + ":" + d.Token()})
		if err != nil {
			return err
		}
		res, err := forger.Send(ctx, serversim.Message{SessionID: sess.SessionID, ChannelName: "x", Message: "click here"})
		if err != nil || len(res) != 1 || res[0].Status != serversim.StatusOK {
			return fmt.Errorf("forged send to %s: %v %+v", name, err, res)
		}
		env.Track(res[0].AckID)
		env.WaitDevices()
		if err := expectRefused(ctx, env, d, res[0].AckID, events.DeviceSignatureBad, devicesim.ReasonBadSignature); err != nil {
			return err
		}
	}
	return nil
}

// capturePending takes what the provider holds for d while it is offline: d stays
// offline, so the scenario is the only one to hand the push to a device.
func capturePending(ctx context.Context, env *Env, d *Phone, text string) (pushtest.Delivery, string, error) {
	if err := d.GoOffline(); err != nil {
		return pushtest.Delivery{}, "", err
	}
	r, err := env.SendTo(ctx, d, msg(text))
	if err != nil || r.Status != serversim.StatusOK {
		return pushtest.Delivery{}, "", fmt.Errorf("capture: %v %+v", err, r)
	}
	var pending []pushtest.Delivery
	deadline := time.Now().Add(collectLimit)
	for len(pending) == 0 && time.Now().Before(deadline) {
		if pending, err = env.Pending(ctx, d); err != nil {
			return pushtest.Delivery{}, "", err
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range pending {
		if strings.Contains(string(p.Payload), r.AckID) {
			return p, r.AckID, nil
		}
	}
	return pushtest.Delivery{}, "", fmt.Errorf("capture: the provider holds nothing with ack_id %s for %s", r.AckID, d.Name)
}

func replay(ctx context.Context, env *Env) error {
	for _, p := range []string{"ios", "droid"} {
		victim, _ := env.Device(p)
		other, _ := env.Device(p + "-other")
		del, ack, err := capturePending(ctx, env, victim, "the secret")
		if err != nil {
			return err
		}
		if err := env.Inject(victim, del, ack); err != nil { // first time: accepted
			return err
		}
		if err := waitEvent(ctx, env, ack, events.DeviceDisplayed, ""); err != nil {
			return err
		}
		if err := env.Inject(victim, del, ack); err != nil { // again: a replay, never shown or acked twice
			return err
		}
		if err := notTwice(ctx, env, victim, ack); err != nil {
			return err
		}
		moved := del
		moved.Token = other.Token()
		if err := env.Inject(other, moved, ack); err != nil {
			return err
		}
		if err := expectRefused(ctx, env, other, ack, events.DeviceSignatureBad, devicesim.ReasonWrongDevice); err != nil {
			return err
		}
	}
	return nil
}

// notTwice waits for the device's answer to a replay — refused as a
// duplicate, or (a push carrying a collapse id) folded into the one shown —
// and checks it was shown and acked once.
func notTwice(ctx context.Context, env *Env, d *Phone, ack string) error {
	deadline := time.Now().Add(collectLimit)
	for {
		tr := env.Bus.Trace(ack)
		answered := false
		for _, e := range tr {
			if e.Actor == "device:"+d.Name && (e.Hop == events.DeviceReplaced || e.Hop == events.DeviceRejected && e.Status == string(devicesim.ReasonDuplicate)) {
				answered = true
			}
		}
		if answered {
			if shown, acked := count(tr, events.DeviceDisplayed), count(tr, events.DeviceAcked); shown != 1 || acked != 1 {
				return fmt.Errorf("%s: a replay was shown %d times and acked %d times, want once each:\n%s", d.Name, shown, acked, Timeline(tr))
			}
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: a replay was neither refused as a duplicate nor folded into the notification shown:\n%s", d.Name, Timeline(tr))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tampered(ctx context.Context, env *Env) error {
	for _, p := range []string{"ios", "droid"} {
		d, _ := env.Device(p)
		del, ack, err := capturePending(ctx, env, d, "the secret")
		if err != nil {
			return err
		}
		if del.Payload, err = tamperEnvelope(del.Payload); err != nil {
			return err
		}
		if err := env.Inject(d, del, ack); err != nil {
			return err
		}
		if err := expectRefused(ctx, env, d, ack, events.DeviceDecryptFailed, devicesim.ReasonTampered); err != nil {
			return err
		}
	}
	return nil
}

// tamperEnvelope flips one character in the middle of the envelope in a payload.
func tamperEnvelope(payload []byte) ([]byte, error) {
	s := string(payload)
	i := strings.Index(s, `"v1.`)
	if i < 0 {
		return nil, fmt.Errorf("no sealed envelope in the payload: %.200s", payload)
	}
	j := i + 1 + strings.IndexByte(s[i+1:], '"')
	mid := (i + j) / 2
	c := byte('A')
	if s[mid] == 'A' {
		c = 'B'
	}
	return []byte(s[:mid] + string(c) + s[mid+1:]), nil
}

func restartMidStream(ctx context.Context, env *Env) error {
	ios, _ := env.Device("ios")
	droid, _ := env.Device("droid")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var sendErr error
	var mu sync.Mutex
	// Pushes keep flowing while the proxy restarts; each is accounted.
	for _, d := range []*Phone{ios, droid} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := env.SendTo(ctx, d, msg(fmt.Sprintf("stream %d", i))); err != nil && !errors.Is(err, context.Canceled) {
					mu.Lock()
					sendErr = err
					mu.Unlock()
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	err := env.deployment.RestartProxy(ctx)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("restart the proxy: %w", err)
	}
	if sendErr != nil {
		return sendErr
	}
	// After the restart the proxy serves again.
	for _, d := range []*Phone{ios, droid} {
		var r serversim.SendResult
		deadline := time.Now().Add(collectLimit)
		for time.Now().Before(deadline) {
			if r, err = env.SendTo(ctx, d, msg("after the restart")); err == nil && r.Status == serversim.StatusOK {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if r.Status != serversim.StatusOK {
			return fmt.Errorf("%s after the restart: %v %+v", d.Name, err, r)
		}
	}
	return nil
}

func fleet(ctx context.Context, env *Env) error {
	devs := make([]*Phone, FleetSize)
	var g errgroup.Group
	g.SetLimit(64)
	for i := range devs {
		g.Go(func() error {
			app := env.IOSToken
			if i%2 == 1 {
				app = env.Android
			}
			d, err := env.AddDevice(ctx, fmt.Sprintf("fleet-%04d", i), app)
			devs[i] = d
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	results := make([]serversim.SendResult, FleetSize)
	// Every device is sent to at once, 16 sends in flight: more only queues on
	// two cores (under -race a notification costs ~15 ms of CPU), and a queue
	// longer than the proxy's try timeout turns into resends, not into load.
	g = errgroup.Group{}
	g.SetLimit(16)
	for i, d := range devs {
		g.Go(func() error {
			m := msg(fmt.Sprintf("to %d of %d", i, FleetSize))
			m.SessionID = d.SessionID()
			res, err := env.Server.Send(ctx, m)
			if err != nil {
				return err
			}
			results[i] = res[0]
			return nil
		})
	}
	err := g.Wait()
	for _, r := range results {
		if r.AckID != "" {
			env.Track(r.AckID)
		}
	}
	env.WaitDevices()
	if err != nil {
		return err
	}
	notOK := 0
	for _, r := range results {
		if r.Status != serversim.StatusOK {
			notOK++
		}
	}
	if notOK > 0 {
		return fmt.Errorf("%d of %d sends were not OK", notOK, FleetSize)
	}
	// Each device shows its own message, and only its own.
	got := env.collect(ctx, collectLimit)
	for i, d := range devs {
		if n := count(got[results[i].AckID], events.DeviceDisplayed); n != 1 {
			return fmt.Errorf("%s displayed its push %d times:\n%s", d.Name, n, Timeline(got[results[i].AckID]))
		}
	}
	return nil
}
