package pushcrypto

import (
	"encoding/json"
	"fmt"
	"io"
)

// Contents is the part of a notification that travels encrypted: what the
// carriers and the proxy must not read. Which fields are filled is the
// server's choice (Mattermost's "full message", "generic with sender", ...);
// empty fields are left out of the JSON.
type Contents struct {
	Message     string `json:"message,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
	SenderName  string `json:"sender_name,omitempty"`
	RootID      string `json:"root_id,omitempty"`
	PostID      string `json:"post_id,omitempty"`
}

// SealContents seals c, as JSON, to rcpt.
func SealContents(rcpt Recipient, c Contents, rand io.Reader) (string, error) {
	plaintext, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("pushcrypto: encoding contents: %w", err)
	}
	return Seal(rcpt, plaintext, rand)
}

// OpenContents opens an envelope made by SealContents with a DeviceKey or
// a Keyring. Unknown JSON fields are ignored, so a newer server can add some.
func OpenContents(o Opener, envelope string) (Contents, error) {
	plaintext, err := o.Open(envelope)
	if err != nil {
		return Contents{}, err
	}
	var c Contents
	if err := json.Unmarshal(plaintext, &c); err != nil {
		return Contents{}, fmt.Errorf("%w: %v", ErrBadContents, err)
	}
	return c, nil
}
