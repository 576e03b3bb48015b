package proxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"github.com/kyokomi/emoji"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"

	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/testpki"
)

// fcmScope is the OAuth scope upstream asks for.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// fcmSender sends one Android app type through one firebase-admin-go client.
//
// How its retries and the proxy's fit together: firebase-admin-go retries a
// 503 and network errors itself, up to 4 times (delays 0, 1, 2, 4 s, or a
// longer Retry-After up to 2 minutes), inside the context the proxy gives
// Send, that is inside one try's deadline. The verdict table therefore marks
// those outcomes RetriedByClient and the proxy does not add a round of its
// own; it retries 500 and 429 (which the SDK does not), honouring
// Retry-After, within the total deadline. Two guards keep the SDK's retries
// honest: a request that was sent in full and got no answer is reported to
// the SDK as a 504 (which it does not retry), so that the proxy's
// ResendPolicy, not the SDK, decides whether it is sent again;
// and an OAuth token request that Google refused (4xx) is reported as a 401
// UNAUTHENTICATED, so the SDK does not hammer the token endpoint four times.
type fcmSender struct {
	settings AndroidPushSettings
	client   *messaging.Client
	base     *http.Transport
}

// newFCMSender builds the client upstream builds: the service account's JWT
// config with the firebase.messaging scope, a firebase App for its project,
// its Messaging client; then pushlab's endpoint override and CA. The OAuth
// token request goes to the file's token_uri over the same trusted transport.
func newFCMSender(s AndroidPushSettings, cfg *runConfig, m *metrics, log *slog.Logger) (*fcmSender, error) {
	if s.AndroidAPIKey != "" {
		log.Warn("AndroidPushSettings.AndroidApiKey is no longer used. Please remove this config value.", "type", s.Type)
	}
	if s.ServiceFileLocation == "" {
		return nil, errors.New("android push notifications not configured: missing ServiceFileLocation")
	}
	jsonKey, err := os.ReadFile(s.ServiceFileLocation)
	if err != nil {
		return nil, fmt.Errorf("error reading service file: %w", err)
	}
	jwtConf, err := google.JWTConfigFromJSON(jsonKey, fcmScope)
	if err != nil {
		return nil, fmt.Errorf("error getting JWT config: %w", err)
	}
	var sa struct {
		ProjectID   string `json:"project_id"`
		ClientEmail string `json:"client_email"`
	}
	if err := json.Unmarshal(jsonKey, &sa); err != nil {
		return nil, fmt.Errorf("error parsing service account JSON: %w", err)
	}
	if sa.ProjectID == "" {
		return nil, fmt.Errorf("service account %s has no project_id", s.ServiceFileLocation)
	}
	pool, err := cfg.rootCAs()
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	base.ForceAttemptHTTP2 = true
	if cfg.DialContext != nil {
		base.DialContext = cfg.DialContext
	}

	// The token source keeps this context for every refresh.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient,
		&http.Client{Transport: base, Timeout: cfg.retryTimeout()})
	authed := &oauth2.Transport{Source: jwtConf.TokenSource(tokenCtx), Base: base}
	hc := &http.Client{Transport: &observer{base: authed, provider: FCM, m: m, guard: fcmGuard}}

	opts := []option.ClientOption{option.WithHTTPClient(hc)}
	if cfg.FCMEndpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimRight(cfg.FCMEndpoint, "/")))
	}
	ctx := context.Background()
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: sa.ProjectID, ServiceAccountID: sa.ClientEmail}, opts...)
	if err != nil {
		return nil, fmt.Errorf("error initializing app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("error initializing client: %w", err)
	}
	attrs := []any{"type", s.Type, "project", sa.ProjectID, "client_email", sa.ClientEmail}
	if k, err := testpki.ParseServiceAccount(jsonKey); err == nil {
		attrs = append(attrs, "key", testpki.Fingerprint(k.Key.Public()))
	}
	log.Info("fcm: service account", attrs...)
	return &fcmSender{settings: s, client: client, base: base}, nil
}

func (f *fcmSender) provider() Provider { return FCM }

func (f *fcmSender) close() { f.base.CloseIdleConnections() }

// build lays out upstream's data message. With collapse set, a notification
// block (which Mattermost's layout never has) would get the collapse id as
// its tag, so that Android replaces a resend; a data message gets no
// collapse_key: FCM keeps at most four collapse keys per offline device and
// would discard stored notifications past that, while the app already drops
// a resend by its ack_id.
func (f *fcmSender) build(n *mmpush.PushNotification, _ int, collapse bool) delivery {
	msg := &messaging.Message{
		Token:   n.DeviceID,
		Data:    buildFCMData(n),
		Android: &messaging.AndroidConfig{Priority: "high"},
	}
	var collapseID string
	var body []byte
	if an := msg.Android.Notification; collapse && an != nil {
		if an.Tag == "" {
			an.Tag = CollapseID(n.AckID)
		}
		collapseID = an.Tag
		body, _ = json.Marshal(msg)
	} else {
		body = fcmDataMessageJSON(msg.Data, msg.Token)
	}
	return delivery{
		provider:   FCM,
		payload:    body,
		collapseID: collapseID,
		send:       func(ctx context.Context) outcome { return f.send(ctx, msg) },
	}
}

func (f *fcmSender) send(ctx context.Context, msg *messaging.Message) outcome {
	name, err := f.client.Send(ctx, msg)
	if err == nil {
		return outcome{Kind: kindAnswer, Status: http.StatusOK, ID: name}
	}
	return fcmOutcome(err)
}

// failText is upstream's FAIL error for FCM: the SDK's error text.
func (f *fcmSender) failText(o outcome) string { return failText(FCM, o, true) }

// buildFCMData lays out the data map as upstream's AndroidNotificationServer.
func buildFCMData(n *mmpush.PushNotification) map[string]string {
	data := make(map[string]string, 20) // room for every key below: no growing while filling
	data["ack_id"] = n.AckID
	data["type"] = n.Type
	data["sub_type"] = n.SubType
	data["version"] = n.Version
	data["channel_id"] = n.ChannelID
	data["is_crt_enabled"] = strconv.FormatBool(n.IsCRTEnabled)
	data["server_id"] = n.ServerID
	data["category"] = n.Category
	data["signature"] = signature(n)
	if n.Badge != -1 {
		data["badge"] = strconv.Itoa(n.Badge)
	}
	if n.RootID != "" {
		data["root_id"] = n.RootID
	}
	if n.IsIDLoaded {
		data["post_id"] = n.PostID
		data["message"] = n.Message
		data["id_loaded"] = "true"
		data["sender_id"] = n.SenderID
		data["sender_name"] = idLoadedSenderName
		data["team_id"] = n.TeamID
	} else if n.Type == mmpush.TypeMessage || n.Type == mmpush.TypeSession {
		data["team_id"] = n.TeamID
		data["sender_id"] = n.SenderID
		data["sender_name"] = n.SenderName
		data["message"] = emoji.Sprint(n.Message)
		data["channel_name"] = n.ChannelName
		data["post_id"] = n.PostID
		data["override_username"] = n.OverrideUsername
		data["override_icon_url"] = n.OverrideIconURL
		data["from_webhook"] = n.FromWebhook
	}
	return data
}

// googleStatus is a google.rpc.Status error body, with the details FCM adds.
type googleStatus struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type      string `json:"@type"`
			ErrorCode string `json:"errorCode"`
		} `json:"details"`
	} `json:"error"`
}

const (
	typeFcmError = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
)

// fcmOutcome reads a firebase-admin-go error: the HTTP answer it carries, the
// FcmError code in its details (what messaging.IsUnregistered reads), else
// Google's general status. An error without an HTTP answer is a transport failure
// (the retry loop refines it with what the transport saw).
func fcmOutcome(err error) outcome {
	resp := errorutils.HTTPResponse(err)
	if resp == nil {
		return outcome{Kind: kindTransport, Message: err.Error()}
	}
	o := outcome{Kind: kindAnswer, Status: resp.StatusCode, Message: err.Error(),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var gs googleStatus
	if body, rerr := io.ReadAll(resp.Body); rerr == nil {
		json.Unmarshal(body, &gs) // a body that is not a google.rpc.Status leaves gs empty
	}
	o.Reason = gs.Error.Status
	for _, d := range gs.Error.Details {
		switch d.Type {
		case typeFcmError:
			if d.ErrorCode != "" {
				o.Reason = d.ErrorCode
			}
		}
	}
	return o
}

// fcmGuard is the observer's hook for FCM (see fcmSender): it turns a request
// that was sent and not answered into a 504, and a refused token request into
// a 401, so that firebase-admin-go does not retry either.
func fcmGuard(req *http.Request, err error, sent bool) *http.Response {
	var re *oauth2.RetrieveError
	switch {
	case sent:
		return syntheticStatus(req, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED",
			"pushlab proxy: request sent, no answer (ResendPolicy decides): "+err.Error())
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500:
		return syntheticStatus(req, http.StatusUnauthorized, "UNAUTHENTICATED", err.Error())
	}
	return nil
}

// syntheticStatus is a google.rpc.Status answer made by the proxy itself.
func syntheticStatus(req *http.Request, code int, status, msg string) *http.Response {
	var gs googleStatus
	gs.Error.Code, gs.Error.Status, gs.Error.Message = code, status, msg
	body, _ := json.Marshal(gs)
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", code, http.StatusText(code)),
		StatusCode: code,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json; charset=UTF-8"}, syntheticHeader: {"1"}},
		Body:          io.NopCloser(strings.NewReader(string(body))),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// syntheticHeader marks answers the proxy made up, so they are not counted as
// the provider's.
const syntheticHeader = "X-Pushlab-Synthetic"
