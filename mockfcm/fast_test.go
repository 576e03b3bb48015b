package mockfcm

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"
)

// FuzzFastMatchesSlow: whatever the one-pass parser accepts, the
// field-by-field parser accepts with the same result.
func FuzzFastMatchesSlow(f *testing.F) {
	for _, s := range []string{
		`{"message":{"token":"abc","data":{"a":"b"},"android":{"priority":"high","ttl":"1.5s","data":{"c":"d"}}}}`,
		`{"validate_only":true,"message":{"topic":"news","notification":{"title":"t","body":"b"}}}`,
		`{"message":{"condition":"'a' in topics","android":{"priority":2,"collapse_key":"k","notification":{"x":1}}}}`,
		`{"message":{"token":"a","apns":{"payload":{}},"webpush":null,"fcm_options":{"analytics_label":"x"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := parseFast(body)
		if !ok {
			return
		}
		slow, err := parseSlow(body)
		if err != nil {
			t.Fatalf("fast took it, slow refused: %v", err)
		}
		a, b := fast.Message, slow.Message
		if fast.ValidateOnly != slow.ValidateOnly || a.Token != b.Token || a.Topic != b.Topic || a.Condition != b.Condition ||
			a.Priority != b.Priority || a.TTL != b.TTL || a.HasTTL != b.HasTTL || a.CollapseKey != b.CollapseKey ||
			a.RestrictedPackageName != b.RestrictedPackageName || a.Size != b.Size || !maps.Equal(a.Data, b.Data) {
			t.Fatalf("fast %+v\nslow %+v", a, b)
		}
		if !bytes.Equal(a.Payload, b.Payload) && !jsonEqual(a.Payload, b.Payload) {
			t.Fatalf("payloads differ:\n%s\n%s", a.Payload, b.Payload)
		}
	})
}

func jsonEqual(x, y []byte) bool {
	var a, b any
	if json.Unmarshal(x, &a) != nil || json.Unmarshal(y, &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
