package httpjson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Duration is a time.Duration as the control APIs write it: "250ms". It
// reads "250ms" or a number of milliseconds. Go APIs take time.Duration;
// this type lives only in the JSON forms at the control APIs' edge.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "250ms" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		ms, nerr := strconv.ParseFloat(string(b), 64)
		if nerr != nil {
			return fmt.Errorf("latency: want \"250ms\" or milliseconds, got %s", b)
		}
		*d = Duration(ms * float64(time.Millisecond))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	*d = Duration(v)
	return nil
}
