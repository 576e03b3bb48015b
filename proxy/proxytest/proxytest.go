// Package proxytest configures a push proxy for a test key set, as an
// operator would: the mattermost-push-proxy.json that `pushlab keys init`
// writes beside the keys, in upstream's format, for the in-process labs,
// the containers and the CLI alike.
//
//	set, _ := testpki.NewSet(testpki.Options{})
//	set.Write(dir, false)
//	cfg := proxytest.KeySetConfig(set, dir, "127.0.0.1:0")
//	cfg.APNsHost = apnsMock.URL
//	srv, _ := proxy.New(cfg, proxy.Options{RootCAs: set.CA.Pool()})
package proxytest

import (
	"os"
	"path/filepath"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/testpki"
)

// KeySetConfig wires a test key set into upstream's settings, as an operator
// would: "apple" uses the .p8 token key against production, "apple_rn" the
// development certificate as PEM (upstream loads ApplePushCertPrivate with
// apns2's certificate.FromPemFile, which reads no .p12), "android" and
// "android_rn" the service account. File paths point into keysDir, where the
// proxy will see the files (the directory Set.Write used, or e.g. /keys in a
// container). The other values are upstream's sample file's.
func KeySetConfig(set *testpki.Set, keysDir, listen string) proxy.Config {
	if listen == "" {
		listen = ":8066"
	}
	sa := filepath.Join(keysDir, testpki.FileServiceAccount)
	return proxy.Config{FileConfig: proxy.FileConfig{
		ListenAddress: listen, ThrottlePerSec: 300, ThrottleMemoryStoreSize: proxy.DefaultMemoryStoreSize,
		ThrottleVaryByHeader: "X-Forwarded-For", EnableMetrics: true,
		SendTimeoutSec: proxy.DefaultSendTimeoutSec, RetryTimeoutSec: proxy.DefaultRetryTimeoutSec,
		ApplePushSettings: []proxy.ApplePushSettings{
			{Type: "apple", ApplePushTopic: set.BundleID, AppleAuthKeyFile: filepath.Join(keysDir, set.APNsKey.FileName()),
				AppleAuthKeyID: set.APNsKey.KeyID, AppleTeamID: set.TeamID},
			{Type: "apple_rn", ApplePushUseDevelopment: true, ApplePushTopic: set.CertBundleID,
				ApplePushCertPrivate: filepath.Join(keysDir, testpki.FileAPNsDevPEM)},
		},
		AndroidPushSettings: []proxy.AndroidPushSettings{
			{Type: "android", ServiceFileLocation: sa},
			{Type: "android_rn", ServiceFileLocation: sa},
		},
		EnableConsoleLog: true, LogFormat: "plain",
	}}
}

// WriteKeySetConfig writes KeySetConfig into dir/proxy.ConfigFile (0644).
// An empty keysDir means dir, made absolute.
func WriteKeySetConfig(set *testpki.Set, dir, keysDir, listen string) error {
	if keysDir == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		keysDir = abs
	}
	path := filepath.Join(dir, proxy.ConfigFile)
	if err := os.WriteFile(path, KeySetConfig(set, keysDir, listen).UpstreamJSON(), 0o644); err != nil {
		return err
	}
	return os.Chmod(path, 0o644) // whatever the umask
}
