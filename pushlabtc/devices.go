package pushlabtc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pushlab/pushlab/internal/httpjson"
)

// Apps are the identities this run's proxy config is made for.
type Apps struct {
	BundleID     string // iOS, proxy type "apple": .p8 token auth, production
	CertBundleID string // iOS, proxy type "apple_rn": certificate auth, development
	Package      string // Android, proxy type "android"
	RNPackage    string // Android, proxy type "android_rn"
	ProjectID    string // the Firebase project of both Android types
}

// Push is what a mock holds for a device that is not connected.
type Push struct {
	Provider string          `json:"provider"` // "apns" or "fcm"
	Token    string          `json:"token"`
	ID       string          `json:"id"`  // apns-id, or the FCM message name
	App      string          `json:"app"` // the topic or package it went to
	Payload  json.RawMessage `json:"payload"`
}

func (l *Lab) call(ctx context.Context, method, u string, in, out any, want int) error {
	if err := httpjson.Call(ctx, l.client, method, u, in, out, want); err != nil {
		return fmt.Errorf("pushlabtc: %w", err)
	}
	return nil
}

// RegisterIOS issues an APNs device token for bundleID in env
// ("production" or "development"), as a phone that installed the app.
// Nothing is connected for it, so the mock holds what it accepts (Pending).
func (l *Lab) RegisterIOS(ctx context.Context, bundleID, env string) (string, error) {
	return l.register(ctx, l.APNsControlURL, bundleID, env)
}

// RegisterAndroid issues an FCM registration token for the package in the
// run's Firebase project.
func (l *Lab) RegisterAndroid(ctx context.Context, pkg string) (string, error) {
	return l.register(ctx, l.FCMControlURL, pkg, l.Apps.ProjectID)
}

func (l *Lab) register(ctx context.Context, control, app, env string) (string, error) {
	var reg struct{ Token string }
	err := l.call(ctx, http.MethodPost, control+"/control/devices", map[string]string{"app": app, "env": env, "device": "pushlabtc"}, &reg, http.StatusCreated)
	return reg.Token, err
}

// Pending returns what the mocks hold for a token.
func (l *Lab) Pending(ctx context.Context, token string) ([]Push, error) {
	var all []Push
	for _, control := range []string{l.APNsControlURL, l.FCMControlURL} {
		var got []Push
		if err := l.call(ctx, http.MethodGet, control+"/control/devices/"+url.PathEscape(token)+"/pending", nil, &got, http.StatusOK); err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	return all, nil
}

// SendPush posts a Mattermost push notification (the JSON of send_push) to
// the proxy under test and returns its status: "OK", "REMOVE" or "FAIL".
func (l *Lab) SendPush(ctx context.Context, notification any) (string, error) {
	var answer struct{ Status, Error string }
	if err := l.call(ctx, http.MethodPost, l.ProxyURL+"/api/v1/send_push", notification, &answer, 0); err != nil {
		return "", err
	}
	if answer.Status == "" {
		return "", fmt.Errorf("pushlabtc: send_push: no status in the proxy's answer")
	}
	return answer.Status, nil
}
