package proxy

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/pushtest"
)

// One row of the compatibility table: what a provider answers, and what the
// proxy answers the Mattermost server for it, as pushlab and as upstream.
type reasonRow struct {
	reason     string
	status     int    // the provider's HTTP status
	verdict    string // mmpush.Status…
	tries      int    // requests the provider sees, pushlab's retries
	upTries    int    // with UpstreamRetries
	text       string // FAIL error, pushlab's
	upText     string // with UpstreamErrorText
	retryAfter string // a Retry-After on the fault
}

// apnsRows covers every reason APNs documents (mockapns.Reasons): upstream
// removes the token for four of them and fails the others with one text;
// pushlab also names the reason and retries 429 and 5xx, where upstream
// retries no answer at all.
func apnsRows() []reasonRow {
	remove := map[string]bool{"BadDeviceToken": true, "Unregistered": true, "MissingDeviceToken": true, "DeviceTokenNotForTopic": true}
	var rows []reasonRow
	for reason, status := range mockapns.Reasons {
		r := reasonRow{reason: reason, status: status, verdict: mmpush.StatusFail, tries: 1, upTries: 1,
			text: ErrTextAPNsAnswer + ": " + reason, upText: ErrTextAPNsAnswer}
		switch {
		case remove[reason]:
			r.verdict, r.text, r.upText = mmpush.StatusRemove, "", ""
		case status == 429 || status >= 500:
			r.tries = DefaultMaxTries
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b reasonRow) int { return cmpString(a.reason, b.reason) })
	return rows
}

// fcmRows covers every FCM error code. Both proxies answer the SDK's error
// text (Google's message); both retry INTERNAL and QUOTA_EXCEEDED; pushlab
// also retries any other 5xx (UNSPECIFIED_ERROR comes as a 500). UNAVAILABLE
// is firebase-admin-go's to retry; its Retry-After of 10 minutes stops the SDK too.
var fcmRows = []reasonRow{
	{reason: "INVALID_ARGUMENT", status: 400, verdict: mmpush.StatusFail, tries: 1, upTries: 1,
		text: "Request contains an invalid argument."},
	{reason: "UNREGISTERED", status: 404, verdict: mmpush.StatusRemove, tries: 1, upTries: 1},
	{reason: "SENDER_ID_MISMATCH", status: 403, verdict: mmpush.StatusRemove, tries: 1, upTries: 1},
	{reason: "QUOTA_EXCEEDED", status: 429, verdict: mmpush.StatusFail, tries: 3, upTries: 3, retryAfter: "1",
		text: "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'."},
	{reason: "UNAVAILABLE", status: 503, verdict: mmpush.StatusFail, tries: 1, upTries: 1, retryAfter: "600",
		text: "The service is currently unavailable."},
	{reason: "INTERNAL", status: 500, verdict: mmpush.StatusFail, tries: 3, upTries: 3,
		text: "Internal error encountered."},
	{reason: "THIRD_PARTY_AUTH_ERROR", status: 401, verdict: mmpush.StatusFail, tries: 1, upTries: 1,
		text: "Auth error from APNS or Web Push Service"},
	{reason: "UNSPECIFIED_ERROR", status: 500, verdict: mmpush.StatusFail, tries: 3, upTries: 1,
		text: "Unspecified error."},
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestEveryReason sends through the real apns2 and firebase clients to the
// mocks answering each reason, and checks the answer's status and error text
// and the number of requests, with pushlab's settings and with upstream's.
func TestEveryReason(t *testing.T) {
	if len(mockapns.Reasons) != 32 {
		t.Fatalf("mockapns knows %d reasons, the table expects 32", len(mockapns.Reasons))
	}
	for _, upstream := range []bool{false, true} {
		t.Run(fmt.Sprintf("upstream=%v", upstream), func(t *testing.T) {
			l := newLab(t, func(c *runConfig) {
				c.RetryBackoffMs = 10
				c.UpstreamErrorText, c.UpstreamRetries = upstream, upstream
			})
			check := func(t *testing.T, appType, tok string, faults faultScript, r reasonRow) {
				if _, err := faults.AddFault(pushtest.Fault{Action: pushtest.Respond, Status: r.status, Reason: r.reason,
					RetryAfter: r.retryAfter, Token: tok}); err != nil {
					t.Fatal(err)
				}
				want, tries := mmpush.Response{Status: r.verdict, Error: r.text}, r.tries
				if upstream {
					tries = r.upTries
					if r.upText != "" {
						want.Error = r.upText
					}
				}
				if got := l.push(msg(appType, tok, "ack-"+r.reason)); got != want.String()+"\n" {
					t.Errorf("answer %q, want %q", got, want.String())
				}
				if n := l.requests(tok); n != tries {
					t.Errorf("%d requests at the provider, want %d", n, tries)
				}
			}
			for _, r := range apnsRows() {
				t.Run("APNs "+r.reason, func(t *testing.T) {
					check(t, typeAppleToken, l.iphone(typeAppleToken), l.apns, r)
				})
			}
			for _, r := range fcmRows {
				t.Run("FCM "+r.reason, func(t *testing.T) {
					check(t, typeAndroid, l.pixel(typeAndroid), l.fcm, r)
				})
			}
		})
	}
}

// The FAIL texts when no provider answered, and the switch to upstream's.
func TestFailText(t *testing.T) {
	for _, c := range []struct {
		p        Provider
		o        outcome
		upstream bool
		want     string
	}{
		{APNs, outcome{Kind: kindTransport}, false, "unknown transport error: transport"},
		{APNs, outcome{Kind: kindTransport}, true, "unknown transport error"},
		{APNs, outcome{Kind: kindTimeout}, false, "unknown transport error: timeout"},
		{APNs, outcome{Kind: kindUnconfirmed}, true, "unknown transport error"},
		{APNs, outcome{Kind: kindAnswer, Status: 500}, false, "unknown send response error: HTTP 500"},
		{FCM, outcome{Kind: kindTransport, Message: "dial tcp: connection refused"}, false, "dial tcp: connection refused"},
		{FCM, outcome{Kind: kindAnswer, Status: 400, Message: "Request contains an invalid argument."}, true, "Request contains an invalid argument."},
	} {
		if got := failText(c.p, c.o, c.upstream); got != c.want {
			t.Errorf("failText(%s, kind %d, upstream %v) = %q, want %q", c.p, c.o.Kind, c.upstream, got, c.want)
		}
	}
}
