// Package events is pushlab's spine: every actor (server simulator, proxy, mock
// APNs/FCM, devices) reports each hop of each notification here, and every
// reader (the demo timeline, the web view, e2e assertions, bench) reads this one
// stream. Nothing else keeps its own history of what happened.
//
// Reading it from a Go test or tool:
//
//	bus := events.NewBus()                 // hand it to the actors (Config.Bus, e2e.Options.Bus)
//	sub, past := bus.Subscribe(0, true) // past: what happened so far; sub: all after it
//	defer sub.Close()
//	for e := range sub.C() {
//		fmt.Println(e.TraceID, e.Hop, e.Actor, e.Status) // e.g. device.displayed
//	}
//
// A remote actor's stream is the same events over a websocket: Dial its
// /events (Handler serves it) and read the Stream.
package events

import (
	"encoding/json"
	"time"
)

// Hop names one step of a notification's path. The trace of one notification is
// the events sharing its TraceID (the Mattermost ack_id).
type Hop string

// The hops of ARCHITECTURE.md, in path order.
const (
	ServerSent          Hop = "server.sent"            // the server simulator posted to the proxy
	ServerAnswered      Hop = "server.answered"        // the proxy's verdict as the server got it (OK, REMOVE, FAIL)
	ServerRemoved       Hop = "server.session_removed" // the server dropped a device session after REMOVE
	ProxyReceived       Hop = "proxy.received"         // the proxy accepted a send_push body
	ProxyForwarded      Hop = "proxy.forwarded"        // the proxy sent to APNs/FCM (one per try)
	ProxyResponded      Hop = "proxy.responded"        // the proxy answered the server: OK / REMOVE / FAIL
	ProviderAccepted    Hop = "provider.accepted"      // the mock APNs/FCM accepted a push
	ProviderRejected    Hop = "provider.rejected"      // the mock APNs/FCM answered an error
	ProviderStored      Hop = "provider.stored"        // the device was offline: kept for later
	ProviderDropped     Hop = "provider.dropped"       // a stored push was coalesced away or expired
	DeviceRegistered    Hop = "device.registered"      // a device obtained a token / session
	DeviceDelivered     Hop = "device.delivered"       // a push reached the device
	DeviceRejected      Hop = "device.rejected"        // the device refused a push (wrong app, replay...)
	DeviceSignatureOK   Hop = "device.signature_ok"    // the server's signature verified
	DeviceSignatureBad  Hop = "device.signature_bad"   // the server's signature did not verify
	DeviceDecrypted     Hop = "device.decrypted"       // the contents decrypted
	DeviceDecryptFailed Hop = "device.decrypt_failed"  // the contents did not decrypt
	DeviceDisplayed     Hop = "device.displayed"       // the OS showed the notification
	DeviceReplaced      Hop = "device.replaced"        // the OS replaced a shown notification with a push of its collapse id (APNs apns-collapse-id, Android tag)
	DeviceAcked         Hop = "device.acked"           // the device acked to its server
	ProxyAcked          Hop = "proxy.acked"            // the ack reached the proxy's /api/v1/ack
	FaultInjected       Hop = "fault.injected"         // a scripted fault changed an answer

	// Broadcast channels and Live Activities (APNs, iOS 17.2/18).
	ProviderChannelCreated  Hop = "provider.channel_created"  // mock APNs created a broadcast channel
	ProviderChannelDeleted  Hop = "provider.channel_deleted"  // mock APNs deleted one
	ProviderBroadcast       Hop = "provider.broadcast"        // mock APNs fanned a broadcast out to a channel's subscribers
	DeviceChannelSubscribed Hop = "device.channel_subscribed" // a device subscribed to a broadcast channel
	DeviceActivityStarted   Hop = "device.activity_started"   // a Live Activity started from a push
	DeviceActivityUpdated   Hop = "device.activity_updated"   // a Live Activity took an update
	DeviceActivityEnded     Hop = "device.activity_ended"     // a Live Activity ended
	DeviceActivityDropped   Hop = "device.activity_dropped"   // the device dropped a Live Activity push (bad payload, old timestamp…)
)

// Event is one hop of one notification, or one thing that happened to an actor.
type Event struct {
	// Seq is assigned by the Bus that first publishes the event; readers use it
	// to detect gaps (a reader whose buffer overflowed sees a jump).
	Seq uint64 `json:"seq"`
	// TraceID ties the hops of one notification together: the ack_id.
	TraceID string `json:"trace_id,omitempty"`
	Hop     Hop    `json:"hop"`
	// Actor names the emitter: "server", "proxy", "mockapns", "mockfcm",
	// "device:<name>".
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	// Status is the verdict in the protocol's own words: "200", "BadDeviceToken",
	// "UNREGISTERED", "OK", "REMOVE", "FAIL".
	Status string `json:"status,omitempty"`
	// Detail is a human sentence; never key material.
	Detail string `json:"detail,omitempty"`
	// Payload is an excerpt of what travelled (truncated by Excerpt).
	Payload string `json:"payload,omitempty"`
	// Plaintext marks contents that travelled unencrypted (the tpns profile).
	Plaintext bool `json:"plaintext,omitempty"`
	// Attrs carries hop-specific facts: platform, redacted token, apns-id, try...
	Attrs map[string]string `json:"attrs,omitempty"`
}

// JSON is the wire form of an event; times are RFC 3339 with nanoseconds.
func (e Event) JSON() []byte {
	b, _ := json.Marshal(e) // an Event of strings and a time cannot fail to encode
	return b
}

// ExcerptLimit bounds Payload so that a 4 KiB push does not become a 4 KiB event
// per hop per reader.
const ExcerptLimit = 512

// Excerpt shortens b to ExcerptLimit bytes, marking the cut.
func Excerpt(b []byte) string {
	if len(b) <= ExcerptLimit {
		return string(b)
	}
	return string(b[:ExcerptLimit]) + "…"
}

// RedactToken keeps the first and last four characters of a device token, enough
// to tell tokens apart in a timeline without handing a working token to a log.
func RedactToken(token string) string {
	if len(token) <= 12 {
		return "…"
	}
	return token[:4] + "…" + token[len(token)-4:]
}
