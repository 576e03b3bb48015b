package mockapns

import (
	"bytes"
	"encoding/json"
	"testing"
)

// checkPayloadByMap is checkPayload as it was written first, with
// encoding/json's map: the reference topLevel must agree with.
func checkPayloadByMap(body []byte, limit int, pushType string) (string, *Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", reject(ReasonPayloadEmpty)
	}
	if len(body) > limit {
		return "", reject(ReasonPayloadTooLarge)
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", reject(ReasonPayloadEmpty)
	}
	if pushType == "mdm" {
		var magic string
		if json.Unmarshal(top["mdm"], &magic) != nil || magic == "" {
			return "", reject(ReasonPayloadEmpty)
		}
		return "", nil
	}
	aps := bytes.TrimSpace(top["aps"])
	if len(aps) == 0 || aps[0] != '{' {
		return "", reject(ReasonPayloadEmpty)
	}
	ackID := ""
	if raw, ok := top["ack_id"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			ackID = s
		}
	}
	return ackID, nil
}

var payloadSeeds = []string{
	`{"aps":{"alert":"hi"},"ack_id":"a1"}`,
	` { "aps" : { "alert" : { "title" : "t" , "body" : "b}\"]" } } , "ack_id" : "x\u00e9\"y" } `,
	`{"aps":{},"ack_id":"first","ack_id":"second"}`,
	`{"aps":{},"aps":[]}`,
	`{"aps":[],"aps":{}}`,
	`{"\u0061ps":{"x":[1,2,{"y":null}]},"ack\u005fid":"esc"}`,
	`{"aps":{},"ack_id":null}`,
	`{"aps":{},"ack_id":12}`,
	`{"aps":{},"ack_id":"bad ` + "\xff" + ` utf8"}`,
	`{"aps":"string"}`,
	`{"aps":{}`,
	`null`,
	`[]`,
	`"aps"`,
	`12`,
	`{}`,
	`{"mdm":"magic"}`,
	`{"mdm":""}`,
	`{"mdm":7,"aps":{}}`,
	`{"a":true,"b":false,"c":-1.5e3,"aps":{"k":[[],{}]},"ack_id":""}`,
}

func TestCheckPayloadMatchesMapDecoding(t *testing.T) {
	for _, body := range payloadSeeds {
		for _, pt := range []string{"alert", "mdm"} {
			comparePayloadCheck(t, []byte(body), pt)
		}
	}
}

func FuzzCheckPayload(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, mdm bool) {
		pt := "alert"
		if mdm {
			pt = "mdm"
		}
		comparePayloadCheck(t, body, pt)
	})
}

func comparePayloadCheck(t *testing.T, body []byte, pushType string) {
	t.Helper()
	gotAck, gotErr := checkPayload(body, MaxPayload, pushType)
	wantAck, wantErr := checkPayloadByMap(body, MaxPayload, pushType)
	if gotAck != wantAck || (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Reason != wantErr.Reason {
		t.Fatalf("%q (%s): got %q, %v; encoding/json's map gives %q, %v", body, pushType, gotAck, gotErr, wantAck, wantErr)
	}
}

// BenchmarkCheckPayload weighs the top-level scan against the map decoding
// it replaced (checkPayloadByMap), on the payload BenchmarkPush sends: the
// scan stays only while it clearly pays.
func BenchmarkCheckPayload(b *testing.B) {
	body := []byte(`{"aps":{"alert":{"title":"town-square","body":"benchmark notification"},"mutable-content":1},"ack_id":"8D7A3E5C-0000-4000-8000-000000000000"}`)
	for _, c := range []struct {
		name  string
		check func([]byte, int, string) (string, *Error)
	}{{"scan", checkPayload}, {"map", checkPayloadByMap}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.check(body, MaxPayload, "alert"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
