package mockfcm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// FCM error codes, as they appear in the google.firebase.fcm.v1.FcmError
// detail of an error answer (the firebase SDK's Is* predicates read only these).
const (
	// UnspecifiedError: no more information is available about this error.
	UnspecifiedError = "UNSPECIFIED_ERROR"
	// InvalidArgument (400): request parameters were invalid.
	InvalidArgument = "INVALID_ARGUMENT"
	// Unregistered (404): app instance was unregistered from FCM. This usually
	// means that the token used is no longer valid and a new one must be used.
	Unregistered = "UNREGISTERED"
	// SenderIDMismatch (403): the authenticated sender ID is different from
	// the sender ID for the registration token.
	SenderIDMismatch = "SENDER_ID_MISMATCH"
	// QuotaExceeded (429): sending limit exceeded for the message target.
	QuotaExceeded = "QUOTA_EXCEEDED"
	// Unavailable (503): the server is overloaded.
	Unavailable = "UNAVAILABLE"
	// Internal (500): an unknown internal error occurred.
	Internal = "INTERNAL"
	// ThirdPartyAuthError (401): APNs certificate or web push auth key was
	// invalid or missing.
	ThirdPartyAuthError = "THIRD_PARTY_AUTH_ERROR"
)

// Google's canonical codes, the top-level "status" of a google.rpc.Status
// answer (what errorutils.Is* in the SDK read).
const (
	StatusInvalidArgument   = "INVALID_ARGUMENT"
	StatusNotFound          = "NOT_FOUND"
	StatusPermissionDenied  = "PERMISSION_DENIED"
	StatusResourceExhausted = "RESOURCE_EXHAUSTED"
	StatusUnavailable       = "UNAVAILABLE"
	StatusInternal          = "INTERNAL"
	StatusUnauthenticated   = "UNAUTHENTICATED"
)

// Type URLs of the details an error may carry.
const (
	typeFcmError   = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
	typeBadRequest = "type.googleapis.com/google.rpc.BadRequest"
)

// fcmCodes maps each FCM error code to its HTTP status, Google's general code
// and the message Google sends when nothing more specific applies.
var fcmCodes = map[string]struct {
	http    int
	status  string
	message string
}{
	InvalidArgument:     {400, StatusInvalidArgument, "Request contains an invalid argument."},
	Unregistered:        {404, StatusNotFound, "Requested entity was not found."},
	SenderIDMismatch:    {403, StatusPermissionDenied, "SenderId mismatch"},
	QuotaExceeded:       {429, StatusResourceExhausted, "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'."},
	Unavailable:         {503, StatusUnavailable, "The service is currently unavailable."},
	Internal:            {500, StatusInternal, "Internal error encountered."},
	ThirdPartyAuthError: {401, StatusUnauthenticated, "Auth error from APNS or Web Push Service"},
	UnspecifiedError:    {500, StatusInternal, "Unspecified error."},
}

// codeForStatus is the FCM code a bare HTTP status stands for (a fault that
// names a status only).
func codeForStatus(status int) string {
	switch status {
	case 400:
		return InvalidArgument
	case 401:
		return ThirdPartyAuthError
	case 403:
		return SenderIDMismatch
	case 404:
		return Unregistered
	case 429:
		return QuotaExceeded
	case 503:
		return Unavailable
	case 500:
		return Internal
	}
	return UnspecifiedError
}

// FieldViolation is one entry of a google.rpc.BadRequest detail.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Error is an FCM answer other than success: a google.rpc.Status with, when
// FCMCode is set, the google.firebase.fcm.v1.FcmError detail.
type Error struct {
	HTTPStatus int    // 400, 401, 403, 404, 429, 500, 503…
	Status     string // Google's general code: INVALID_ARGUMENT, NOT_FOUND…
	FCMCode    string // the FcmError detail; "" for errors Google gives without one (auth)
	Message    string
	Violations []FieldViolation // a google.rpc.BadRequest detail, if any
	RetryAfter string           // Retry-After header, if any
}

func (e *Error) Error() string {
	code := e.FCMCode
	if code == "" {
		code = e.Status
	}
	return fmt.Sprintf("fcm: %d %s: %s", e.HTTPStatus, code, e.Message)
}

// newError makes the usual answer for an FCM code with a specific message.
func newError(code, message string) *Error {
	c, ok := fcmCodes[code]
	if !ok {
		c = fcmCodes[UnspecifiedError]
	}
	if message == "" {
		message = c.message
	}
	return &Error{HTTPStatus: c.http, Status: c.status, FCMCode: code, Message: message}
}

// invalid is a 400 INVALID_ARGUMENT naming the field at fault.
func invalid(field, message string) *Error {
	e := newError(InvalidArgument, message)
	if field != "" {
		e.Violations = []FieldViolation{{Field: field, Description: message}}
	}
	return e
}

// Predicates, as the firebase SDK's messaging.Is* read an answer.

// IsInvalidArgument reports whether err is an INVALID_ARGUMENT answer.
func IsInvalidArgument(err error) bool { return hasCode(err, InvalidArgument) }

// IsUnregistered reports whether err is an UNREGISTERED answer (the token is dead).
func IsUnregistered(err error) bool { return hasCode(err, Unregistered) }

// IsSenderIDMismatch reports whether err is a SENDER_ID_MISMATCH answer.
func IsSenderIDMismatch(err error) bool { return hasCode(err, SenderIDMismatch) }

// IsQuotaExceeded reports whether err is a QUOTA_EXCEEDED answer.
func IsQuotaExceeded(err error) bool { return hasCode(err, QuotaExceeded) }

// IsUnavailable reports whether err is an UNAVAILABLE answer.
func IsUnavailable(err error) bool { return hasCode(err, Unavailable) }

// IsInternal reports whether err is an INTERNAL answer.
func IsInternal(err error) bool { return hasCode(err, Internal) }

// IsThirdPartyAuthError reports whether err is a THIRD_PARTY_AUTH_ERROR answer.
func IsThirdPartyAuthError(err error) bool { return hasCode(err, ThirdPartyAuthError) }

func hasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.FCMCode == code
}

type statusBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []any  `json:"details,omitempty"`
	} `json:"error"`
}

// body is the google.rpc.Status JSON Google sends.
func (e *Error) body() []byte {
	var b statusBody
	b.Error.Code = e.HTTPStatus
	b.Error.Message = e.Message
	b.Error.Status = e.Status
	if e.FCMCode != "" {
		b.Error.Details = append(b.Error.Details, map[string]string{"@type": typeFcmError, "errorCode": e.FCMCode})
	}
	if len(e.Violations) > 0 {
		b.Error.Details = append(b.Error.Details, map[string]any{"@type": typeBadRequest, "fieldViolations": e.Violations})
	}
	out, _ := json.MarshalIndent(b, "", "  ")
	return append(out, '\n')
}

func (e *Error) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	if e.RetryAfter != "" {
		h.Set("Retry-After", e.RetryAfter)
	}
	if e.HTTPStatus == http.StatusUnauthorized && e.FCMCode == "" {
		h.Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
	}
	w.WriteHeader(e.HTTPStatus)
	w.Write(e.body())
}

// ParseError reads a google.rpc.Status answer back into an *Error (for
// clients that do not use the SDK, and for tests).
func ParseError(httpStatus int, header http.Header, body []byte) *Error {
	var b struct {
		Error struct {
			Code    int               `json:"code"`
			Message string            `json:"message"`
			Status  string            `json:"status"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
	e := &Error{HTTPStatus: httpStatus, RetryAfter: header.Get("Retry-After")}
	if err := json.Unmarshal(body, &b); err != nil {
		e.Message = "unparsable answer: " + strconv.Quote(string(body[:min(len(body), 200)]))
		return e
	}
	e.Status, e.Message = b.Error.Status, b.Error.Message
	for _, d := range b.Error.Details {
		var x struct {
			Type            string           `json:"@type"`
			ErrorCode       string           `json:"errorCode"`
			FieldViolations []FieldViolation `json:"fieldViolations"`
		}
		if json.Unmarshal(d, &x) != nil {
			continue
		}
		switch x.Type {
		case typeFcmError:
			e.FCMCode = x.ErrorCode
		case typeBadRequest:
			e.Violations = x.FieldViolations
		}
	}
	return e
}

// Auth answers (no FcmError detail), as Google's front end sends them.
var (
	errMissingCredential = &Error{HTTPStatus: 401, Status: StatusUnauthenticated,
		Message: "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}
	errInvalidCredential = &Error{HTTPStatus: 401, Status: StatusUnauthenticated,
		Message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}
)

func errPermissionDenied(project string) *Error {
	return &Error{HTTPStatus: 403, Status: StatusPermissionDenied,
		Message: fmt.Sprintf("Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/%s' (or it may not exist).", project)}
}

func errNotFound(path string) *Error {
	return &Error{HTTPStatus: 404, Status: StatusNotFound, Message: fmt.Sprintf("The requested URL %s was not found on this server.", path)}
}
