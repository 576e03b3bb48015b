package verify

import (
	"context"
	"sync"
	"time"

	"github.com/pushlab/pushlab/e2e"
)

// Lab is the live round trip kept running: mocks that know the given keys,
// a proxy configured from the given settings, a server simulator and one
// simulated phone per app build. The EAS demo runs on it.
type Lab struct {
	l    *lab
	once sync.Once
}

// Hop is one event of the lab's notifications, as the timeline shows it.
type Hop struct {
	At      time.Time `json:"at"`
	TraceID string    `json:"trace_id,omitempty"` // the notification's ack_id
	Actor   string    `json:"actor"`              // server, proxy, mockapns, mockfcm, device:<name>
	Hop     string    `json:"hop"`                // server.sent, proxy.forwarded, provider.rejected, device.displayed…
	Status  string    `json:"status,omitempty"`   // in the protocol's words: 200, BadDeviceToken, OK…
	Detail  string    `json:"detail,omitempty"`
}

// StartLab is Run with the live round trip, leaving the lab running when it
// started (the report says whether the notifications arrived). lab is nil
// when nothing could be sent or the configuration could not be read. Close it.
func StartLab(ctx context.Context, cfg Config) (*Lab, *Report) {
	v := newRun(cfg)
	defer v.finish()
	pc, ok := v.check(ctx)
	if !ok {
		return nil, v.rep
	}
	l := v.live(ctx, pc)
	if l == nil {
		return nil, v.rep
	}
	return &Lab{l: l}, v.rep
}

// URLs lists each actor's address, for a human.
func (l *Lab) URLs() [][2]string {
	return [][2]string{
		{"mock APNs (production)", l.l.apns.URL},
		{"mock APNs (development)", l.l.apns.DevelopmentURL},
		{"mock APNs control", l.l.apns.ControlURL},
		{"mock FCM", l.l.fcm.URL},
		{"mock FCM control", l.l.fcm.ControlURL},
		{"push proxy", l.l.proxyURL},
	}
}

// Phones names the simulated phones ("Mattermost.ipa ↔ apple").
func (l *Lab) Phones() []string {
	out := make([]string, 0, len(l.l.phones))
	for _, ph := range l.l.phones {
		out = append(out, ph.subject)
	}
	return out
}

// Send sends text to every phone, one notification each, and reports each
// as a live.ios / live.android check.
func (l *Lab) Send(ctx context.Context, text string) []Check {
	out := make([]Check, 0, len(l.l.phones))
	for _, ph := range l.l.phones {
		out = append(out, l.l.send(ctx, ph, text))
	}
	return out
}

// Hops streams the lab's events from now on until ctx ends.
func (l *Lab) Hops(ctx context.Context) <-chan Hop {
	sub, _ := l.l.bus.Subscribe(0, false)
	out := make(chan Hop, 64)
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C():
				if !ok {
					return
				}
				h := Hop{At: e.At, TraceID: e.TraceID, Actor: e.Actor, Hop: string(e.Hop), Status: e.Status, Detail: e.Detail}
				select {
				case out <- h:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// Actors is the lab as the live web view drives it (pushlab demo --profile
// eas --keys DIR): its event bus, mocks, proxy, server simulator and phones.
// They stay the Lab's: Close it, not them.
func (l *Lab) Actors() *e2e.Lab {
	return &e2e.Lab{Bus: l.l.bus, APNs: l.l.apns, FCM: l.l.fcm, Proxy: l.l.proxy, ProxyURL: l.l.proxyURL,
		Server: l.l.server, Fleet: l.l.fleet}
}

// Close stops every actor and removes the service-account copies.
func (l *Lab) Close() { l.once.Do(l.l.close) }
