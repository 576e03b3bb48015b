package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/pushlab/pushlab/mmpush"
)

// idLoadedSenderName replaces the sender's name in an id-loaded Android push.
const idLoadedSenderName = "Someone"

// Upstream's limits: a message longer than mmpush.MaxMessage bytes is cut
// to messageCut bytes (sic: upstream's off-by-one, kept), a channel name to
// maxChannelName bytes.
const (
	messageCut     = mmpush.MaxMessage - 1
	maxChannelName = 64
)

// Validation failures. Their texts are upstream's answers, word for word;
// test them with errors.Is.
var (
	ErrBadBody         = errors.New("Failed to read message body")
	ErrBadAckBody      = errors.New("Failed to read ack body")
	ErrMissingServerID = errors.New("Failed because of missing server Id")
	ErrMissingDeviceID = errors.New("Failed because of missing device Id")
	ErrUnknownPlatform = errors.New("Did not send message because of missing platform property")
	ErrMissingAckID    = errors.New("Failed because of missing ack Id")
	ErrMissingAckPlat  = errors.New("Failed because of missing ack platform")
	ErrMissingAckType  = errors.New("Failed because of missing ack type")
)

// ParseSendPush decodes a send_push body as upstream does (the first JSON
// value; whatever follows it is ignored) and validates it: server_id and
// device_id are required. It truncates message and channel_name and splits
// the "-vN" app-version suffix off the platform, returning the version (1
// when absent or unreadable, as upstream). Errors wrap the Err… values.
func ParseSendPush(r io.Reader) (mmpush.PushNotification, int, error) {
	var n mmpush.PushNotification
	if err := decodeFirst(r, &n); err != nil {
		return n, 0, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	v, err := Normalize(&n)
	return n, v, err
}

// bodyBufs holds the buffers send_push bodies are read into; a buffer that
// grew past maxPooledBody (an oversized body) is left to the GC.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 64 << 10

// decodeFirst is json.NewDecoder(r).Decode(n), the same result and errors,
// without the decoder's own buffer on every request: the body is read once
// into a pooled buffer and read in place (decodePlain) or unmarshalled. json.Unmarshal takes only a body
// that is one value; anything else (trailing data, which the decoder
// ignores, an invalid body, a read error) is decoded again from the same
// bytes and read error by json.Decoder, so that its answer stands.
func decodeFirst(r io.Reader, n *mmpush.PushNotification) error {
	buf := bodyBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBody {
			bodyBufs.Put(buf)
		}
	}()
	buf.Reset()
	_, rerr := buf.ReadFrom(r)
	if rerr == nil && decodePlain(buf.Bytes(), n) {
		return nil
	}
	*n = mmpush.PushNotification{} // drop what decodePlain filled in
	if rerr == nil && json.Unmarshal(buf.Bytes(), n) == nil {
		return nil
	}
	*n = mmpush.PushNotification{} // drop what the failed pass filled in
	var rest io.Reader = bytes.NewReader(buf.Bytes())
	if rerr != nil {
		rest = io.MultiReader(rest, errReader{rerr})
	}
	return json.NewDecoder(rest).Decode(n)
}

// errReader fails every read with err: the body's read error, replayed.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Normalize validates n and applies upstream's truncations and platform
// parsing in place; it returns the app version. See ParseSendPush.
func Normalize(n *mmpush.PushNotification) (appVersion int, err error) {
	if n.ServerID == "" {
		return 0, ErrMissingServerID
	}
	if n.DeviceID == "" {
		return 0, fmt.Errorf("%w serverId=%v", ErrMissingDeviceID, n.ServerID)
	}
	if len(n.Message) > mmpush.MaxMessage {
		n.Message = n.Message[:messageCut]
	}
	if len(n.ChannelName) > maxChannelName {
		n.ChannelName = n.ChannelName[:maxChannelName]
	}
	appVersion = 1
	if i := strings.Index(n.Platform, mmpush.PlatformVersionSuffix); i > -1 {
		if v, err := strconv.Atoi(n.Platform[i+2:]); err == nil {
			appVersion = v
		}
		n.Platform = n.Platform[:i]
	}
	return appVersion, nil
}

// ParseAck decodes and validates an ack body: id, platform and type are
// required, as upstream.
func ParseAck(r io.Reader) (mmpush.Ack, error) {
	var a mmpush.Ack
	if err := json.NewDecoder(r).Decode(&a); err != nil {
		return a, fmt.Errorf("%w: %v", ErrBadAckBody, err)
	}
	switch {
	case a.ID == "":
		return a, ErrMissingAckID
	case a.Platform == "":
		return a, ErrMissingAckPlat
	case a.Type == "":
		return a, ErrMissingAckType
	}
	return a, nil
}

// writeResponse writes r as json.Encoder does (a line of JSON); the OK and
// REMOVE answers, which carry no error text, are encoded once.
func writeResponse(w io.Writer, r mmpush.Response) error {
	if r.Error == "" {
		switch r.Status {
		case mmpush.StatusOK:
			_, err := w.Write(answerOK)
			return err
		case mmpush.StatusRemove:
			_, err := w.Write(answerRemove)
			return err
		}
	}
	return json.NewEncoder(w).Encode(r)
}

var answerOK, answerRemove = encodedAnswer(mmpush.OK()), encodedAnswer(mmpush.Remove())

func encodedAnswer(r mmpush.Response) []byte {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(r) // two strings cannot fail to encode
	return b.Bytes()
}
