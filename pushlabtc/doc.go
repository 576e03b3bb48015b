// Package pushlabtc puts a push proxy under test in containers, the way a
// testcontainers-go module does: Run starts mock APNs and mock FCM on a
// private Docker network under Apple's and Google's own host names
// (api.push.apple.com, api.sandbox.push.apple.com,
// api.development.push.apple.com, fcm.googleapis.com, oauth2.googleapis.com,
// iid.googleapis.com), then the proxy image under test with
//
//   - a fresh `pushlab keys init` set mounted under /etc/pushlab/keys: the
//     .p8 key, the PEM certificate, the Firebase service account whose
//     token_uri is https://oauth2.googleapis.com/token;
//   - an upstream-format mattermost-push-proxy.json naming those files, at
//     upstream's own path (Options.ProxyConfigPath to change it);
//   - pushlab's CA as SSL_CERT_FILE.
//
// Nothing is baked into an image and no endpoint is overridden: an
// unmodified proxy believes it talks to Apple and Google. Without
// Options.ProxyImage, pushlab's own proxy is the image under test, started
// with only that file and SSL_CERT_FILE.
//
// A test then registers devices at the mocks, posts send_push to
// Lab.ProxyURL, and reads what the mocks hold (Pending) or drives them
// through their control APIs (Lab.APNsControlURL, Lab.FCMControlURL: faults,
// /events, the /push gateway). Lab.StartServer adds a server simulator
// (`pushlab server`) posting to the proxy by its network alias, and
// Lab.StartDevices a `pushlab devices` process whose phones attach to it
// (POST /devices on its control API). Lab.Terminate removes the containers and the
// network; `pushlab e2e --topology containers` is this package plus
// pushlab's scenario library.
//
// Docker must answer; against a local engine that cannot pull, set
// TESTCONTAINERS_RYUK_DISABLED=true (and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
// where the default gateway is not reachable).
package pushlabtc
