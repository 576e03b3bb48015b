package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sideshow/apns2"

	"github.com/pushlab/pushlab/mmpush"
)

// Provider names a push service.
type Provider string

const (
	APNs Provider = "apns"
	FCM  Provider = "fcm"
)

// FCM error codes the verdict table names (firebase-admin-go exports
// predicates, not the codes). APNs reasons are apns2's constants. The rest
// pass through as the provider spells them.
const (
	// 404 The app instance was unregistered from FCM: the token is dead.
	ReasonFCMUnregistered = "UNREGISTERED"
	// 403 The token belongs to another sender (Firebase project).
	ReasonFCMSenderIDMismatch = "SENDER_ID_MISMATCH"
	// 400 The request was invalid. Even for a malformed token, upstream
	// answers FAIL (it removes only on UNREGISTERED and SENDER_ID_MISMATCH).
	ReasonFCMInvalidArgument = "INVALID_ARGUMENT"
	// 429 Sending limit exceeded for the target; upstream retries it.
	ReasonFCMQuotaExceeded = "QUOTA_EXCEEDED"
	// 500 Unknown internal error; upstream retries it.
	ReasonFCMInternal = "INTERNAL"
	// 503 The server is overloaded; firebase-admin-go retries it.
	ReasonFCMUnavailable = "UNAVAILABLE"
)

// Upstream's FAIL errors for APNs, word for word. pushlab adds ": " and the
// reason unless Config.UpstreamErrorText is set. For FCM both proxies
// answer the firebase SDK's error text.
const (
	ErrTextAPNsAnswer    = "unknown send response error"
	ErrTextAPNsTransport = "unknown transport error"
)

// Reasons the proxy gives when no provider answered.
const (
	ReasonTimeout     = "timeout"     // the try's deadline passed before the request was sent
	ReasonTransport   = "transport"   // the request never reached the provider
	ReasonUnconfirmed = "unconfirmed" // the request was sent and no answer came back
)

// Retry says who, if anyone, tries a failed send again.
type Retry int

const (
	// NoRetry: the answer will not change (every 4xx but 429), or a retry
	// could deliver twice (the request was sent and no answer came).
	NoRetry Retry = iota
	// RetryByProxy: transient (5xx, 429, a failure before the request was
	// sent); the proxy tries again with backoff, honouring Retry-After.
	RetryByProxy
	// RetriedByClient: transient, and the provider's client library has
	// already retried it within the try (firebase-admin-go retries 503 and
	// network errors up to 4 times); another round would multiply the load.
	RetriedByClient
)

func (r Retry) String() string {
	return [...]string{"no", "proxy", "client"}[r]
}

// outcomeKind says how far one try got.
type outcomeKind int

const (
	kindAnswer      outcomeKind = iota + 1 // the provider answered (any HTTP status)
	kindTimeout                            // the try's deadline passed before the request was fully sent
	kindTransport                          // another failure before the request was fully sent
	kindUnconfirmed                        // sent in full, then no answer: delivery unknown
)

// outcome is what one try learnt, provider-neutral. Senders fill it; the
// verdict table judges it.
type outcome struct {
	Kind       outcomeKind
	Status     int           // the provider's HTTP status (kindAnswer)
	Reason     string        // APNs reason, FCM error code, or Google status
	Message    string        // the provider's or the transport's words
	ID         string        // apns-id or FCM message name, on success
	RetryAfter time.Duration // from the provider's Retry-After
}

func (o outcome) ok() bool { return o.Kind == kindAnswer && o.Status == http.StatusOK }

// rule is one row of the verdict table. Zero fields match anything.
type rule struct {
	Provider  Provider
	Kind      outcomeKind
	Reason    string
	StatusMin int
	StatusMax int
	Result    string // mmpush.StatusOK, StatusRemove or StatusFail
	Retry     Retry  // what pushlab does
	Upstream  Retry  // what mattermost-push-proxy does (Config.UpstreamRetries)
}

// verdictTable maps what a provider answered to what the proxy answers the
// server. It is the only such table: both senders' outcomes are judged here.
// The first matching row wins. Result is upstream's in every row; Retry is
// pushlab's choice and Upstream upstream's (server/apple_notification_server.go
// retries only when apns2 returned an error, never an answer;
// server/android_notification_server.go retries a deadline, INTERNAL and
// QUOTA_EXCEEDED, and leaves UNAVAILABLE and network errors to the SDK).
var verdictTable = []rule{
	{Kind: kindAnswer, StatusMin: 200, StatusMax: 200, Result: mmpush.StatusOK},

	// Dead tokens: the server drops the device. Upstream's four APNs reasons
	// and two FCM codes; nothing else (not ExpiredToken, not INVALID_ARGUMENT).
	{Provider: APNs, Kind: kindAnswer, Reason: apns2.ReasonBadDeviceToken, Result: mmpush.StatusRemove},
	{Provider: APNs, Kind: kindAnswer, Reason: apns2.ReasonUnregistered, Result: mmpush.StatusRemove},
	{Provider: APNs, Kind: kindAnswer, Reason: apns2.ReasonMissingDeviceToken, Result: mmpush.StatusRemove},
	{Provider: APNs, Kind: kindAnswer, Reason: apns2.ReasonDeviceTokenNotForTopic, Result: mmpush.StatusRemove},
	{Provider: FCM, Kind: kindAnswer, Reason: ReasonFCMUnregistered, Result: mmpush.StatusRemove},
	{Provider: FCM, Kind: kindAnswer, Reason: ReasonFCMSenderIDMismatch, Result: mmpush.StatusRemove},

	// firebase-admin-go already retried the 503 inside the try.
	{Provider: FCM, Kind: kindAnswer, StatusMin: 503, StatusMax: 503, Result: mmpush.StatusFail, Retry: RetriedByClient, Upstream: RetriedByClient},
	// The two FCM codes upstream retries.
	{Provider: FCM, Kind: kindAnswer, Reason: ReasonFCMInternal, Result: mmpush.StatusFail, Retry: RetryByProxy, Upstream: RetryByProxy},
	{Provider: FCM, Kind: kindAnswer, Reason: ReasonFCMQuotaExceeded, Result: mmpush.StatusFail, Retry: RetryByProxy, Upstream: RetryByProxy},
	// Other transient answers: pushlab retries them, upstream does not.
	{Kind: kindAnswer, StatusMin: 429, StatusMax: 429, Result: mmpush.StatusFail, Retry: RetryByProxy},
	{Kind: kindAnswer, StatusMin: 500, StatusMax: 599, Result: mmpush.StatusFail, Retry: RetryByProxy},
	// Every other answer is final: a 4xx is never retried.
	{Kind: kindAnswer, Result: mmpush.StatusFail, Retry: NoRetry},

	// No answer. Sent in full but unanswered: the provider may have accepted,
	// so a blind retry could deliver twice (upstream resends it blind); the
	// retry loop's ResendPolicy decides (by default: resend, with a collapse id).
	{Kind: kindUnconfirmed, Result: mmpush.StatusFail, Retry: NoRetry, Upstream: RetryByProxy},
	// Not sent: safe to try again. firebase-admin-go retries network errors itself.
	{Provider: FCM, Kind: kindTransport, Result: mmpush.StatusFail, Retry: RetriedByClient, Upstream: RetriedByClient},
	{Kind: kindTransport, Result: mmpush.StatusFail, Retry: RetryByProxy, Upstream: RetryByProxy},
	{Kind: kindTimeout, Result: mmpush.StatusFail, Retry: RetryByProxy, Upstream: RetryByProxy},
}

// verdict is the table's judgement of one try.
type verdict struct {
	Status string // mmpush.StatusOK, StatusRemove or StatusFail
	Reason string // what the provider (or the transport) said
	Retry  Retry
}

// judge applies the verdict table, with pushlab's retries.
func judge(p Provider, o outcome) verdict { return judgeAs(p, o, false) }

// judgeAs applies the verdict table, with upstream's retries if upstream.
func judgeAs(p Provider, o outcome, upstream bool) verdict {
	for _, r := range verdictTable {
		if r.matches(p, o) {
			retry := r.Retry
			if upstream {
				retry = r.Upstream
			}
			return verdict{Status: r.Result, Reason: o.reason(), Retry: retry}
		}
	}
	return verdict{Status: mmpush.StatusFail, Reason: o.reason(), Retry: NoRetry}
}

// failText is the FAIL error the server is answered for a final outcome:
// upstream's words, and for APNs pushlab's ": reason" unless upstreamText.
func failText(p Provider, o outcome, upstreamText bool) string {
	if p == FCM {
		return o.Message // the firebase SDK's error text, as upstream answers it
	}
	text := ErrTextAPNsTransport
	if o.Kind == kindAnswer {
		text = ErrTextAPNsAnswer
	}
	if upstreamText {
		return text
	}
	return text + ": " + o.reason()
}

func (r rule) matches(p Provider, o outcome) bool {
	return (r.Provider == "" || r.Provider == p) &&
		(r.Kind == 0 || r.Kind == o.Kind) &&
		(r.Reason == "" || r.Reason == o.Reason) &&
		(r.StatusMin == 0 || o.Status >= r.StatusMin) &&
		(r.StatusMax == 0 || o.Status <= r.StatusMax)
}

// reason names the outcome for logs, metrics and events.
func (o outcome) reason() string {
	switch {
	case o.Reason != "":
		return o.Reason
	case o.Kind == kindAnswer && o.Status == http.StatusOK:
		return ""
	case o.Kind == kindAnswer:
		return fmt.Sprintf("HTTP %d", o.Status)
	case o.Kind == kindTimeout:
		return ReasonTimeout
	case o.Kind == kindUnconfirmed:
		return ReasonUnconfirmed
	default:
		return ReasonTransport
	}
}

// SendError is a send_push that did not end OK: a validation failure (Err
// wraps one of the Err… values), a dead token (Status REMOVE) or a failure
// (Status FAIL). Response is what the server was answered.
type SendError struct {
	Provider Provider // "" for a validation failure
	AppType  string
	Status   string // mmpush.StatusRemove or StatusFail
	Reason   string
	Retry    Retry // of the last try
	Tries    int
	Err      error
}

func (e *SendError) Error() string {
	if e.Provider == "" {
		return "proxy: " + e.Err.Error()
	}
	return fmt.Sprintf("proxy: %s %s (%s) after %d tries: %s", e.Provider, e.Status, e.AppType, e.Tries, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsRemove reports whether err says the device token is dead.
func IsRemove(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Status == mmpush.StatusRemove
}

// IsRetryable reports whether err is a failure that a later send_push may
// cure (the provider was overloaded or unreachable).
func IsRetryable(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Status == mmpush.StatusFail && se.Retry != NoRetry
}
