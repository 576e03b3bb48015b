package devicesim

import (
	"strings"
	"testing"
)

var envelope = "v1." + strings.Repeat("Ab9-_", 40)

func TestParseAPNs(t *testing.T) {
	tests := []struct {
		name, payload string
		ok            bool
		check         func(inbound) bool
	}{
		{"string alert", `{"aps":{"alert":"hi","mutable-content":1},"ack_id":"a"}`, true,
			func(in inbound) bool {
				return in.Body == "hi" && in.HasAlert && in.MutableContent && in.AckID == "a" && in.Badge == -1
			}},
		{"dict alert, badge, thread", `{"aps":{"alert":{"title":"T","subtitle":"S","body":"B"},"badge":4,"thread-id":"th","category":"CAN_REPLY"}}`, true,
			func(in inbound) bool {
				return in.Title == "T" && in.Subtitle == "S" && in.Body == "B" && in.Badge == 4 && in.Thread == "th" && in.Category == "CAN_REPLY"
			}},
		{"critical sound dict", `{"aps":{"sound":{"name":"ping.caf","critical":1}}}`, true, func(in inbound) bool { return in.Sound == "ping.caf" }},
		{"content-available only", `{"aps":{"content-available":1},"type":"clear"}`, true,
			func(in inbound) bool { return !in.HasAlert && in.ContentAvailable && in.Type == "clear" }},
		{"id_loaded as bool", `{"aps":{},"id_loaded":true}`, true, func(in inbound) bool { return in.IDLoaded }},
		{"envelope in the body is taken out", `{"aps":{"alert":"` + envelope + `","mutable-content":1}}`, true,
			func(in inbound) bool { return in.Encrypted == envelope && in.Body == "" && in.HasAlert }},
		{"short v1. text is a message", `{"aps":{"alert":"v1.2 is out"}}`, true,
			func(in inbound) bool { return in.Encrypted == "" && in.Body == "v1.2 is out" }},
		{"encrypted key", `{"aps":{"alert":"Someone sent you a message"},"encrypted":"` + envelope + `"}`, true,
			func(in inbound) bool { return in.Encrypted == envelope && in.Body == "Someone sent you a message" }},
		{"not JSON", `{`, false, nil},
		{"no aps", `{"ack_id":"a"}`, false, nil},
		{"aps not a dict", `{"aps":[1]}`, false, nil},
		{"null aps", `{"aps":null}`, false, nil},
		{"badge is text", `{"aps":{"badge":"4"}}`, false, nil},
		{"alert is a number", `{"aps":{"alert":4}}`, false, nil},
		{"too large", `{"aps":{"alert":"` + strings.Repeat("x", maxPayload) + `"}}`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseAPNs([]byte(tt.payload))
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.check != nil && !tt.check(in) {
				t.Errorf("parsed %+v", in)
			}
		})
	}
}

func TestParseFCM(t *testing.T) {
	tests := []struct {
		name, payload string
		ok            bool
		check         func(inbound) bool
	}{
		{"data message", `{"data":{"ack_id":"a","message":"m","channel_name":"c","badge":"2","id_loaded":"true"},"android":{"priority":"high"}}`, true,
			func(in inbound) bool {
				return in.AckID == "a" && in.Message == "m" && in.ChannelName == "c" && in.Badge == 2 && in.IDLoaded && !in.SystemNotification
			}},
		{"notification block", `{"notification":{"title":"T","body":"B"}}`, true,
			func(in inbound) bool { return in.SystemNotification && in.Title == "T" && in.Body == "B" }},
		{"envelope in message", `{"data":{"message":"` + envelope + `"}}`, true,
			func(in inbound) bool { return in.Encrypted == envelope && in.Message == "" }},
		{"badge not a number", `{"data":{"badge":"two"}}`, false, nil},
		{"data values must be strings", `{"data":{"badge":2}}`, false, nil},
		{"not JSON", `[`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseFCM([]byte(tt.payload))
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.check != nil && !tt.check(in) {
				t.Errorf("parsed %+v", in)
			}
		})
	}
}

// The parsers take what any sender put on the push channel: they must not
// panic, and an envelope must never be left where it would be shown.
func FuzzParseAPNs(f *testing.F) {
	for _, s := range []string{`{"aps":{"alert":"hi"}}`, `{"aps":{"alert":{"body":"` + envelope + `"},"badge":1},"id_loaded":true}`, `{"aps":null}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseAPNs(b)
		if err == nil && (isEnvelope(in.Body) || isEnvelope(in.Message)) {
			t.Errorf("envelope left in the visible text: %+v", in)
		}
	})
}

func FuzzParseFCM(f *testing.F) {
	for _, s := range []string{`{"data":{"message":"` + envelope + `","badge":"1"}}`, `{"notification":{"title":"t"}}`, `{"data":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseFCM(b)
		if err == nil && isEnvelope(in.Message) {
			t.Errorf("envelope left in the visible text: %+v", in)
		}
	})
}
