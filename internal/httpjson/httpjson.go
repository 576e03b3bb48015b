// Package httpjson reads and answers the JSON of pushlab's control APIs (the
// mocks', the server simulator's, the device fleet's), so that each reads a
// bounded body and answers a bad one the same way.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// DefaultMaxBody bounds a request body when API.MaxBody is 0.
const DefaultMaxBody = 64 << 10

// API is how one control API reads requests and answers errors. Its zero
// value reads up to DefaultMaxBody, accepts unknown fields and answers
// {"error":…}.
type API struct {
	// MaxBody bounds a request body (0 = DefaultMaxBody); a longer one is
	// answered 413.
	MaxBody int64
	// DisallowUnknownFields answers 400 to a body with a field v lacks.
	DisallowUnknownFields bool
	// BadJSON is the error answered 400 for a body that does not decode;
	// nil = "bad JSON: <err>", wrapping err.
	BadJSON func(err error) error
	// StatusCode adds the status to error bodies: {"error":…,"status_code":"400"}.
	StatusCode bool
}

// Read decodes the body of r into v. On failure it answers (413 for a body
// over MaxBody, else 400) and returns false.
func (a API) Read(w http.ResponseWriter, r *http.Request, v any) bool {
	limit := a.MaxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if a.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		a.Error(w, http.StatusRequestEntityTooLarge, err)
	case a.BadJSON != nil:
		a.Error(w, http.StatusBadRequest, a.BadJSON(err))
	default:
		a.Error(w, http.StatusBadRequest, fmt.Errorf("bad JSON: %w", err))
	}
	return false
}

// Error answers status with err's message as the JSON error body.
func (a API) Error(w http.ResponseWriter, status int, err error) {
	body := map[string]string{"error": err.Error()}
	if a.StatusCode {
		body["status_code"] = strconv.Itoa(status)
	}
	Write(w, status, body)
}

// Write answers status with v as JSON.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
