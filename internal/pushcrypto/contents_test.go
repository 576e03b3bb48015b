package pushcrypto

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestContentsRoundTrip(t *testing.T) {
	k := newDeviceKey(t, "contents", "device-key-1")
	tests := []struct {
		name string
		c    Contents
	}{
		{"empty", Contents{}},
		{"full", Contents{Message: "Lunch at noon?", ChannelName: "Town Square", SenderName: "alice", RootID: "r1", PostID: "p1"}},
		{"generic, sender only", Contents{SenderName: "alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := SealContents(k.Recipient(), tt.c, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenContents(k, env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.c {
				t.Fatalf("OpenContents = %+v, want %+v", got, tt.c)
			}
		})
	}
}

// TestContentsJSON pins the field names, which the server and devices in
// other languages share.
func TestContentsJSON(t *testing.T) {
	data, err := json.Marshal(Contents{Message: "m", ChannelName: "c", SenderName: "s", RootID: "r", PostID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"message":"m","channel_name":"c","sender_name":"s","root_id":"r","post_id":"p"}`
	if string(data) != want {
		t.Fatalf("JSON %s, want %s", data, want)
	}
	if data, _ := json.Marshal(Contents{}); string(data) != `{}` {
		t.Fatalf("empty contents: %s", data)
	}
}

func TestOpenContentsErrors(t *testing.T) {
	k := newDeviceKey(t, "contents-errors", "device-key-1")
	newer := seal(t, k.Recipient(), []byte(`{"message":"m","emoji":"🎉"}`))
	if c, err := OpenContents(k, newer); err != nil || c.Message != "m" {
		t.Fatalf("unknown field from a newer server: %+v, %v", c, err)
	}
	tests := []struct {
		name, envelope string
		opener         Opener
		want           error
	}{
		{"not JSON", seal(t, k.Recipient(), []byte("plain text")), k, ErrMalformedEnvelope},
		{"JSON array", seal(t, k.Recipient(), []byte(`["m"]`)), k, ErrMalformedEnvelope},
		{"opened, not JSON", seal(t, k.Recipient(), []byte("plain text")), k, ErrBadContents},
		{"wrong key", seal(t, newDeviceKey(t, "x", "other").Recipient(), []byte(`{}`)), Keyring{k}, ErrWrongKey},
	}
	// A broken envelope is malformed, not bad contents: it never opened.
	if _, err := OpenContents(k, "v1.!!"); errors.Is(err, ErrBadContents) {
		t.Errorf("a broken envelope reported as bad contents: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenContents(tt.opener, tt.envelope); !errors.Is(err, tt.want) {
				t.Fatalf("OpenContents = %v, want %v", err, tt.want)
			}
		})
	}
}
