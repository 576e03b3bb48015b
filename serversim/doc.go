// Package serversim simulates a Mattermost server towards a push proxy and
// the phones of package devicesim: it keeps users' device sessions, builds,
// signs and seals one PushNotification per session, posts it to the proxy,
// drops a session the proxy answers REMOVE for, and serves the acks.
//
//	server, _ := serversim.New(serversim.Config{ProxyURL: proxyURL, ProxyClient: client,
//		SigningKey: set.Signing, SigningKeyID: set.SigningKeyID, Contents: serversim.ContentsFull})
//	fleet, _ := devicesim.NewFleet(devicesim.FleetConfig{Server: server.Link(), …})
//	results, _ := server.Send(ctx, serversim.Message{UserID: "alice", Message: "hi"})
//	// results[0].Status: the proxy's OK, REMOVE or FAIL
//
// # The server
//
// [Server] keeps users' device sessions (platform, token, the device's
// public content key), builds one Mattermost PushNotification per session,
// signs it (ES256 JWT over ack_id and device_id),
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
// "<sender>: <message>". The server claims a release ([Config.Version],
// default [DefaultVersion]); one older than the signing releases
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
// (the devices' payload key devicesim.PayloadKeyEncrypted), for a proxy that carries that field.
package serversim
