// Package mmpush is the Mattermost push wire format: what a Mattermost server
// posts to a push proxy (PushNotification on POST /api/v1/send_push, Ack on
// POST /api/v1/ack), what the proxy answers (Response), and the values of
// their fields (push types, platforms, transports, sub types, statuses).
//
// It mirrors model.PushNotification and model.PushNotificationAck of
// github.com/mattermost/mattermost/server/public, JSON names and omitempty
// rules included, so that a body built here is the body a real server sends.
// It depends on nothing but the standard library: both pushlab's proxy and
// its server simulator import it, and so can a test of any other proxy.
//
//	body, _ := json.Marshal(mmpush.PushNotification{
//		Platform: mmpush.PlatformAppleRN, ServerID: "s1", DeviceID: token,
//		Type: mmpush.TypeMessage, Version: mmpush.MessageV2, Message: "hi",
//	})
//	resp, _ := http.Post(proxyURL+mmpush.PathSendPush, "application/json", bytes.NewReader(body))
//	var r mmpush.Response
//	json.NewDecoder(resp.Body).Decode(&r) // r.Status: OK, REMOVE or FAIL
package mmpush
