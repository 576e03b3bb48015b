package proxy

import (
	"github.com/pushlab/pushlab/internal/jsonscan"
	"github.com/pushlab/pushlab/mmpush"
)

// decodePlain fills n from b as json.Unmarshal(b, n) does into a zero n,
// for the bodies Mattermost servers send: one object whose names are the
// fields' own, with strings that need no decoding, integers and booleans.
// It returns false for anything else (a name in another case or unknown,
// escapes, null, a fraction, a value of the wrong type), n then partly
// filled, and the caller leaves b to encoding/json. encoding/json's
// reflection was a tenth of the proxy's CPU per send_push.
// FuzzDecodePlain holds it to json.Unmarshal.
func decodePlain(b []byte, n *mmpush.PushNotification) bool {
	if i := jsonscan.SkipSpace(b, 0); i == len(b) || b[i] != '{' || !jsonscan.Valid(b) {
		return false
	}
	var buf [32]jsonscan.Member
	for _, m := range jsonscan.AppendMembers(buf[:0], b) {
		var ok bool
		switch v := m.Raw; string(m.Key) {
		case "ack_id":
			n.AckID, ok = jsonscan.PlainString(v)
		case "platform":
			n.Platform, ok = jsonscan.PlainString(v)
		case "server_id":
			n.ServerID, ok = jsonscan.PlainString(v)
		case "device_id":
			n.DeviceID, ok = jsonscan.PlainString(v)
		case "post_id":
			n.PostID, ok = jsonscan.PlainString(v)
		case "category":
			n.Category, ok = jsonscan.PlainString(v)
		case "sound":
			n.Sound, ok = jsonscan.PlainString(v)
		case "message":
			n.Message, ok = jsonscan.PlainString(v)
		case "badge":
			n.Badge, ok = plainInt(v)
		case "cont_ava":
			n.ContentAvailable, ok = plainInt(v)
		case "team_id":
			n.TeamID, ok = jsonscan.PlainString(v)
		case "channel_id":
			n.ChannelID, ok = jsonscan.PlainString(v)
		case "root_id":
			n.RootID, ok = jsonscan.PlainString(v)
		case "channel_name":
			n.ChannelName, ok = jsonscan.PlainString(v)
		case "type":
			n.Type, ok = jsonscan.PlainString(v)
		case "sub_type":
			n.SubType, ok = jsonscan.PlainString(v)
		case "sender_id":
			n.SenderID, ok = jsonscan.PlainString(v)
		case "sender_name":
			n.SenderName, ok = jsonscan.PlainString(v)
		case "override_username":
			n.OverrideUsername, ok = jsonscan.PlainString(v)
		case "override_icon_url":
			n.OverrideIconURL, ok = jsonscan.PlainString(v)
		case "from_webhook":
			n.FromWebhook, ok = jsonscan.PlainString(v)
		case "version":
			n.Version, ok = jsonscan.PlainString(v)
		case "is_crt_enabled":
			n.IsCRTEnabled, ok = plainBool(v)
		case "is_id_loaded":
			n.IsIDLoaded, ok = plainBool(v)
		case "signature":
			n.Signature, ok = jsonscan.PlainString(v)
		case "transport":
			n.Transport, ok = jsonscan.PlainString(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

// plainInt reads a JSON number that is an integer of at most 18 digits
// (no fraction, no exponent: encoding/json refuses those for an int).
func plainInt(raw []byte) (int, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	if len(raw) == 0 || len(raw) > 18 {
		return 0, false
	}
	v := 0
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// plainBool reads the JSON literals true and false.
func plainBool(raw []byte) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
