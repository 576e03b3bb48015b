// Package verify checks, before an app goes to the App Store or Play, that
// the push credentials compiled into a push proxy and into the app builds
// belong together, and then proves it by sending one notification through
// them. A build whose bundle id, team, push environment or Firebase project
// does not match the proxy's credentials fails silently in production; this
// package names the mismatch, the values compared and the fix.
//
// # From Go
//
//	rep := verify.Run(ctx, verify.Config{
//		ConfigFile:     "mattermost-push-proxy.json",
//		IOS:            []string{"Mattermost.ipa"},      // or an .app, an .xcarchive
//		GoogleServices: []string{"google-services.json"},
//		Android:        []string{"app-release.apk"},     // read with aapt
//		Live:           true,
//	})
//	rep.WriteTable(os.Stdout, verify.TableOptions{})
//	os.Exit(rep.ExitCode())                              // 0 ok, 1 a check failed, 2 unreadable input
//
// StartLab does the same and keeps the round trip's actors running (Send
// another notification to every phone, stream the Hops; Actors hands them to
// the live web view); the EAS demo runs on it.
//
// # What is read
//
//   - The proxy: upstream's mattermost-push-proxy.json (or settings given
//     as the proxy's flags) and the files it names: the .p8 auth key, the
//     APNs certificate (.pem or .p12 with its password), the Firebase
//     service-account JSON. Relative names are tried as given, then beside
//     the config file.
//   - iOS: Payload/<App>.app/Info.plist (binary or XML, howett.net/plist)
//     and embedded.mobileprovision, a CMS envelope (github.com/smallstep/pkcs7)
//     whose signature and signer chain are checked against Apple's root
//     (embedded; Config.AppleRoots replaces it). No profile means an App
//     Store build re-signed by Apple: production.
//   - Android: google-services.json, and an .apk through `aapt dump badging`
//     and `aapt dump --values resources` (the package and the values the
//     google-services Gradle plugin compiles in). Without aapt on PATH the
//     .apk is an unreadable input whose message says how to install it; an
//     .aab gets the bundletool command that makes an .apk of it.
//
// # The checks (Check.ID)
//
//	config, ios.read,      reading the inputs: Error (exit 2) when a file is missing or
//	android.*              not what it should be; android.apk / android.google_services
//	                       also show what was read
//	apns.auth              token or certificate auth is fully configured
//	apns.topic             ApplePushTopic is set and does not end in .voip (upstream adds it: .voip.voip)
//	apns.key_id            10 characters, not the team id, the id in AuthKey_<KEYID>.p8; swaps named
//	apns.team_id           10 characters
//	apns.p8                PKCS#8 EC P-256 (SEC 1, encrypted, RSA, P-384 each named)
//	apns.cert              loads, the password opens the .p12, the key is the certificate's
//	apns.cert.format       warn: a .p12, which upstream cannot read (it needs PEM)
//	apns.cert.apple        Apple Push Services certificate (UID bundle id, Apple's extension OIDs)
//	apns.cert.topic        the certificate's bundle id is ApplePushTopic
//	apns.cert.environment  the certificate covers the environment the proxy sends to
//	apns.cert.expiry       fail if expired, warn within 30 days
//	fcm.service_account    a service-account key (not google-services.json) whose RSA key parses
//	ios.bundle             CFBundleIdentifier, version, plist format
//	ios.profile.*          signature and signer chain, expiry, aps-environment present,
//	                       App Store profile with production, application-identifier = TEAM.bundle
//	ios.topic              bundle id = ApplePushTopic of an Apple app type (or + .voip: doubled)
//	ios.team               the .p8's AppleTeamID, the certificate's OU, TeamIdentifier,
//	                       the application-identifier prefix and the team entitlement agree
//	ios.environment        the build's aps-environment (production without a profile) =
//	                       ApplePushUseDevelopment
//	android.package        the package is a google-services client
//	android.sender_id      the .apk's gcm_defaultSenderId, project_id, google_app_id = google-services.json
//	android.project        a service account's project_id = google-services project_id
//	live.ios, live.android the round trip (below)
//
// # The live round trip
//
// Mock APNs registers the public half of the given .p8 under the key id of
// its file name and the team that signs the app (as Apple knows the key,
// whatever the proxy's settings say) and pins each given APNs certificate
// (trusted as itself, so Apple-issued certificates work unchanged); mock FCM
// registers the given service accounts (private copies whose token_uri points
// at the mock, removed afterwards). A proxy runs with the given settings, a
// server simulator signs and encrypts, and one simulated phone per build
// registers with the build's compiled identity: bundle id and
// aps-environment, or package and the compiled sender id. One notification
// each; the check passes when the phone displayed it, verified and
// decrypted, and acked. Otherwise it shows the hops, the provider's own
// reason (BadDeviceToken, InvalidProviderToken, DeviceTokenNotForTopic,
// SENDER_ID_MISMATCH…) and the input that causes it.
//
// Output never contains key material: keys are shown by fingerprint
// (Report.Fingerprints).
package verify
