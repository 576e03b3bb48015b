package proxy

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/pushlab/pushlab/testpki"
)

// ConfigFile is the name upstream gives its configuration file.
const ConfigFile = "mattermost-push-proxy.json"

// KeySetConfig wires a test key set into upstream's settings, as an operator
// would: "apple" uses the .p8 token key against production, "apple_rn" the
// development certificate as PEM (upstream loads ApplePushCertPrivate with
// apns2's certificate.FromPemFile, which reads no .p12), "android" and
// "android_rn" the service account. File paths point into keysDir, where the proxy will see the files
// (the directory Set.Write used, or e.g. /keys in a container). The other
// values are upstream's sample file's.
func KeySetConfig(set *testpki.Set, keysDir, listen string) Config {
	if listen == "" {
		listen = ":8066"
	}
	sa := filepath.Join(keysDir, testpki.FileServiceAccount)
	return Config{
		ListenAddress: listen, ThrottlePerSec: 300, ThrottleMemoryStoreSize: DefaultMemoryStoreSize,
		ThrottleVaryByHeader: "X-Forwarded-For", EnableMetrics: true,
		SendTimeoutSec: DefaultSendTimeoutSec, RetryTimeoutSec: DefaultRetryTimeoutSec,
		ApplePushSettings: []ApplePushSettings{
			{Type: "apple", ApplePushTopic: set.BundleID, AppleAuthKeyFile: filepath.Join(keysDir, set.APNsKey.FileName()),
				AppleAuthKeyID: set.APNsKey.KeyID, AppleTeamID: set.TeamID},
			{Type: "apple_rn", ApplePushUseDevelopment: true, ApplePushTopic: set.CertBundleID,
				ApplePushCertPrivate: filepath.Join(keysDir, testpki.FileAPNsDevPEM)},
		},
		AndroidPushSettings: []AndroidPushSettings{
			{Type: "android", ServiceFileLocation: sa},
			{Type: "android_rn", ServiceFileLocation: sa},
		},
		EnableConsoleLog: true, LogFormat: "plain",
	}
}

// UpstreamJSON is c as a mattermost-push-proxy.json that upstream reads: the
// in-process settings never appear, and pushlab's own only when set.
func (c Config) UpstreamJSON() []byte {
	b, _ := json.MarshalIndent(c, "", "    ") // plain values only: cannot fail
	return append(b, '\n')
}

// WriteKeySetConfig writes KeySetConfig into dir/ConfigFile (0644).
func WriteKeySetConfig(set *testpki.Set, dir, keysDir, listen string) error {
	if keysDir == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		keysDir = abs
	}
	path := filepath.Join(dir, ConfigFile)
	if err := os.WriteFile(path, KeySetConfig(set, keysDir, listen).UpstreamJSON(), 0o644); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}
