// Package proxy is a push proxy, a drop-in for mattermost-push-proxy: the same
// API (POST /api/v1/send_push and /api/v1/ack, GET /version and /metrics),
// the same request and response JSON byte for byte, the same config file,
// and the same payloads, sent with the same client libraries (sideshow/apns2
// for APNs, firebase-admin-go v4 for FCM).
//
//	cfg, _ := proxy.LoadConfig("mattermost-push-proxy.json")
//	cfg.APNsHost = mock.URL          // or leave it empty: the transparent way
//	cfg.RootCAs = set.CA.Pool()      // trust the mocks (a process: SSL_CERT_FILE or CAFile)
//	srv, _ := proxy.New(cfg)
//	defer srv.Close()
//	go srv.Serve(ctx, ln)            // HTTPS when cfg has a certificate
//
// # Verdicts and retries
//
// Every provider answer is judged by one table (verdictTable) read by both
// senders: OK; REMOVE for a dead token (APNs BadDeviceToken, Unregistered,
// MissingDeviceToken, DeviceTokenNotForTopic; FCM UNREGISTERED,
// SENDER_ID_MISMATCH, and INVALID_ARGUMENT on message.token); FAIL otherwise,
// with whether and by whom it may be retried. A send_push makes up to
// MaxTries tries, each within RetryTimeoutSec, all within SendTimeoutSec,
// waiting RetryBackoffMs (doubling) or the provider's Retry-After between
// them. Only 5xx, 429, and failures before the request was sent are retried;
// a 4xx never is; and a request that was sent in full and not answered (a
// timeout while waiting for the answer, a connection lost) is not resent by
// the proxy or, thanks to a guard in its transport, by firebase-admin-go:
// the provider may have accepted it, and a resend could deliver twice.
// firebase-admin-go retries 503 and network errors itself within a try; the
// table marks those outcomes RetriedByClient so the proxy adds no round.
//
// # Where pushlab differs from upstream, on purpose
//
//   - FAIL errors for APNs name the reason ("unknown send response error:
//     TopicDisallowed"), where upstream says only "unknown send response error".
//   - Upstream retries any APNs transport error and any timeout, accepting
//     duplicates; pushlab does not resend what may have been delivered
//     (RetryUnconfirmed restores upstream's choice).
//   - Throttling keys a client by its vary-by header values and, when the
//     request has none, by its remote IP; upstream then puts every such
//     client in one shared bucket. ThrottlePerSec 0 disables throttling and
//     ThrottleMemoryStoreSize 0 means 50000 (upstream: unbounded).
//   - ApplePushCertPrivate may be a .p12 as well as a PEM file.
//   - Request bodies are limited to 1 MiB; an unknown method on a known path
//     gets 405 from net/http's mux (upstream's gorilla/mux: 405, empty body).
//   - pushlab settings upstream lacks: APNsHost, APNsDevelopmentHost,
//     FCMEndpoint, TLSCert/TLSKey, CAFile, MaxTries, RetryBackoffMs,
//     RetryUnconfirmed, ShutdownTimeoutSec; every setting can be given as a
//     PUSHLAB_… variable (see Settings).
//   - GET /version carries upstream's build fields plus "version" and "hash";
//     GET /healthz is pushlab's (not throttled).
//   - FCM OAuth refusals (token endpoint 4xx) fail the try at once instead of
//     being retried four times by firebase-admin-go.
//
// Kept as upstream does, though odd: a message longer than 2047 bytes is cut
// to 2046 bytes, and the cut may split a UTF-8 sequence; the APNs push type
// header is "alert" even for content-available-only pushes.
package proxy
