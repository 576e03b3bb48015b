package mockapns

import (
	"errors"
	"fmt"
	"net/http"
)

// The reasons APNs answers in the JSON body of an error response
// ({"reason":"…"}), with their HTTP status, in Apple's words (Handling
// notification responses from APNs). apns2 v0.25 names the first 30; the two
// scoped-key reasons are newer and reach apns2's Response.Reason as strings.
const (
	ReasonBadCollapseID          = "BadCollapseId"          // 400 The collapse identifier exceeds the maximum allowed size.
	ReasonBadDeviceToken         = "BadDeviceToken"         // 400 The specified device token is invalid. Verify that the request contains a valid token and that the token matches the environment.
	ReasonBadExpirationDate      = "BadExpirationDate"      // 400 The apns-expiration value is invalid.
	ReasonBadMessageID           = "BadMessageId"           // 400 The apns-id value is invalid.
	ReasonBadPriority            = "BadPriority"            // 400 The apns-priority value is invalid.
	ReasonBadTopic               = "BadTopic"               // 400 The apns-topic value is invalid.
	ReasonDeviceTokenNotForTopic = "DeviceTokenNotForTopic" // 400 The device token doesn't match the specified topic.
	ReasonDuplicateHeaders       = "DuplicateHeaders"       // 400 One or more headers are repeated.
	ReasonIdleTimeout            = "IdleTimeout"            // 400 Idle timeout.
	ReasonInvalidPushType        = "InvalidPushType"        // 400 The apns-push-type value is invalid.
	ReasonMissingDeviceToken     = "MissingDeviceToken"     // 400 The device token isn't specified in the request :path. Verify that the :path header contains the device token.
	ReasonMissingTopic           = "MissingTopic"           // 400 The apns-topic header of the request isn't specified and is required. The apns-topic header is mandatory when the client is connected using a certificate that supports multiple topics.
	ReasonPayloadEmpty           = "PayloadEmpty"           // 400 The message payload is empty.
	ReasonTopicDisallowed        = "TopicDisallowed"        // 400 Pushing to this topic is not allowed.

	ReasonBadCertificate             = "BadCertificate"             // 403 The certificate is invalid.
	ReasonBadCertificateEnvironment  = "BadCertificateEnvironment"  // 403 The client certificate is for the wrong environment.
	ReasonExpiredProviderToken       = "ExpiredProviderToken"       // 403 The provider token is stale and a new token should be generated.
	ReasonForbidden                  = "Forbidden"                  // 403 The specified action is not allowed.
	ReasonInvalidProviderToken       = "InvalidProviderToken"       // 403 The provider token is not valid, or the token signature can't be verified.
	ReasonMissingProviderToken       = "MissingProviderToken"       // 403 No provider certificate was used to connect to APNs, and the authorization header is missing or no provider token is specified.
	ReasonUnrelatedKeyIDInToken      = "UnrelatedKeyIdInToken"      // 403 The key ID in the provider token isn't related to the key ID of the token used in the first push of this connection.
	ReasonBadEnvironmentKeyIDInToken = "BadEnvironmentKeyIdInToken" // 403 The key ID in the provider token is for the wrong environment.

	ReasonBadPath          = "BadPath"          // 404 The request contained an invalid :path value.
	ReasonMethodNotAllowed = "MethodNotAllowed" // 405 The specified :method value isn't POST.

	ReasonExpiredToken = "ExpiredToken" // 410 The device token has expired.
	ReasonUnregistered = "Unregistered" // 410 The device token is inactive for the specified topic.

	ReasonPayloadTooLarge = "PayloadTooLarge" // 413 The message payload is too large.

	ReasonTooManyProviderTokenUpdates = "TooManyProviderTokenUpdates" // 429 The provider's authentication token is being updated too often. Update the authentication token no more than once every 20 minutes.
	ReasonTooManyRequests             = "TooManyRequests"             // 429 Too many requests were made consecutively to the same device token.

	ReasonInternalServerError = "InternalServerError" // 500 An internal server error occurred.

	ReasonServiceUnavailable = "ServiceUnavailable" // 503 The service is unavailable.
	ReasonShutdown           = "Shutdown"           // 503 The APNs server is shutting down.
)

// Reasons maps every reason APNs documents to its HTTP status: the one table
// the mock answers from (32 entries).
var Reasons = map[string]int{
	ReasonBadCollapseID:               http.StatusBadRequest,
	ReasonBadDeviceToken:              http.StatusBadRequest,
	ReasonBadExpirationDate:           http.StatusBadRequest,
	ReasonBadMessageID:                http.StatusBadRequest,
	ReasonBadPriority:                 http.StatusBadRequest,
	ReasonBadTopic:                    http.StatusBadRequest,
	ReasonDeviceTokenNotForTopic:      http.StatusBadRequest,
	ReasonDuplicateHeaders:            http.StatusBadRequest,
	ReasonIdleTimeout:                 http.StatusBadRequest,
	ReasonInvalidPushType:             http.StatusBadRequest,
	ReasonMissingDeviceToken:          http.StatusBadRequest,
	ReasonMissingTopic:                http.StatusBadRequest,
	ReasonPayloadEmpty:                http.StatusBadRequest,
	ReasonTopicDisallowed:             http.StatusBadRequest,
	ReasonBadCertificate:              http.StatusForbidden,
	ReasonBadCertificateEnvironment:   http.StatusForbidden,
	ReasonExpiredProviderToken:        http.StatusForbidden,
	ReasonForbidden:                   http.StatusForbidden,
	ReasonInvalidProviderToken:        http.StatusForbidden,
	ReasonMissingProviderToken:        http.StatusForbidden,
	ReasonUnrelatedKeyIDInToken:       http.StatusForbidden,
	ReasonBadEnvironmentKeyIDInToken:  http.StatusForbidden,
	ReasonBadPath:                     http.StatusNotFound,
	ReasonMethodNotAllowed:            http.StatusMethodNotAllowed,
	ReasonExpiredToken:                http.StatusGone,
	ReasonUnregistered:                http.StatusGone,
	ReasonPayloadTooLarge:             http.StatusRequestEntityTooLarge,
	ReasonTooManyProviderTokenUpdates: http.StatusTooManyRequests,
	ReasonTooManyRequests:             http.StatusTooManyRequests,
	ReasonInternalServerError:         http.StatusInternalServerError,
	ReasonServiceUnavailable:          http.StatusServiceUnavailable,
	ReasonShutdown:                    http.StatusServiceUnavailable,
}

// defaultReason is what a fault that names only a status answers.
var defaultReason = map[int]string{
	http.StatusBadRequest:            ReasonBadDeviceToken,
	http.StatusForbidden:             ReasonForbidden,
	http.StatusNotFound:              ReasonBadPath,
	http.StatusMethodNotAllowed:      ReasonMethodNotAllowed,
	http.StatusGone:                  ReasonUnregistered,
	http.StatusRequestEntityTooLarge: ReasonPayloadTooLarge,
	http.StatusTooManyRequests:       ReasonTooManyRequests,
	http.StatusInternalServerError:   ReasonInternalServerError,
	http.StatusServiceUnavailable:    ReasonServiceUnavailable,
}

// Error is a verdict of the mock: the status and reason it answered. It is
// what Push-style helpers and the mock's own checks return, so callers can ask
// errors.As / IsReason instead of matching strings.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("apns: %d %s", e.Status, e.Reason) }

// Is matches another *Error with the same reason, so
// errors.Is(err, &mockapns.Error{Reason: mockapns.ReasonBadDeviceToken}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason
}

// IsReason reports whether err is an *Error with the given reason.
func IsReason(err error, reason string) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == reason
}

// reject builds the verdict for a documented reason.
func reject(reason string) *Error {
	st, ok := Reasons[reason]
	if !ok {
		st = http.StatusBadRequest
	}
	return &Error{Status: st, Reason: reason}
}
