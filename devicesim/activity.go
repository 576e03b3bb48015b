package devicesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/liveactivity"
	"github.com/pushlab/pushlab/pushtest"
)

// Live Activities on a simulated iPhone (an App with LiveActivities set,
// the NSSupportsLiveActivities of its Info.plist):
//
//   - Install also gets a push-to-start token from the push service (iOS
//     17.2 pushToStartTokenUpdates) and listens on it;
//   - a start push on it starts an activity; with "input-push-token": 1 the
//     activity gets its own update token (pushTokenUpdates), with
//     "input-push-channel" it subscribes to that broadcast channel (iOS 18);
//   - update and end pushes on an update token, or broadcasts on a channel,
//     change the activity's content state; iOS drops updates older than the
//     last one and ones more than 8 hours ahead (device.activity_dropped);
//   - stale-date and dismissal-date, and the 8-hour / 4-hour lifetimes, are
//     judged by the device clock (SetClockSkew moves it).
//
// Every step is on the event spine: device.activity_started, _updated,
// _ended, _dropped, device.channel_subscribed.

// ChannelSubscriber is a provider that can subscribe a device token to an
// APNs broadcast channel (mockapns).
type ChannelSubscriber interface {
	SubscribeChannel(ctx context.Context, channel, token string) error
}

// SubscribeChannel implements ChannelSubscriber for an in-process mock.
func (p *InProcess) SubscribeChannel(_ context.Context, channel, token string) error {
	if p.SubscribeFunc == nil {
		return errors.New("devicesim: this provider has no broadcast channels")
	}
	return p.SubscribeFunc(channel, token)
}

// SubscribeChannel implements ChannelSubscriber: POST /control/channels/{id}/subscribers.
func (p *Remote) SubscribeChannel(ctx context.Context, channel, token string) error {
	body := fmt.Appendf(nil, `{"token":%q}`, token)
	return p.do(ctx, http.MethodPost, "/control/channels/"+url.PathEscape(channel)+"/subscribers", body, http.StatusNoContent, nil)
}

// PushToStartToken is the device's push-to-start token ("" if its app has
// no Live Activities or is not installed).
func (d *Device) PushToStartToken() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live.token()
}

// Activities returns the device's Live Activities as they stand by its clock.
func (d *Device) Activities() []liveactivity.Activity {
	d.mu.Lock()
	store := d.live.activities()
	d.mu.Unlock()
	if store == nil {
		return nil
	}
	return store.List()
}

// SubscribeChannel subscribes the device to a broadcast channel outside any
// activity start (what an app does for an activity it starts in the
// foreground on a channel).
func (d *Device) SubscribeChannel(ctx context.Context, channel string) error {
	d.mu.Lock()
	token := d.live.token()
	d.mu.Unlock()
	if token == "" {
		return fmt.Errorf("devicesim: %s: no Live Activities", d.Name)
	}
	return d.subscribe(ctx, "", channel, token)
}

func (d *Device) subscribe(ctx context.Context, trace, channel, token string) error {
	cs, ok := d.provider().(ChannelSubscriber)
	if !ok {
		return errors.New("devicesim: the push service has no broadcast channels")
	}
	if err := cs.SubscribeChannel(ctx, channel, token); err != nil {
		d.emit(trace, events.DeviceChannelSubscribed, "FAIL", "subscribing to channel "+channel+": "+err.Error(), false,
			map[string]string{"channel": channel})
		return err
	}
	d.emit(trace, events.DeviceChannelSubscribed, "subscribed", "listening on broadcast channel "+channel, false,
		map[string]string{"channel": channel, "token": events.RedactToken(token)})
	return nil
}

// StartActivity starts an activity from the app in the foreground
// (Activity.request), listening on channel if set (pushType .channel; the
// device subscribes) or else on an update token of its own (.token).
func (d *Device) StartActivity(ctx context.Context, attributesType string, attributes, state json.RawMessage, channel string) (liveactivity.Activity, error) {
	d.mu.Lock()
	store, pts := d.live.activities(), d.live.token()
	d.mu.Unlock()
	if store == nil {
		return liveactivity.Activity{}, fmt.Errorf("devicesim: %s: the app declares no Live Activities", d.Name)
	}
	if attributes == nil {
		attributes = json.RawMessage(`{}`)
	}
	if state == nil {
		state = json.RawMessage(`{}`)
	}
	aps := map[string]any{"timestamp": d.now().Unix(), "event": liveactivity.EventStart, "content-state": state,
		"attributes-type": attributesType, "attributes": attributes}
	if channel != "" {
		aps["input-push-channel"] = channel
	} else {
		aps["input-push-token"] = 1
	}
	payload, err := json.Marshal(map[string]any{"aps": aps})
	if err != nil {
		return liveactivity.Activity{}, err
	}
	// The same path as a push-to-start, minus APNs.
	d.handleActivity(ctx, pushtest.Delivery{Provider: "app", Token: pts, ID: "local-" + attributesType, App: d.App.ID(),
		Headers: map[string]string{"apns-push-type": "liveactivity"}, Payload: payload})
	acts := store.List()
	if len(acts) == 0 {
		return liveactivity.Activity{}, fmt.Errorf("devicesim: %s: the activity did not start", d.Name)
	}
	return acts[len(acts)-1], nil
}

// installActivities gets the push-to-start token, at install.
func (d *Device) installActivities(ctx context.Context) error {
	if !d.App.LiveActivities || d.App.Platform != IOS {
		return nil
	}
	p := d.provider()
	token, err := p.Register(ctx, *d.App, d.Name+" (push-to-start)")
	if err != nil {
		return fmt.Errorf("devicesim: %s: push-to-start token: %w", d.Name, err)
	}
	d.mu.Lock()
	d.live = &liveActivities{ptsToken: token, store: liveactivity.NewStore(func() time.Time { return d.now() })}
	d.mu.Unlock()
	d.emit("", events.DeviceRegistered, "push-to-start", "push-to-start token "+events.RedactToken(token)+" for Live Activities", false,
		map[string]string{"token": events.RedactToken(token)})
	return p.Attach(token, d)
}

// now is the device clock.
func (d *Device) now() time.Time {
	d.mu.Lock()
	skew := d.skew
	d.mu.Unlock()
	return d.deps.now().Add(skew)
}

// handleActivity applies a liveactivity push: a start on the push-to-start
// token, an update or end on an activity's token or channel.
func (d *Device) handleActivity(ctx context.Context, del pushtest.Delivery) {
	trace := del.ID
	attrs := map[string]string{"provider": del.Provider, "id": del.ID, "token": events.RedactToken(del.Token)}
	channel := del.Headers["apns-channel-id"]
	if channel != "" {
		attrs["channel"] = channel
	}
	d.mu.Lock()
	store, pts := d.live.activities(), d.live.token()
	d.stats.delivered++
	d.mu.Unlock()
	drop := func(why string) {
		d.mu.Lock()
		d.stats.rejected++
		d.mu.Unlock()
		d.emit(trace, events.DeviceActivityDropped, "dropped", why, false, attrs)
	}
	if store == nil {
		drop("the app declares no Live Activities")
		return
	}
	p, err := liveactivity.Parse(del.Payload)
	if err != nil {
		drop(err.Error())
		return
	}
	attrs["event"] = p.Event
	if p.Event == liveactivity.EventStart {
		if del.Token != pts || channel != "" {
			drop("a start arrived on a token that is not the push-to-start token")
			return
		}
		if len(d.App.ActivityTypes) > 0 && !slices.Contains(d.App.ActivityTypes, p.AttributesType) {
			drop(fmt.Sprintf("attributes-type %q is not one the app declares", p.AttributesType))
			return
		}
		a, err := store.Start(del.App, p)
		if err != nil {
			drop(err.Error())
			return
		}
		attrs["activity"] = a.ID
		d.emit(trace, events.DeviceActivityStarted, a.State, fmt.Sprintf("%s started: %s", a.AttributesType, a.ContentState), false, attrs)
		if p.InputPushToken {
			prov := d.provider()
			tok, err := prov.Register(ctx, *d.App, d.Name+" ("+a.ID+")")
			if err == nil {
				err = prov.Attach(tok, d)
			}
			if err != nil {
				d.emit(trace, events.DeviceRegistered, "FAIL", "update token for "+a.ID+": "+err.Error(), false, attrs)
			} else {
				store.SetUpdateToken(a.ID, tok)
				d.emit(trace, events.DeviceRegistered, "update-token", "update token "+events.RedactToken(tok)+" for "+a.ID, false,
					map[string]string{"activity": a.ID, "token": events.RedactToken(tok)})
			}
		}
		if p.InputChannel != "" {
			d.subscribe(ctx, trace, p.InputChannel, pts)
		}
		return
	}
	var ids []string
	if channel != "" {
		ids = store.OnChannel(channel)
	} else if id, ok := store.ByToken(del.Token); ok {
		ids = []string{id}
	}
	if len(ids) == 0 {
		drop("no activity listens on this token or channel")
		return
	}
	for _, id := range ids {
		a, err := store.Apply(id, p)
		at := copyAttrs(attrs)
		at["activity"] = id
		if err != nil {
			d.mu.Lock()
			d.stats.rejected++
			d.mu.Unlock()
			d.emit(trace, events.DeviceActivityDropped, "dropped", err.Error(), false, at)
			continue
		}
		hop := events.DeviceActivityUpdated
		if p.Event == liveactivity.EventEnd {
			hop = events.DeviceActivityEnded
		}
		d.emit(trace, hop, a.State, fmt.Sprintf("%s %s: %s", a.AttributesType, p.Event, a.ContentState), false, at)
	}
}

func copyAttrs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
