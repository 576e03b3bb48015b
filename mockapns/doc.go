// Package mockapns is a mock of Apple's APNs provider API
// (api.push.apple.com, api.sandbox.push.apple.com) that the real
// sideshow/apns2 client, or any other APNs client, uses unmodified: only its
// host and trusted CA change. It speaks HTTP/2 over TLS 1.2+ only (ALPN h2;
// an HTTP/1.1 client gets no service, as with Apple), verifies token (ES256
// JWT) and certificate auth, answers every reason Apple documents with its
// status, keeps a registry of device tokens, and pushes what it accepts to
// simulated devices.
//
// # From a Go test
//
// Package mockapnstest starts one for a test and points apns2 at it:
//
//	s := mockapnstest.NewServer(t)
//	client := s.Trust(apns2.NewTokenClient(s.NewKey()))
//	phone := s.RegisterDevice("com.example.app", mockapnstest.Development, "iphone")
//	res, err := client.Push(&apns2.Notification{DeviceToken: phone.Token, Topic: "com.example.app", Payload: payload})
//	got, err := phone.Next(ctx) // got.Payload is what the phone received
//
// The Server itself works like httptest's (Example runs this):
//
//	s, _ := mockapns.New(mockapns.Config{}) // makes its own CA and certificate
//	s.Start()
//	defer s.Close()
//	s.RegisterKey(mockapns.Key{ID: keyID, TeamID: teamID, Public: &p8.PublicKey})
//	reg, _ := s.RegisterDevice("com.example.app", mockapns.Production, "iphone")
//	s.Attach(reg.Token, mockapns.ReceiverFunc(func(d mockapns.Delivery) { … }))
//	client := apns2.NewTokenClient(tok)
//	client.Host, client.HTTPClient = s.URL, s.Client() // s.DevelopmentURL for the sandbox
//
// Both mocks have the same methods for the same things: RegisterDevice(app,
// environment or project, device), Uninstall, Attach, Detach, Pending,
// AddFault, Faults, ClearFaults, Requests(since), AdvanceClock. Their values
// (Delivery, Fault, Registration, Request) are package pushtest's.
//
// With credentials of your own (`pushlab keys init` writes a set) pass
// Config{Cert: the server certificate, ClientCAs: the CA of the client
// certificates}.
//
// # Environments
//
// A request's environment is decided, in order, by the Apple host name in
// :authority, then by the TLS SNI (api.push.apple.com → production;
// api.sandbox.push.apple.com and api.development.push.apple.com →
// development), then by the listener: Start opens production at URL and
// development at DevelopmentURL; Serve uses Config.Environment (default
// production) and ServeEnv names it. So one listener can carry both names in
// a container (transparent mode), and 127.0.0.1 uses two listeners.
// Responses in development carry apns-unique-id.
//
// # Checks, in the order they are answered
//
//  1. a matching fault (see below); 503 Shutdown while closing;
//  2. :path (404 BadPath, 400 MissingDeviceToken) and :method (405);
//  3. headers: DuplicateHeaders, BadMessageId (apns-id not a UUID), InvalidPushType,
//     BadTopic (not a bundle-id shape), BadPriority (not 10/5/1; 10 with background),
//     BadExpirationDate, BadCollapseId (> 64 bytes);
//  4. auth: a client certificate first (the authorization header is then
//     ignored), else the bearer token (Missing/Invalid/ExpiredProviderToken,
//     BadEnvironmentKeyIdInToken, then per connection InvalidProviderToken for a
//     second team, UnrelatedKeyIdInToken, TooManyProviderTokenUpdates); a
//     certificate fails as BadCertificate or BadCertificateEnvironment;
//  5. topic: MissingTopic (token auth; a certificate implies its topic),
//     InvalidPushType when the topic suffix does not fit the push type (.voip,
//     .complication, .pushkit.fileprovider, …; Apple names no reason for this),
//     TopicDisallowed (outside a topic-specific key or the certificate's UID,
//     or a liveactivity/location push on a certificate);
//  6. payload: PayloadEmpty (also for a body that is not a JSON object with an
//     aps dictionary: Apple documents no reason for that), PayloadTooLarge (4096
//     bytes, 5120 for voip);
//  7. device token: BadDeviceToken (not hex, unknown, or of the other
//     environment), DeviceTokenNotForTopic, 410 Unregistered with the uninstall
//     time as integer milliseconds;
//  8. TooManyRequests past Config.TokenRate pushes to one token.
//
// Every answer also counts toward the connection's run of bad requests (see
// Connections below), which may close the connection after it is written.
//
// Reasons with no input that produces them here (IdleTimeout, Forbidden,
// ExpiredToken, InternalServerError, ServiceUnavailable, Shutdown while
// running) are produced by faults. Tokens are verified once and cached; a
// connection remembers its first key (pinning) and the time of its current
// token. Served through Handler() on a server of your own, the connection
// rules and the reset fault are off (there is no connection state).
//
// # The push channel
//
// An accepted notification becomes a Delivery (Payload = the APNs
// JSON as sent, App = the bundle id, Headers = apns-push-type, apns-priority,
// apns-topic, apns-collapse-id, apns-expiration) handed to the device's
// Receiver: in process via Attach, across processes via the control
// listener's GET /push websocket (mockkit.DialGateway; frames such as
// {"op":"attach","tokens":[…]} and {"op":"deliver","seq":N,"delivery":{…}},
// all listed at mockkit's gateway; a push the devices process did not
// take before its connection ended is stored, not lost). An
// offline device keeps only the last notification per app (earlier ones are
// dropped as coalesced); apns-expiration 0 or past means now or never; a
// stored one is dropped once its expiration passes.
//
// # Newer push types
//
// Each apns-push-type needs its topic suffix (PushTypes): liveactivity
// .push-type.liveactivity, pushtotalk .voip-ptt, location .location-query,
// voip .voip, complication .complication, fileprovider
// .pushkit.fileprovider, widgets .push-type.widgets; mdm takes the MDM topic
// and a payload {"mdm":"<PushMagic>"} with no aps. A mismatch is
// InvalidPushType. liveactivity and location pushes take token auth only
// (Apple: "Certificate-based authentication is not supported for these APNs
// pushes"): with a certificate they are TopicDisallowed (the reason is the
// mock's; Apple names none). What a Live Activity or widgets payload holds is judged
// on the device (package liveactivity, devicesim): APNs documents no reason
// for it and iOS drops what it cannot apply.
//
// # Broadcast push (iOS 18)
//
// Channel management is served on listeners of its own, as Apple serves it
// on api-manage-broadcast.push.apple.com:2196 and
// api-manage-broadcast.sandbox.push.apple.com:2195 (Start: ChannelsURL and
// DevelopmentChannelsURL; ServeChannels; pushlab mockapns
// --channels-listen/--dev-channels-listen). Same auth as pushes; every
// answer echoes apns-request-id:
//
//	POST   /1/apps/{bundle-id}/channels      {"message-storage-policy":0|1,"push-type":"LiveActivity"}
//	                                         → 201, apns-channel-id: <base64>
//	GET    /1/apps/{bundle-id}/channels      apns-channel-id → 200 {"message-storage-policy":1,"push-type":"LiveActivity"}
//	DELETE /1/apps/{bundle-id}/channels      apns-channel-id → 204
//	GET    /1/apps/{bundle-id}/all-channels  → 200 {"channels":[…]}
//
// Sending is on the provider API: POST /4/broadcasts/apps/{bundle-id} with
// apns-channel-id and apns-push-type: liveactivity (payload up to 5 KB);
// every device subscribed to the channel gets it as a Delivery with header
// apns-channel-id. With message-storage-policy 1 the channel keeps its most
// recent message and hands it to a device that subscribes later; with 0 a
// late subscriber waits for the next one. Devices subscribe with Subscribe
// (or POST /control/channels/{id}/subscribers {"token":…}); devicesim does
// it for an activity started with input-push-channel. Reasons:
// MissingChannelId, BadChannelId (not base64), ChannelNotRegistered
// (unknown, deleted, other app or environment), CannotCreateChannelConfig
// (Config.MaxChannels, Apple's 10,000 per app and environment),
// MissingPushType, InvalidPushType, FeatureNotEnabled (SetBroadcast(app,
// false)), all 400 (Apple's pages name the reasons; the statuses are the
// mock's), plus the usual auth reasons. Metrics: pushlab_mock_broadcast_channels,
// _broadcast_subscribers, _broadcasts_total by env. Events: provider.channel_created,
// provider.channel_deleted, provider.broadcast (attrs channel, subscribers),
// device.channel_subscribed.
//
// apns2 has no broadcast support; any HTTP/2 client drives it:
//
//	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool()}}
//	req, _ := http.NewRequest("POST", s.ChannelsURL+"/1/apps/com.example.app/channels",
//		strings.NewReader(`{"message-storage-policy":1,"push-type":"LiveActivity"}`))
//	req.Header.Set("authorization", "bearer "+jwt)
//	resp, _ := tr.RoundTrip(req)              // 201
//	channel := resp.Header.Get("apns-channel-id")
//	req, _ = http.NewRequest("POST", s.URL+"/4/broadcasts/apps/com.example.app",
//		strings.NewReader(`{"aps":{"timestamp":1700000000,"event":"update","content-state":{"score":"1-0"}}}`))
//	req.Header.Set("authorization", "bearer "+jwt)
//	req.Header.Set("apns-channel-id", channel)
//	req.Header.Set("apns-push-type", "liveactivity")
//	tr.RoundTrip(req)                         // 200: every subscriber has it
//
// or curl --http2 against a running mock (with the key set's CA):
//
//	curl --cacert keys/ca.pem -H "authorization: bearer $JWT" \
//	  -d '{"message-storage-policy":1,"push-type":"LiveActivity"}' \
//	  https://localhost:2196/1/apps/com.example.app/channels -i
//
// # Faults (AddFault, Faults, ClearFaults, or POST /control/faults)
//
// Per token, per seeded percentage, or for the next Count requests:
//   - respond: answers Status and Reason (a status alone takes its usual
//     reason), with Retry-After if set, instead of the real verdict;
//   - delay: waits Latency, then serves the request normally (Latency is
//     added before any action); a request whose client gives up meanwhile is
//     dropped unserved;
//   - goaway: serves the request normally, then sends HTTP/2 GOAWAY
//     (NO_ERROR) and closes the connection once its streams finish;
//   - reset: closes the TCP connection with SO_LINGER 0 (the client sees a
//     reset; every stream on it fails) without answering, before accepting;
//
// and the ambiguous cases, acting when the push would be accepted:
//   - accept_reset: accepts and delivers, then resets the connection: the
//     answer is lost;
//   - accept_late: accepts and delivers, answers after Latency;
//   - delay_accept: holds the request Latency, then accepts and delivers it
//     even if the client gave up.
//
// A faulted request is recorded with its ids and payload, whatever becomes
// of it (Config.RecordLimit requests are kept).
//
// Close sends GOAWAY on every connection, lets requests in flight finish,
// and closes.
//
// # Connections
//
// Apple: "If APNs decides to terminate an established HTTP/2 connection, it
// sends a GOAWAY frame. The GOAWAY frame includes JSON data in its payload
// with a reason key … Normal request failures do not result in termination
// of a connection" (Local and Remote Notification Programming Guide,
// Communicating with APNs); "The JSON data might also be included in a
// GOAWAY frame when a connection terminates" (Handling notification
// responses from APNs). Closing after many bad tokens is what the old binary
// API did after one, and what providers still report now and then; Apple
// publishes no count. So the mock closes for bad requests only when asked:
//
//   - Config.MaxBadRequests = N closes a connection once it has had N
//     BadDeviceToken answers in a row (another 400 counts half: 2N of them,
//     or a mix). A 200 ends the run, so a sender that mostly succeeds keeps
//     its connection; 410 Unregistered (a token that once was good) and other
//     statuses neither count nor end it. The request that reaches N is
//     answered as usual, then the connection gets a GOAWAY (NO_ERROR), its
//     streams in flight finish, and it closes, exactly as the goaway fault
//     does. The spine gets one provider.rejected event with status GoAway
//     and no trace id (attrs: remote, bad_device_tokens, other_400s, limit,
//     and the apns-id and token of the request that reached N); the log
//     one line; the request's record a note. 0 (the default) = never, as
//     Apple documents, so ordinary tests that probe BadDeviceToken are not
//     cut off. apns2 (Go's http2 transport) retries a request refused by the
//     GOAWAY on a new connection; the next push dials.
//   - Config.IdleTimeout closes a connection with no stream open for that
//     long, also with GOAWAY (NO_ERROR) from Go's HTTP/2 server; 0 = never.
//
// Every GOAWAY the mock sends carries Apple's JSON as debug data:
// {"reason":"IdleTimeout"} for an idle connection, "Shutdown" on Close, the
// reason of the answer that reached Config.MaxBadRequests, and a goaway
// fault's Reason (default Shutdown).
//
// # One stream until a valid provider token
//
// "When using an authentication token, APNs allows only one stream until
// you post a request with a valid authentication token" (Sending
// notification requests to APNs). A connection without a client
// certificate starts with SETTINGS_MAX_CONCURRENT_STREAMS 1; the first
// request whose token verifies brings a second SETTINGS with the real limit
// (Config.MaxConcurrentStreams, 1000). A client that opens another stream
// before that gets RST_STREAM REFUSED_STREAM on it (the request is not
// processed; RFC 9113 §8.7 makes it safe to retry, and Go's transport, so
// apns2, retries it by itself); the recorder notes it. A certificate
// connection has no such phase, and its authorization header is ignored
// (Apple: "APNs ignores this header if the request is sent over a
// connection authenticated with a certificate").
//
// Go's HTTP/2 server sends one SETTINGS and GOAWAY frames without debug
// data, and has no API for either. The mock keeps it (net/http, served as
// unencrypted HTTP/2 over a TLS connection the mock terminates itself) and
// edits frames on the wire (h2conn.go): it rewrites the first SETTINGS,
// slips its own SETTINGS and RST_STREAM frames in between the server's,
// swallows the client's ACK of its SETTINGS, appends debug data to GOAWAY,
// and adds one header (x-apns-mock-stream, a literal without indexing, so
// HPACK state is untouched) to each request so that the handler knows its
// stream. MAX_FRAME_SIZE is advertised 64 bytes short to leave room for it.
// Handler() on a server of your own has none of this.
//
// # Clock
//
// The mock's clock (AdvanceClock, Now, GET/POST /control/clock: {"advance":"61m"},
// {"now":"2027-01-01T00:00:00Z"}, {"reset":true}) moves everything the
// mock times: provider-token age (advance an hour and apns2's token is
// ExpiredProviderToken), the 20-minute refresh floor, stored notifications'
// expiration, rate windows.
//
// # Events and inspection
//
// Every request is an event on the spine (actor "mockapns"; trace id = the
// payload's top-level ack_id, else the apns-id; attrs apns-id, redacted token,
// topic, env, push_type): provider.accepted or provider.rejected (status =
// reason), then device.delivered (handed to the push channel), provider.stored
// or provider.dropped, plus fault.injected, and provider.rejected with
// status GoAway for a connection closed for its bad requests. Requests(since) and
// GET /control/requests show each request's headers, payload and verdict, with
// the JWT as decoded header and claims plus the key fingerprint: never a
// raw token or key.
package mockapns
