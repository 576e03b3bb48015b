package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/pushlab/pushlab/mmpush"
)

// FuzzSendPushBody: whatever the body, send_push and ack answer 200 with one
// of upstream's JSON answers, and a body that parses comes out normalized.
func FuzzSendPushBody(f *testing.F) {
	for _, seed := range []string{
		`{"platform":"fake","server_id":"s","device_id":"d","message":"hi"}`,
		`{"platform":"fake-v2","server_id":"s","device_id":"d","type":"clear","badge":-1}`,
		`{"platform":"fake-vX","server_id":"s","device_id":"d","is_id_loaded":true,"signature":""}`,
		`{"platform":"apple","server_id":"","device_id":"d"}`,
		`{"id":"a","received_at":1,"platform":"apple","type":"message"}`,
		`{"badge":"1"}`, `[]`, `null`, ``, `{`, `{"message":"` + string(bytes.Repeat([]byte("é"), 1100)) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	s, _ := newFakeServer(f, runConfig{Options: Options{Logger: slog.New(slog.DiscardHandler)}}, &fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 200}}})
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		if n, _, err := ParseSendPush(bytes.NewReader(body)); err == nil {
			if len(n.Message) > mmpush.MaxMessage || len(n.ChannelName) > maxChannelName || n.ServerID == "" || n.DeviceID == "" {
				t.Fatalf("not normalized: %+v", n)
			}
		}
		for _, path := range []string{"/api/v1/send_push", "/api/v1/ack"} {
			code, out := post(t, h, path, string(body))
			if code != 200 {
				t.Fatalf("%s: HTTP %d", path, code)
			}
			var r mmpush.Response
			if err := json.Unmarshal([]byte(out), &r); err != nil || !utf8.ValidString(out) {
				t.Fatalf("%s: answer %q is not JSON: %v", path, out, err)
			}
			switch {
			case r.Status == mmpush.StatusOK && r.Error == "":
			case r.Status == mmpush.StatusFail && r.Error != "":
			default:
				t.Fatalf("%s: answer %q", path, out)
			}
		}
	})
}

// FuzzDecodeFirst: decodeFirst answers as json.NewDecoder(r).Decode, the
// decoded notification and the error alike, also when the body's read
// fails after cut bytes (a body over MaxRequestBodyBytes).
func FuzzDecodeFirst(f *testing.F) {
	for _, seed := range []string{
		`{"platform":"apple","server_id":"s","device_id":"d","message":"hi","badge":3}`,
		`{"server_id":"s"} trailing`, `{"server_id":"s"}{"device_id":"d"}`, `{"badge":"1","server_id":"s"}`,
		`[]`, `null`, ``, ` `, `{`, `{"server_id":"s",}`, `{"is_id_loaded":"yes"}`,
	} {
		f.Add([]byte(seed), uint16(0xffff))
		f.Add([]byte(seed), uint16(len(seed)/2))
	}
	f.Fuzz(func(t *testing.T, body []byte, cut uint16) {
		reader := func() io.Reader {
			if int(cut) >= len(body) {
				return bytes.NewReader(body)
			}
			return io.MultiReader(bytes.NewReader(body[:cut]), errReader{errors.New("http: request body too large")})
		}
		var want, got mmpush.PushNotification
		wantErr := json.NewDecoder(reader()).Decode(&want)
		gotErr := decodeFirst(reader(), &got)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
			t.Fatalf("error %v, json.Decoder's %v", gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %+v, json.Decoder's %+v", got, want)
		}
	})
}
