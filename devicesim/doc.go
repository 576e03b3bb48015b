// Package devicesim is the phone side of pushlab: simulated iOS and Android
// phones, each with an app logged into a Mattermost server. With package
// serversim (the server) a test sees a notification from the server's send
// to the phone's screen and back to the proxy's ack endpoint.
//
//	fleet, _ := devicesim.NewFleet(devicesim.FleetConfig{Server: server.Link(),
//		Pinned: devicesim.PinnedKeys(set), APNs: devicesim.APNs(apns), FCM: devicesim.FCM(fcm)})
//	phone, _ := fleet.Add(ctx, "alice-iphone", "alice", devicesim.IOSTokenApp(set))
//	server.Send(ctx, serversim.Message{UserID: "alice", Message: "hi"})
//	fleet.Wait()
//	n, _ := phone.Last() // what the screen shows
//
// [ServerLink] is all a phone knows of its server: attach the device to the
// user's session ([SessionRequest], with its [ContentKey]) and ack pushes.
// serversim's Server.Link gives one in process; [RemoteServer] speaks the
// same over HTTP to a server in another process.
//
// # The envelope
//
// A server may seal the contents to the device's content key (see
// serversim for the push-contents settings and profiles); the envelope
// ("v1.<base64url>", see pushcrypto) travels in place of the message text
// (an iOS alert body with mutable-content, so the Notification Service
// Extension runs; an Android data "message"), or in the payload key
// [PayloadKeyEncrypted]. A device recognizes it, never shows it, and if
// verification or decryption fails an iOS device shows the generic alert
// ([GenericMessage]) instead (iOS would otherwise show the payload as it
// arrived).
//
// # Devices
//
// A [Device] has an app identity compiled in ([App]: bundle id, team id and
// aps-environment, or package and Firebase project), a P-256 content key,
// a token from its push service ([Provider]) and a session with its server
// ([ServerLink]), all given at construction by its [Fleet]. On each push it checks, in order: the payload parses,
// the app is installed, the push is for its app, from its server, not a
// replay of one already handled, and signed as the Mattermost apps require
// (ES256 by the pinned key for this ack_id and this
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
// that ends with it. An idle device holds its identity, token, session and a
// compact private key (expanded with its first encrypted push); its history
// of pushes and its Live Activities are allocated when first needed. A
// million devices cost about 940 bytes of heap each, the in-process mock's
// registry included (BenchmarkDevices). In-process a device is reached by a
// direct call ([APNs], [FCM]); across processes one gateway
// websocket per mock carries every device's pushes ([DialRemote]).
package devicesim
