// Package proxy is a push proxy, a drop-in for mattermost-push-proxy: the same
// API (POST /api/v1/send_push and /api/v1/ack, GET /version and /metrics),
// the same request and response JSON byte for byte, the same config file,
// and the same payloads, sent with the same client libraries (sideshow/apns2
// for APNs, firebase-admin-go v4 for FCM).
//
//	cfg, _ := proxy.LoadConfig("mattermost-push-proxy.json") // upstream's file, as is
//	cfg.APNsHost = mock.URL // pushlab's settings: empty is the transparent way
//	srv, _ := proxy.New(cfg, proxy.Options{
//		RootCAs: set.CA.Pool(), // trust the mocks (a process: SSL_CERT_FILE or CAFile)
//	})
//	defer srv.Close()
//	go srv.Serve(ctx, ln) // HTTPS when cfg has a certificate
//
// A Config is upstream's file (FileConfig) and pushlab's own settings
// (Settings), one JSON object; Options wire the proxy into a process (a CA
// pool, a dialer, an event bus, a logger, metrics) and never come from a
// file. proxytest.KeySetConfig is the config for a test key set.
//
// # Verdicts and retries
//
// Every provider answer is judged by one table (verdictTable) read by both
// senders, the same verdicts as upstream's current main: OK; REMOVE for a
// dead token (APNs BadDeviceToken, Unregistered, MissingDeviceToken,
// DeviceTokenNotForTopic; FCM UNREGISTERED and SENDER_ID_MISMATCH, nothing
// else: INVALID_ARGUMENT, even for a malformed token, is FAIL as upstream);
// FAIL otherwise, with whether and by whom it may be retried. FAIL errors are
// upstream's: "unknown send response error" for an APNs answer, "unknown
// transport error" when APNs gave none, and firebase-admin-go's error text
// for FCM. A send_push makes up to MaxTries tries, each within
// RetryTimeoutSec, all within SendTimeoutSec, waiting RetryBackoffMs
// (doubling) or the provider's Retry-After between them. 5xx, 429 and
// failures before the request was sent are retried; a 4xx never is.
// firebase-admin-go retries 503 and network errors itself within a try; the
// table marks those outcomes RetriedByClient so the proxy adds no round.
//
// # Lost answers: ResendPolicy
//
// Each try is classified by what the transport saw on its last connection
// (httptrace GetConn/WroteRequest, and HTTP/2's own words): never sent (not
// written in full, or written and then refused: REFUSED_STREAM, a GOAWAY
// below its stream, no connection) is always retried; answered is judged
// by the table; sent in full and not answered (a reset, a lost connection,
// no answer within RetryTimeoutSec) is unconfirmed: the provider may have
// delivered it. ResendPolicy decides:
//
//   - collapse (default): resend, harmlessly. Every APNs push carries an
//     apns-collapse-id, the ack_id (or its SHA-256 past 64 bytes; an explicit
//     one is kept), so APNs and iOS show a resend as the notification it
//     repeats; apps drop a second push of an ack_id (the FCM path: a data
//     message gets no collapse_key, since FCM keeps at most four collapse
//     keys per offline device and would discard stored notifications; a
//     notification block would get the id as its tag). A try that was sent
//     is not cancelled at RetryTimeoutSec: its late answer, if it comes
//     before SendTimeoutSec while later tries run or wait, decides the send
//     (a late OK is OK). Tries without an answer do not count against
//     MaxTries (up to 8 more, within SendTimeoutSec and the doubling
//     backoff). FAIL then means: not delivered as far as anyone can know.
//   - upstream: resend blind and cancel each try at RetryTimeoutSec, as
//     mattermost-push-proxy does; a notification the provider had accepted
//     may be shown twice.
//   - never: answer FAIL, though the notification may have gone out (what
//     pushlab did before, RetryUnconfirmed=false).
//
// Metrics count tries by class, unconfirmed tries, resends and collapses by
// how the answer was lost, and late answers (see metrics).
//
// VoIP: a send_push with transport "voip" goes to the topic's ".voip"
// variant with apns-push-type voip, priority 10, and upstream's flat payload
// (type, sub_type, channel_id, server_id, post_id, thread_id, sender_id,
// id_loaded, ack_id, signature; names and category when set). The platform
// of a VoIP token, "apple_voip_rn", is served by the "apple_rn" app type.
//
// # Where pushlab differs from upstream, on purpose
//
// Each difference that changes what a Mattermost server sees has a setting
// that restores upstream's behaviour (config key, PUSHLAB_… variable, flag):
//
//   - FAIL errors for APNs name the reason ("unknown send response error:
//     TopicDisallowed"), where upstream says only "unknown send response
//     error". UpstreamErrorText restores upstream's words.
//   - Upstream retries no APNs answer (only apns2 errors: transport
//     failures and timeouts) and, of FCM's answers, only INTERNAL and
//     QUOTA_EXCEEDED; pushlab retries every 429 and 5xx, honouring
//     Retry-After. UpstreamRetries restores upstream's choice.
//   - Upstream resends any APNs transport error and timeout blind, so a
//     notification whose answer was lost may be shown twice; pushlab resends
//     it with an apns-collapse-id (the ack_id), lets a timed-out try's late
//     answer count, and retries requests HTTP/2 says were not processed.
//     ResendPolicy=upstream restores upstream's resends (see ResendPolicy).
//   - Throttling keys a client by its vary-by header values and, when the
//     request has none, by its remote IP; upstream then puts every such
//     client in one shared bucket (UpstreamThrottleKey restores it).
//   - Request bodies are limited to 1 MiB (MaxRequestBodyBytes; -1 reads
//     any size, as upstream): a larger one is answered FAIL "Failed to read
//     message body: http: request body too large" (HTTP 200, as every
//     upstream FAIL), after the body is read to its end so that HTTP/2
//     clients get the answer and not a reset stream.
//
// Differences that add and take nothing away (no setting needed):
//
//   - ThrottlePerSec 0 disables throttling and ThrottleMemoryStoreSize 0
//     means 50000 (upstream: unbounded).
//   - ApplePushCertPrivate may be a .p12 as well as a PEM file.
//   - An unknown method on a known path gets 405 from net/http's mux
//     (upstream's gorilla/mux: 405, empty body).
//   - pushlab settings upstream lacks: APNsHost, APNsDevelopmentHost,
//     FCMEndpoint, TLSCert/TLSKey, CAFile, MaxTries, RetryBackoffMs,
//     ResendPolicy, MaxRequestBodyBytes, Upstream…, ShutdownTimeoutSec
//     (Settings); pushlab proxy takes every setting as a flag and a
//     PUSHLAB_… variable too.
//   - GET /version carries upstream's build fields plus "version" and "hash";
//     GET /healthz and GET /events are pushlab's (not throttled).
//   - FCM OAuth refusals (token endpoint 4xx) fail the try at once instead of
//     being retried four times by firebase-admin-go.
//
// Kept as upstream does, though odd: a message longer than 2047 bytes is cut
// to 2046 bytes, and the cut may split a UTF-8 sequence; the APNs push type
// header is "alert" even for content-available-only pushes.
package proxy
