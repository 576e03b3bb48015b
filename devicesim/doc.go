// Package devicesim is the mobile side of pushlab: simulated iOS and Android
// phones, and the Mattermost-like server they are logged into. Nothing else
// simulates this side; with it a test sees a notification from the server's
// send to the phone's screen and back to the proxy's ack endpoint.
//
// # The server simulator
//
// [Server] keeps users' device sessions (platform, token, the device's
// public content key), builds one Mattermost PushNotification per session,
// signs it (ES256 JWT over ack_id and device_id, internal/pushcrypto),
// seals the contents to the device key, posts it to the proxy's
// /api/v1/send_push over HTTPS, and deletes a session the proxy answers
// REMOVE for, as Mattermost does. Devices ack to it (POST
// /api/v4/notifications/ack); it forwards the ack to the proxy's /api/v1/ack
// and answers an id-loaded ack with the message. See [Server.Handler] for
// the endpoints, including /control/send.
//
// What travels, by the admin's push-contents setting ([Contents]) in the
// hpns and eas profiles (sealed = inside the envelope only the device opens):
//
//	setting             message (proxy-visible)       sealed                      device shows
//	generic             envelope                      channel, sender             channel / sender — "Someone sent you a message"
//	generic_no_channel  envelope                      sender                      sender — "Someone sent you a message"
//	full                envelope                      message, channel, sender…   channel / sender — message
//	id_loaded           "You've received a new message."  nothing               fetched with the ack: channel / sender — message
//
// In the tpns profile nothing is sealed: channel_name, sender_name and the
// message travel in clear, and every event the server and the devices emit
// for such a push has Plaintext set. The mattermost profile
// ([ProfileMattermost]) is a real Mattermost server: nothing sealed, the
// signature, the contents the setting allows, a full message laid out as
// "<sender>: <message>". The server claims a release ([ServerConfig.Version],
// default [DefaultServerVersion]); one older than the signing releases
// (mmpush.SigningVersions) sends no signature. [Message] can ask for a VoIP
// call push (Transport "voip", SubType "calls"; the platform becomes
// "apple_voip_…") or an unsigned one (Signature "none").
//
// # Where the envelope travels
//
// Upstream mattermost-push-proxy copies a fixed set of PushNotification
// fields into the APNs payload and the FCM data map, and pushlab's proxy
// mirrors it, so an extra field would be dropped. By default
// ([EnvelopeInMessage]) the envelope ("v1.<base64url>", see pushcrypto)
// therefore replaces the message text: it reaches an iOS app as the alert
// body (with mutable-content, so the Notification Service Extension runs)
// and an Android app as data "message". A device recognizes it, never
// shows it, and if verification or decryption fails an iOS device shows
// the generic alert instead (iOS would otherwise show the payload as it
// arrived). [EnvelopeInField] puts it in PushNotification.encrypted instead
// (payload key [PayloadKeyEncrypted]), for a proxy that carries that field.
//
// # Devices
//
// A [Device] has an app identity compiled in ([App]: bundle id, team id and
// aps-environment, or package and Firebase project), a P-256 content key,
// a token from its push service ([Provider]) and a session with its server
// ([ServerLink]). On each push it checks, in order: the payload parses,
// the app is installed, the push is for its app, from its server, not a
// replay of one already handled, and signed as the Mattermost apps require
// (see judgeSignature: ES256 by the pinned key for this ack_id and this
// device's token, the stored "platform:" prefix stripped, at the device's
// clock; no signature key accepted from a legacy proxy, NO_SIGNATURE only
// from a release older than the signing ones, VoIP only signed); then it
// decrypts, shows the notification as the OS would ([Notification]), or
// rings for a VoIP call ([CallNotification]), and acks. Each
// step and each refusal, with its [Reason], goes onto the event spine
// (device.delivered, device.signature_ok|signature_bad,
// device.decrypted|decrypt_failed, device.displayed, device.acked,
// device.rejected; actor "device:<name>", trace id = ack_id).
//
// OS behaviour modelled: iOS shows an alert without mutable-content by
// itself (unverified), and wakes the app for content-available pushes
// (clear, update_badge); Android shows a notification block by itself and
// hands data messages to the app.
//
// A tester drives a device: [Device.GoOffline] / [Device.GoOnline] (the
// provider stores by its rules meanwhile), [Device.Uninstall] (the token
// dies at the provider; the server learns it from the proxy's REMOVE),
// [Device.Reinstall] (new token, key and session), [Device.SetClockSkew].
//
// # Live Activities
//
// An iOS [App] with LiveActivities set (NSSupportsLiveActivities) gets a
// push-to-start token at install ([Device.PushToStartToken]); ActivityTypes,
// if set, are the attributes types it can decode (a start naming another is
// dropped). A push of
// apns-push-type liveactivity is read with package liveactivity: a start on
// the push-to-start token starts an activity; "input-push-token": 1 gives
// it its own update token from the push service, "input-push-channel"
// subscribes the device to that APNs broadcast channel ([ChannelSubscriber];
// mockapns in process, its control API across processes). Updates and ends
// arrive on the update token or the channel; an update not newer than the
// last one, or more than 8 hours ahead, is dropped as iOS drops it.
// stale-date, dismissal-date and the 8-hour / 4-hour lifetimes are judged
// by the device clock ([Device.SetClockSkew]). The app can also start one
// itself ([Device.StartActivity], POST /devices/{name}/activities) on a
// channel or with an update token, and subscribe to a channel
// ([Device.SubscribeChannel], POST /devices/{name}/channels). [Device.Activities], the
// device [State] and GET /devices/{name}/activities show each activity's
// attributes, current content state and state (active, stale, ended,
// dismissed). Events: device.activity_started, device.activity_updated,
// device.activity_ended, device.activity_dropped, device.channel_subscribed,
// device.registered (push-to-start and update tokens).
//
// # Scale
//
// Devices own no goroutines: [Device.Deliver] hands the push to a goroutine
// that ends with it. A [Fleet] of 10,000 devices costs about 1.3 KB of heap
// per device (BenchmarkDevices). In-process a device is reached by a direct
// call ([APNs], [FCM]); across processes one gateway
// websocket per mock carries every device's pushes ([DialRemote]).
package devicesim
