// Package mockfcm is a mock of Firebase Cloud Messaging for tests: the HTTP v1
// send API (fcm.googleapis.com), Google's OAuth2 token endpoint
// (oauth2.googleapis.com) and the Instance ID topic API (iid.googleapis.com),
// served over real TLS with HTTP/2, answering as Google does, and delivering
// what it accepts to simulated Android devices over the push channel it
// shares with mockapns.
//
// # In a Go test
//
// Package mockfcmtest starts one for a test and points the firebase SDK at it:
//
//	s := mockfcmtest.NewServer(t)
//	app, _ := firebase.NewApp(ctx, nil, s.ClientOptions(s.NewServiceAccountJSON())...)
//	client, _ := app.Messaging(ctx)
//	phone := s.RegisterDevice("com.example.app", s.ProjectID, "pixel")
//	id, err := client.Send(ctx, &messaging.Message{Token: phone.Token, Data: data})
//	got, err := phone.Next(ctx) // got.Payload is what the phone received
//
// The Server itself works like httptest's (Example runs this):
//
//	s, _ := mockfcm.New(mockfcm.Config{}) // makes its own CA and certificate
//	s.Start()
//	defer s.Close()
//	s.RegisterServiceAccountJSON(saJSON) // a service account whose token_uri is s.TokenURL()
//	reg, _ := s.RegisterDevice("com.example.app", "my-project", "pixel")
//	s.Attach(reg.Token, mockfcm.ReceiverFunc(func(d mockfcm.Delivery) { … }))
//	ctx, opts, _ := s.SDKOptions(ctx, saJSON)
//	app, _ := firebase.NewApp(ctx, nil, opts...) // app.Messaging(ctx) sends to the mock
//
// Both mocks have the same methods for the same things: RegisterDevice(app,
// environment or project, device), Uninstall, Attach, Detach, Pending,
// AddFault, Faults, ClearFaults, Requests(since), AdvanceClock. Their values
// (Delivery, Fault, Registration, Request) are package pushtest's.
//
// # Pointing the firebase v4 SDK at the mock
//
// Nothing in the SDK changes; what differs is where its two HTTP clients go
// and whom they trust (checked against firebase.google.com/go/v4 v4.19.0 and
// google.golang.org/api v0.311.0):
//
//   - The access token: the service account file's token_uri names the token
//     endpoint (s.TokenURL(), or Google's own in transparent mode). The request
//     is made by golang.org/x/oauth2 with the oauth2.HTTPClient found in the
//     context given to app.Messaging(ctx) (else http.DefaultClient), so that
//     client must trust the mock's CA.
//   - The FCM calls: option.WithEndpoint(s.Endpoint()) ("https://host:port/v1";
//     the scheme and /v1 are required). messaging.NewClient builds its client
//     with transport.NewHTTPClient, whose base transport is a clone of
//     http.DefaultTransport: it trusts the system roots only, and
//     option.WithHTTPClient, the only way to hand it another transport,
//     switches authentication off.
//
// SDKOptions resolves the second point without giving up the real OAuth flow:
// it builds the authenticating transport with google.golang.org/api's own
// transport/http.NewTransport (the code NewHTTPClient runs: service-account
// credentials, jwt-bearer exchange at token_uri, oauth2.Transport adding the
// bearer) over a base transport that trusts the mock, and passes the result
// with option.WithHTTPClient. An in-process proxy can do the same.
//
// An unmodified process (a proxy binary or container under test) needs no
// code: set SSL_CERT_FILE to the pushlab CA, and either give it a service
// account whose token_uri is the mock plus an FCM endpoint setting, or — the
// transparent way — resolve fcm.googleapis.com, oauth2.googleapis.com and
// iid.googleapis.com to the mock (container network aliases), whose
// certificate is valid for those names. Topic management always goes to the
// hard-coded https://iid.googleapis.com, so only the transparent way (or
// s.Transport(), which dials the mock for Google's hosts) reaches it; the
// mock's certificate must then name iid.googleapis.com too (New's throwaway
// certificate does).
//
// # What it checks
//
// Token endpoint: grant_type jwt-bearer; an RS256 assertion verified with the
// registered service account's key (kid = private_key_id), iss = its
// client_email, aud = the token endpoint, exp at most an hour after iat,
// scopes present; errors as Google words them (invalid_grant…, 400). Access
// tokens are opaque, last an hour (expires_in 3599) and are bound to the
// service account's project (id or number); FCM also wants the
// firebase.messaging or cloud-platform scope.
//
// messages:send: bearer token (missing or expired → 401 UNAUTHENTICATED;
// another project → 403 PERMISSION_DENIED, both without an FcmError detail as
// Google sends them); the body as FCM parses it (ParseSendRequest): one target,
// string data without reserved keys, 4096 bytes (2048 to topics and
// conditions), android.priority, android.ttl; the token (malformed →
// INVALID_ARGUMENT, unknown or uninstalled → UNREGISTERED, another project's →
// SENDER_ID_MISMATCH, inactive 270 days → UNREGISTERED); the project quota
// (see Limits); the device message rate (more than 240 a minute to one
// token → 429 QUOTA_EXCEEDED with Retry-After; Config.DeviceRatePerMinute).
// Errors are google.rpc.Status JSON with the google.firebase.fcm.v1.FcmError
// detail, so the SDK's messaging.Is* predicates answer as with Google.
// UNAVAILABLE, INTERNAL and THIRD_PARTY_AUTH_ERROR, which no input provokes,
// come from the fault script (a fault may name the FCM code alone:
// {"reason":"UNAVAILABLE"}). Message names are Google's shape:
// projects/{p}/messages/0:<microseconds>%<16 hex digits, zero-padded>.
// The fault actions are mockkit's, as in mockapns:
// respond, delay, reset (here the stream: RST_STREAM), goaway, and the
// ambiguous accept_reset, accept_late and delay_accept (the message is
// delivered and its answer lost or late). Config.RecordLimit bounds the
// request log.
//
// # Limits (Google's "Throttling and quotas", "Topic messaging", "Manage tokens")
//
//   - 600k messages a minute per project (Config.ProjectQuotaPerMinute;
//     DefaultProjectQuota): past it 429 QUOTA_EXCEEDED (RESOURCE_EXHAUSTED)
//     with Retry-After until the minute, which starts with its first
//     message, is over. Client errors count, 429s do not. A load test above
//     10k messages/s must raise it or switch it off (negative).
//   - 2,000 topics per app instance (MaxTopicsPerInstance): IID answers
//     TOO_MANY_TOPICS for that token; 1,000 tokens per batch call.
//   - A token whose device has not connected for 270 days
//     (TokenInactivityExpiry; Android) is UNREGISTERED to sends and
//     NOT_FOUND to topic management. A device connects when it registers,
//     comes online (Attach or the gateway) or takes a delivery online.
//
// IID batchAdd/batchRemove answer per token only what the Admin SDKs map:
// NOT_FOUND (unknown, uninstalled, expired), INVALID_ARGUMENT (malformed, or
// another project's token), TOO_MANY_TOPICS (INTERNAL is never produced).
//
// # Clock
//
// AdvanceClock, Now and GET/POST /control/clock ({"advance":"6480h"}, {"now":RFC 3339},
// {"reset":true}) move the mock's time for what happens on the device side:
// token inactivity, stored messages' ttl, rate and quota windows. OAuth keeps
// the base clock (Config.Now, else the wall clock): the SDK signs its
// assertions with its own, so moving it would only break the token exchange.
//
// # Delivery
//
// An accepted message goes to each target device as a Delivery whose Payload
// is {"data":…,"notification":…,"android":…} (no target), App the package,
// ID the message id, Expiry from android.ttl (4 weeks by default; ttl 0 is
// now-or-never), Headers "priority" and "from" (the sender id, or
// /topics/NAME). An offline device gets up to 100 stored messages when it comes
// back (mockkit.FCMStorage). Topic messages reach every subscriber in the
// project; a condition reaches the devices subscribed to at least one topic
// it names for which it holds.
//
// Every accept, rejection, storage, drop and injected fault is an event on the
// bus (Actor "mockfcm", TraceID = data.ack_id, else the message id); the
// control API (ControlHandler, mockkit.Control) scripts faults, registers
// devices and shows the recorded requests.
package mockfcm
