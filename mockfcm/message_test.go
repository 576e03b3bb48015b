package mockfcm_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/mockfcm"
)

func TestParseSendRequest(t *testing.T) {
	tok := `"token":"abc"`
	cases := []struct {
		name     string
		body     string
		ok       bool
		field    string // BadRequest field violation wanted, if any
		priority string
		ttl      time.Duration
		validate bool
	}{
		{"minimal", `{"message":{` + tok + `}}`, true, "", "", mockfcm.MaxTTL, false},
		{"sdk lowercase priority and ttl", `{"message":{` + tok + `,"android":{"priority":"high","ttl":"1.500000000s"}}}`, true, "", "high", 1500 * time.Millisecond, false},
		{"REST enum priority", `{"message":{` + tok + `,"android":{"priority":"NORMAL","ttl":"10s"}}}`, true, "", "normal", 10 * time.Second, false},
		{"HIGH", `{"message":{` + tok + `,"android":{"priority":"HIGH"}}}`, true, "", "high", mockfcm.MaxTTL, false},
		{"camelCase fields", `{"validateOnly":true,"message":{` + tok + `,"android":{"collapseKey":"k","restrictedPackageName":"p"},"fcmOptions":{}}}`, true, "", "", mockfcm.MaxTTL, true},
		{"ttl zero", `{"message":{` + tok + `,"android":{"ttl":"0s"}}}`, true, "", "", 0, false},
		{"ttl 9 digits", `{"message":{` + tok + `,"android":{"ttl":"3.000000001s"}}}`, true, "", "", 3*time.Second + 1, false},
		{"ttl max", `{"message":{` + tok + `,"android":{"ttl":"2419200s"}}}`, true, "", "", mockfcm.MaxTTL, false},
		{"topic", `{"message":{"topic":"news"}}`, true, "", "", mockfcm.MaxTTL, false},
		{"condition", `{"message":{"condition":"'a' in topics && !('b' in topics)"}}`, true, "", "", mockfcm.MaxTTL, false},
		{"notification", `{"message":{` + tok + `,"notification":{"title":"t","body":"b","image":"https://x/i.png"}}}`, true, "", "", mockfcm.MaxTTL, false},
		{"apns and webpush pass", `{"message":{` + tok + `,"apns":{"payload":{"aps":{}}},"webpush":{"headers":{}}}}`, true, "", "", mockfcm.MaxTTL, false},

		{"not json", `{"message":`, false, "", "", 0, false},
		{"array", `[]`, false, "", "", 0, false},
		{"no message", `{}`, false, "message", "", 0, false},
		{"no target", `{"message":{"data":{"a":"b"}}}`, false, "message", "", 0, false},
		{"two targets", `{"message":{` + tok + `,"topic":"news"}}`, false, "message", "", 0, false},
		{"empty token", `{"message":{"token":""}}`, false, "message", "", 0, false},
		{"data not strings", `{"message":{` + tok + `,"data":{"badge":1}}}`, false, "message.data[0].value", "", 0, false},
		{"data not object", `{"message":{` + tok + `,"data":"x"}}`, false, "message.data", "", 0, false},
		{"reserved from", `{"message":{` + tok + `,"data":{"from":"x"}}}`, false, "message.data", "", 0, false},
		{"reserved message_type", `{"message":{` + tok + `,"data":{"message_type":"x"}}}`, false, "message.data", "", 0, false},
		{"reserved gcm.", `{"message":{` + tok + `,"data":{"gcm.notification.x":"x"}}}`, false, "message.data", "", 0, false},
		{"reserved in android.data", `{"message":{` + tok + `,"android":{"data":{"google.x":"x"}}}}`, false, "message.data", "", 0, false},
		{"oversize", `{"message":{` + tok + `,"data":{"k":"` + strings.Repeat("a", 4096) + `"}}}`, false, "message", "", 0, false},
		{"oversize topic", `{"message":{"topic":"t","data":{"k":"` + strings.Repeat("a", 2048) + `"}}}`, false, "message", "", 0, false},
		{"oversize notification", `{"message":{` + tok + `,"notification":{"body":"` + strings.Repeat("a", 4097) + `"}}}`, false, "message", "", 0, false},
		{"priority urgent", `{"message":{` + tok + `,"android":{"priority":"urgent"}}}`, false, "message.android.priority", "", 0, false},
		{"ttl 10 digits", `{"message":{` + tok + `,"android":{"ttl":"1.1234567891s"}}}`, false, "message.android.ttl", "", 0, false},
		{"ttl without s", `{"message":{` + tok + `,"android":{"ttl":"10"}}}`, false, "message.android.ttl", "", 0, false},
		{"ttl negative", `{"message":{` + tok + `,"android":{"ttl":"-1s"}}}`, false, "message.android.ttl", "", 0, false},
		{"ttl over 4 weeks", `{"message":{` + tok + `,"android":{"ttl":"2419200.5s"}}}`, false, "message.android.ttl", "", 0, false},
		{"ttl a number", `{"message":{` + tok + `,"android":{"ttl":10}}}`, false, "message.android.ttl", "", 0, false},
		{"unknown message field", `{"message":{` + tok + `,"badge":1}}`, false, "message", "", 0, false},
		{"unknown android field", `{"message":{` + tok + `,"android":{"sound":"x"}}}`, false, "message.android", "", 0, false},
		{"unknown top field", `{"message":{` + tok + `},"dry_run":true}`, false, "", "", 0, false},
		{"bad topic name", `{"message":{"topic":"a b"}}`, false, "message.topic", "", 0, false},
		{"bad condition", `{"message":{"condition":"'a' in topics &&"}}`, false, "message.condition", "", 0, false},
		{"six topics", `{"message":{"condition":"'a' in topics || 'b' in topics || 'c' in topics || 'd' in topics || 'e' in topics || 'f' in topics"}}`, false, "message.condition", "", 0, false},
		{"validate_only not bool", `{"validate_only":"yes","message":{` + tok + `}}`, false, "validate_only", "", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := mockfcm.ParseSendRequest([]byte(tc.body))
			if tc.ok != (err == nil) {
				t.Fatalf("ok = %v, err = %v", err == nil, err)
			}
			if err != nil {
				if err.HTTPStatus != 400 || err.FCMCode != mockfcm.InvalidArgument || err.Status != "INVALID_ARGUMENT" {
					t.Fatalf("error %+v", err)
				}
				if tc.field != "" && (len(err.Violations) == 0 || err.Violations[0].Field != tc.field) {
					t.Fatalf("violations %+v, want field %q", err.Violations, tc.field)
				}
				return
			}
			m := req.Message
			if m.Priority != tc.priority || m.TTL != tc.ttl || req.ValidateOnly != tc.validate {
				t.Fatalf("priority %q ttl %v validate %v", m.Priority, m.TTL, req.ValidateOnly)
			}
			var p map[string]json.RawMessage
			if json.Unmarshal(m.Payload, &p) != nil {
				t.Fatalf("payload %s", m.Payload)
			}
			for _, k := range []string{"token", "topic", "condition"} {
				if _, ok := p[k]; ok {
					t.Fatalf("payload carries the target: %s", m.Payload)
				}
			}
		})
	}
}

func TestErrorBodyRoundTrip(t *testing.T) {
	req, err := mockfcm.ParseSendRequest([]byte(`{"message":{"token":"x","data":{"from":"y"}}}`))
	if req != nil || err == nil {
		t.Fatal("want an error")
	}
	if !mockfcm.IsInvalidArgument(err) || mockfcm.IsUnregistered(err) {
		t.Fatalf("predicates on %v", err)
	}
}

func TestParseCondition(t *testing.T) {
	subs := map[string]bool{"a": true, "b": true}
	in := func(x string) bool { return subs[x] }
	cases := []struct {
		expr  string
		ok    bool
		match bool
	}{
		{"'a' in topics", true, true},
		{`"a" in topics`, true, true},
		{"'c' in topics", true, false},
		{"'a' in topics && 'b' in topics", true, true},
		{"'a' in topics && 'c' in topics", true, false},
		{"'c' in topics || 'b' in topics", true, true},
		{"'a' in topics && ('c' in topics || 'b' in topics)", true, true},
		{"'c' in topics || 'a' in topics && 'b' in topics", true, true}, // && binds tighter
		{"('c' in topics || 'a' in topics) && 'd' in topics", true, false},
		{"!('c' in topics)", true, true},
		{"!'a' in topics", true, false},
		{"  'a'   in   topics  ", true, true},
		{"", false, false},
		{"'a' in topic", false, false},
		{"'a' in topics &&", false, false},
		{"('a' in topics", false, false},
		{"'a' in topics)", false, false},
		{"'a b' in topics", false, false},
		{"'a' in topics || 'b' in topics || 'c' in topics || 'd' in topics || 'e' in topics", true, true},
		{"'a' in topics || 'b' in topics || 'c' in topics || 'd' in topics || 'e' in topics || 'f' in topics", false, false},
		{strings.Repeat("(", 40) + "'a' in topics" + strings.Repeat(")", 40), false, false},
	}
	for _, tc := range cases {
		c, err := mockfcm.ParseCondition(tc.expr)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.expr, err)
			continue
		}
		if err == nil && c.Match(in) != tc.match {
			t.Errorf("%q: match %v, want %v", tc.expr, !tc.match, tc.match)
		}
	}
}

func FuzzParseSendRequest(f *testing.F) {
	for _, s := range []string{
		`{"message":{"token":"abc","data":{"a":"b"},"android":{"priority":"high","ttl":"1.5s"}}}`,
		`{"validate_only":true,"message":{"topic":"news","notification":{"title":"t"}}}`,
		`{"message":{"condition":"'a' in topics && ('b' in topics || !('c' in topics))"}}`,
		`{"message":{"token":"a","android":{"data":{"x":"y"},"collapse_key":"c","ttl":"0s"}}}`,
		`{"message":null}`, `[]`, `"x"`, `{"message":{"data":{"from":1}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := mockfcm.ParseSendRequest(body)
		if err != nil {
			if err.HTTPStatus != 400 || err.FCMCode != mockfcm.InvalidArgument {
				t.Fatalf("error %+v", err)
			}
			return
		}
		m := req.Message
		n := 0
		for _, s := range []string{m.Token, m.Topic, m.Condition} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d targets", n)
		}
		if !json.Valid(m.Payload) {
			t.Fatalf("payload %q", m.Payload)
		}
		if m.Size > mockfcm.MaxPayload || m.TTL < 0 || m.TTL > mockfcm.MaxTTL {
			t.Fatalf("size %d ttl %v", m.Size, m.TTL)
		}
	})
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"'a' in topics", "!('a' in topics) && 'b' in topics || 'c' in topics", "((", "'x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := mockfcm.ParseCondition(s)
		if err != nil {
			return
		}
		if n := len(c.Topics()); n == 0 || n > mockfcm.MaxConditionTopics {
			t.Fatalf("%d topics", n)
		}
		c.Match(func(string) bool { return true })
	})
}
