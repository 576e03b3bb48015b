package devicesim

import (
	"context"
	"errors"
	"fmt"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
)

// errUnsigned is the error of the refusals that precede any cryptography.
var errUnsigned = errors.New("devicesim: unsigned push refused")

// judgeSignature decides as the Mattermost apps do (mattermost-mobile:
// iOS PushNotification+Signature.swift, Android
// CustomPushNotificationHelper.java), in this order:
//
//   - no signature key at all: accepted unverified (a push proxy older than
//     signatures), except a VoIP push, which always needs a real signature;
//   - NO_SIGNATURE (the proxy's word for a server that did not sign):
//     accepted only from a server release older than every one of
//     mmpush.SigningVersions, never for VoIP, and refused when the app
//     does not know the server's release;
//   - otherwise an ES256 JWT by the server's pinned key whose ack_id is the
//     push's and whose device_id is the token the app registered, once the
//     "platform:" prefix of its stored device id is stripped.
//
// It returns the status of device.signature_ok and its note, or the
// refusal (device.signature_bad).
func (d *Device) judgeSignature(a *arrival) (status, note string, r *refusal) {
	in, serverVersion := &a.in, a.session.ServerVersion
	bad := func(reason Reason, err error) (string, string, *refusal) {
		return "", "", &refusal{hop: events.DeviceSignatureBad, reason: reason, err: err}
	}
	switch {
	case !in.Signed && !in.VoIP:
		return SignatureLegacyProxy, "no signature in the payload: a legacy push proxy; accepted unverified", nil
	case in.VoIP && (!in.Signed || in.Signature == "" || in.Signature == pushcrypto.NoSignature):
		return bad(ReasonUnsignedVoIP, fmt.Errorf("%w: a VoIP push needs a real signature, has %q", errUnsigned, in.Signature))
	case in.Signature == pushcrypto.NoSignature || in.Signature == "":
		if serverVersion == "" {
			return bad(ReasonNoServerVersion, fmt.Errorf("%w: %s, and the server's release is unknown", errUnsigned, pushcrypto.NoSignature))
		}
		signs, ok := mmpush.ServerSigns(serverVersion)
		switch {
		case !ok:
			return bad(ReasonNoServerVersion, fmt.Errorf("%w: %s, and the server's release %q is not major.minor.patch", errUnsigned, pushcrypto.NoSignature, serverVersion))
		case signs:
			return bad(ReasonUnsigned, fmt.Errorf("%w: %s from server %s, a release that signs its pushes", errUnsigned, pushcrypto.NoSignature, serverVersion))
		}
		return SignatureOldServer, fmt.Sprintf("%s from server %s, older than the signing releases; accepted unverified", pushcrypto.NoSignature, serverVersion), nil
	}
	_, token := mmpush.SplitDeviceID(d.App.storedDeviceID(a.token))
	if err := d.deps.verifier.Verify(in.Signature, in.AckID, token, a.now); err != nil {
		return bad(signatureReason(err), err)
	}
	return SignatureVerified, "signed by the pinned server key", nil
}

// ring is what the app does with a verified VoIP call push: it reports the
// incoming call (CallKit) and acks. The call shows the caller and channel;
// its details come from the server once the app runs.
func (d *Device) ring(ctx context.Context, a *arrival, n Notification) *Notification {
	in := &a.in
	n.Type, n.Category = CallNotification, in.Category
	n.Title = firstOf(in.ChannelName, in.SenderName, "Incoming call")
	n.Subtitle, n.Body = "", "Incoming call"
	if in.SenderName != "" {
		n.Body = in.SenderName + " is calling"
	}
	shown := d.show(a.trace, n, "ringing", "VoIP call push ("+firstOf(in.SubType, "no sub_type")+"): incoming call reported", a.plain)
	d.ack(ctx, a)
	return shown
}

// CallNotification is Notification.Type of an incoming call (a VoIP push).
const CallNotification = "call"

// storedDeviceID is the device id the app registers with its server and
// keeps: "<proxy type>-v2:<token>", as the Mattermost apps do.
func (a App) storedDeviceID(token string) string {
	return a.ProxyType + "-v2" + mmpush.DevicePlatformSeparator + token
}
