package verify

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pushlab/pushlab/testpki"
)

// pairIOS finds the Apple app types that serve app: the topic is its bundle
// id (or, mistakenly, bundle id + ".voip"). With no match and a single type,
// that one is compared, so its other values are still checked.
func (v *run) pairIOS(app *IOSApp) (matched []*appleType, guessed bool) {
	for _, a := range v.apple {
		if a.s.ApplePushTopic == app.BundleID || a.s.ApplePushTopic == app.BundleID+".voip" ||
			(a.s.ApplePushTopic == "" && a.cert != nil && certTopic(a) == app.BundleID) {
			matched = append(matched, a)
		}
	}
	if len(matched) == 0 && len(v.apple) == 1 {
		return v.apple, true
	}
	return matched, false
}

// appEnv is the APNs environment the build registers its tokens in.
func appEnv(app *IOSApp) string {
	if app.Profile == nil {
		return "production"
	}
	return app.Profile.APSEnvironment()
}

func (v *run) checkIOS(app *IOSApp) {
	subj := filepath.Base(app.Path)
	v.add(Check{ID: "ios.bundle", Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("bundle id %q, version %s (%s Info.plist)", app.BundleID, orDash(app.Version), app.PlistFormat)})
	v.checkProfile(app, subj)

	pairs, guessed := v.pairIOS(app)
	switch {
	case len(v.apple) == 0:
		v.add(Check{ID: "ios.topic", Subject: subj, Status: Fail, Input: "ApplePushSettings",
			Summary: fmt.Sprintf("the proxy has no Apple app type: nothing can push to %q", app.BundleID),
			Fix:     fmt.Sprintf("add an ApplePushSettings entry with ApplePushTopic %q", app.BundleID)})
		return
	case len(pairs) == 0 || guessed:
		var topics []string
		for _, a := range v.apple {
			topics = append(topics, fmt.Sprintf("%s=%q", a.s.Type, a.s.ApplePushTopic))
		}
		v.add(Check{ID: "ios.topic", Subject: subj, Status: Fail, Input: "ApplePushTopic",
			Summary: fmt.Sprintf("bundle id %q is not the topic of any Apple app type (%s): DeviceTokenNotForTopic", app.BundleID, strings.Join(topics, ", ")),
			Fix:     fmt.Sprintf("set ApplePushTopic %q in the app type this build uses, or build the app with bundle id %q", app.BundleID, v.apple[0].s.ApplePushTopic)})
		if !guessed {
			return
		}
	}
	// Several app types may carry one bundle id (one per environment): the
	// build needs one of its environment, the others serve other builds.
	var sameEnv string
	for _, a := range pairs {
		if a.env() == appEnv(app) {
			sameEnv = a.s.Type
		}
	}
	for _, a := range pairs {
		other := ""
		if len(pairs) > 1 && sameEnv != "" && a.env() != appEnv(app) {
			other = sameEnv
		}
		v.checkPair(app, a, subj+" ↔ "+a.s.Type, guessed, other)
	}
}

func (v *run) checkProfile(app *IOSApp, subj string) {
	p := app.Profile
	if p == nil {
		v.add(Check{ID: "ios.profile", Subject: subj, Status: Pass,
			Summary: "no embedded.mobileprovision: an App Store build re-signed by Apple, which registers production tokens"})
		return
	}
	in := subj + " embedded.mobileprovision"
	v.add(Check{ID: "ios.profile", Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("%q (%s profile, %s), team %s %q, %d devices", p.Name, p.Kind(), p.UUID, strings.Join(p.TeamIdentifier, ","), p.TeamName, p.DeviceCount)})
	switch {
	case p.SignatureErr != "" && p.Signer == "":
		v.add(Check{ID: "ios.profile.signature", Subject: subj, Status: Fail, Input: in, Summary: p.SignatureErr,
			Fix: "download the profile again from developer.apple.com (or let Xcode manage signing) and rebuild"})
	case p.SignatureErr != "":
		v.add(Check{ID: "ios.profile.signature", Subject: subj, Status: Fail, Input: in,
			Summary: fmt.Sprintf("signed by %q, chain %s: %s", p.Signer, strings.Join(p.Chain, " → "), p.SignatureErr),
			Fix:     "use a profile issued by Apple (developer.apple.com → Profiles); a re-signed or hand-made profile will not install"})
	default:
		v.add(Check{ID: "ios.profile.signature", Subject: subj, Status: Pass,
			Summary: fmt.Sprintf("signed by %q, chain %s", p.Signer, strings.Join(p.Chain, " → "))})
	}
	v.add(expiryCheck("ios.profile.expiry", subj, in, "profile", p.CreationDate, p.ExpirationDate, v.now,
		"regenerate the profile in developer.apple.com → Profiles and rebuild (an expired profile stops the app from launching)"))
	env := p.APSEnvironment()
	switch env {
	case "":
		v.add(Check{ID: "ios.profile.push", Subject: subj, Status: Fail, Input: in,
			Summary: "no aps-environment entitlement: the app cannot register for remote notifications",
			Fix:     "enable the Push Notifications capability for the App ID and in Xcode, regenerate the profile, rebuild"})
	case "development", "production":
		v.add(Check{ID: "ios.profile.push", Subject: subj, Status: Pass, Summary: fmt.Sprintf("aps-environment %q", env)})
	default:
		v.add(Check{ID: "ios.profile.push", Subject: subj, Status: Fail, Input: in,
			Summary: fmt.Sprintf("aps-environment %q is neither development nor production", env),
			Fix:     "regenerate the profile with the Push Notifications capability"})
	}
	if p.Kind() == "app-store" && env == "development" {
		v.add(Check{ID: "ios.profile.distribution", Subject: subj, Status: Fail, Input: in,
			Summary: "an App Store / TestFlight profile with aps-environment development: store builds get production tokens",
			Fix:     "regenerate the App Store profile (its aps-environment must be production)"})
	}
	appID, want := p.AppID(), ""
	if len(p.TeamIdentifier) > 0 {
		want = p.TeamIdentifier[0] + "." + app.BundleID
	}
	switch {
	case appID == want:
		v.add(Check{ID: "ios.profile.app_id", Subject: subj, Status: Pass, Summary: fmt.Sprintf("application-identifier %q", appID)})
	case strings.HasSuffix(appID, ".*"):
		v.add(Check{ID: "ios.profile.app_id", Subject: subj, Status: Fail, Input: in,
			Summary: fmt.Sprintf("application-identifier %q is a wildcard App ID: wildcard IDs cannot use push", appID),
			Fix:     fmt.Sprintf("create an explicit App ID %q with Push Notifications and a profile for it", app.BundleID)})
	default:
		v.add(Check{ID: "ios.profile.app_id", Subject: subj, Status: Fail, Input: in,
			Summary: fmt.Sprintf("application-identifier %q, want %q (TeamIdentifier.CFBundleIdentifier)", appID, want),
			Fix:     "build with the profile made for this bundle id (Xcode → Signing & Capabilities)"})
	}
}

// checkPair compares an app build with the Apple app type meant to reach it.
//
// servedBy, if set, is another app type with the same topic and the build's
// environment: this one's environment then serves other builds.
func (v *run) checkPair(app *IOSApp, a *appleType, subj string, guessed bool, servedBy string) {
	if !guessed {
		if a.s.ApplePushTopic == app.BundleID+".voip" {
			v.add(Check{ID: "ios.topic", Subject: subj, Status: Fail, Input: "ApplePushTopic of " + a.s.Type,
				Summary: fmt.Sprintf("ApplePushTopic %q is bundle id + .voip: alerts get DeviceTokenNotForTopic and VoIP goes to %q", a.s.ApplePushTopic, a.s.ApplePushTopic+".voip"),
				Fix:     fmt.Sprintf("set ApplePushTopic %q (the proxy adds .voip itself)", app.BundleID)})
		} else {
			v.add(Check{ID: "ios.topic", Subject: subj, Status: Pass,
				Summary: fmt.Sprintf("bundle id %q = ApplePushTopic %q; VoIP topic %q", app.BundleID, orDash(a.s.ApplePushTopic), app.BundleID+".voip")})
		}
	}

	// Team: every place a team id appears must agree.
	type source struct{ where, team string }
	var teams []source
	if a.auth == authToken {
		teams = append(teams, source{"AppleTeamID (.p8)", a.s.AppleTeamID})
	}
	if t := a.certTeam(); a.auth == authCert && t != "" {
		teams = append(teams, source{"certificate subject OU", t})
	}
	if p := app.Profile; p != nil {
		if len(p.TeamIdentifier) > 0 {
			teams = append(teams, source{"profile TeamIdentifier", p.TeamIdentifier[0]})
		}
		if id := p.AppID(); id != "" {
			prefix, _, _ := strings.Cut(id, ".")
			teams = append(teams, source{"application-identifier prefix", prefix})
		}
		if t := p.EntitledTeam(); t != "" {
			teams = append(teams, source{EntitlementTeamID, t})
		}
	}
	var parts []string
	distinct := map[string]bool{}
	for _, s := range teams {
		parts = append(parts, fmt.Sprintf("%s %q", s.where, s.team))
		distinct[s.team] = true
	}
	switch {
	case len(teams) < 2:
		v.add(Check{ID: "ios.team", Subject: subj, Status: Skip,
			Summary: "one team id only (" + strings.Join(parts, ", ") + "): nothing to compare (no profile in the build?)"})
	case len(distinct) == 1:
		v.add(Check{ID: "ios.team", Subject: subj, Status: Pass, Summary: "team ids agree: " + strings.Join(parts, ", ")})
	default:
		sum := "team ids differ: " + strings.Join(parts, ", ")
		fix := "use the .p8 (or certificate) of the team that signs the app, or sign the app with that team"
		in := "AppleTeamID of " + a.s.Type
		if a.auth == authToken && app.Profile != nil && len(app.Profile.TeamIdentifier) > 0 {
			pt := app.Profile.TeamIdentifier[0]
			switch {
			case a.s.AppleAuthKeyID == pt:
				sum += "; AppleAuthKeyID is the app's team id: key id and team id are swapped"
				fix = fmt.Sprintf("set AppleTeamID %q and AppleAuthKeyID %q", pt, a.s.AppleTeamID)
			default:
				fix = fmt.Sprintf("set AppleTeamID %q and use a .p8 key of that team (a key of another team gets InvalidProviderToken)", pt)
			}
		} else if a.auth == authCert {
			in = "ApplePushCertPrivate of " + a.s.Type
		}
		v.add(Check{ID: "ios.team", Subject: subj, Status: Fail, Input: in, Summary: sum, Fix: fix})
	}

	// Environment: the build's aps-environment against the proxy's.
	env := appEnv(app)
	from := "aps-environment"
	if app.Profile == nil {
		from = "no profile (Apple re-signed)"
	}
	if env == "" {
		v.add(Check{ID: "ios.environment", Subject: subj, Status: Skip, Summary: "the build has no aps-environment to compare"})
		return
	}
	if env != a.env() && servedBy != "" {
		v.add(Check{ID: "ios.environment", Subject: subj, Status: Skip,
			Summary: fmt.Sprintf("%s sends to %s; this %s build is served by %s", a.s.Type, a.env(), env, servedBy)})
		return
	}
	if env != a.env() {
		fix := fmt.Sprintf("set ApplePushUseDevelopment %v for this app type", env == "development")
		if app.Profile != nil && app.Profile.Kind() != "development" && env == "development" {
			fix = "rebuild with a distribution profile (aps-environment production)"
		}
		v.add(Check{ID: "ios.environment", Subject: subj, Status: Fail, Input: "ApplePushUseDevelopment of " + a.s.Type,
			Summary: fmt.Sprintf("build registers %s tokens (%s), proxy sends to %s (ApplePushUseDevelopment=%v): BadDeviceToken", env, from, a.env(), a.s.ApplePushUseDevelopment),
			Fix:     fix})
		return
	}
	note := ""
	if app.Profile != nil {
		note = ", " + app.Profile.Kind() + " profile"
	}
	v.add(Check{ID: "ios.environment", Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("build %s (%s%s) = proxy %s (ApplePushUseDevelopment=%v)", env, from, note, a.env(), a.s.ApplePushUseDevelopment)})
}

func certTopic(a *appleType) string {
	if a.cert == nil {
		return ""
	}
	return testpki.BundleID(a.cert)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// androidApp is one Android build to check: its package and what it
// compiled from google-services.json.
type androidApp struct {
	subject string
	pkg     string
	apk     *APK
	gs      *GoogleServices
}

// androidApps pairs each .apk with the google-services.json that names its
// package; without an .apk the package is Config.AndroidPackage or the
// file's only client.
func (v *run) androidApps() []androidApp {
	var out []androidApp
	for _, a := range v.apks {
		app := androidApp{subject: filepath.Base(a.Path), pkg: a.Package, apk: a}
		for _, g := range v.gs {
			if _, ok := g.Client(a.Package); ok {
				app.gs = g
				break
			}
		}
		if app.gs == nil && len(v.gs) == 1 {
			app.gs = v.gs[0]
		}
		out = append(out, app)
	}
	if len(v.apks) > 0 {
		return out
	}
	for _, g := range v.gs {
		pkg := v.cfg.AndroidPackage
		if pkg == "" && len(g.Clients) == 1 {
			pkg = g.Clients[0].Package
		}
		out = append(out, androidApp{subject: filepath.Base(g.Path), pkg: pkg, gs: g})
	}
	return out
}

func (v *run) checkAndroid() {
	for _, app := range v.androidApps() {
		subj := app.subject
		if app.pkg == "" {
			v.add(Check{ID: "android.package", Subject: subj, Status: Skip,
				Summary: fmt.Sprintf("google-services.json has %d apps (%s) and no .apk says which one this is", len(app.gs.Clients), strings.Join(app.gs.Packages(), ", ")),
				Fix:     "pass the .apk, or --android-package"})
			continue
		}
		g := app.gs
		if g == nil {
			if app.apk != nil && len(v.gs) == 0 {
				// The .apk alone carries the project (compiled from google-services.json).
				g = &GoogleServices{ProjectID: app.apk.ProjectID, ProjectNumber: app.apk.SenderID,
					Clients: []FirebaseApp{{Package: app.apk.Package, AppID: app.apk.AppID}}, Path: app.apk.Path}
			} else {
				var files []string
				for _, x := range v.gs {
					files = append(files, filepath.Base(x.Path)+": "+strings.Join(x.Packages(), ","))
				}
				v.add(Check{ID: "android.package", Subject: subj, Status: Fail, Input: "google-services.json",
					Summary: fmt.Sprintf("package %q is in none of the google-services.json files (%s)", app.pkg, strings.Join(files, "; ")),
					Fix:     fmt.Sprintf("add the Android app %q in Firebase console → Project settings, download google-services.json, rebuild", app.pkg)})
				continue
			}
		}
		client, ok := g.Client(app.pkg)
		if !ok {
			v.add(Check{ID: "android.package", Subject: subj, Status: Fail, Input: g.Path,
				Summary: fmt.Sprintf("package %q is not among the google-services clients %v", app.pkg, g.Packages()),
				Fix:     fmt.Sprintf("add the Android app %q in Firebase console → Project settings, download google-services.json, rebuild", app.pkg)})
			continue
		}
		v.add(Check{ID: "android.package", Subject: subj, Status: Pass,
			Summary: fmt.Sprintf("package %q is a client of project %q (%s)", app.pkg, g.ProjectID, client.AppID)})
		if a := app.apk; a != nil && app.gs != nil {
			v.checkCompiled(subj, a, g, client)
		}
		v.checkProject(subj, app.pkg, g)
	}
}

// checkCompiled compares the values the Gradle plugin compiled into the
// .apk with google-services.json.
func (v *run) checkCompiled(subj string, a *APK, g *GoogleServices, client FirebaseApp) {
	type cmp struct{ res, got, want, from string }
	var bad []string
	for _, c := range []cmp{
		{"gcm_defaultSenderId", a.SenderID, g.ProjectNumber, "project_number"},
		{"project_id", a.ProjectID, g.ProjectID, "project_id"},
		{"google_app_id", a.AppID, client.AppID, "mobilesdk_app_id"},
	} {
		if c.got != c.want {
			bad = append(bad, fmt.Sprintf("%s %q ≠ %s %q", c.res, c.got, c.from, c.want))
		}
	}
	if len(bad) > 0 {
		status, sum := Fail, "the .apk was built from another google-services.json: "+strings.Join(bad, "; ")
		if a.SenderID == g.ProjectNumber {
			sum += " (same sender id: tokens work, Firebase analytics/installations go elsewhere)"
		} else {
			sum += ": its tokens belong to sender " + orDash(a.SenderID) + " (SENDER_ID_MISMATCH)"
		}
		v.add(Check{ID: "android.sender_id", Subject: subj, Status: status, Input: a.Path, Summary: sum,
			Fix: "put this google-services.json in app/ and rebuild (the Gradle plugin compiles it into resources)"})
		return
	}
	v.add(Check{ID: "android.sender_id", Subject: subj, Status: Pass,
		Summary: fmt.Sprintf("compiled gcm_defaultSenderId %q = project_number, project_id %q, google_app_id %q", a.SenderID, a.ProjectID, a.AppID)})
}

// checkProject: the proxy's service account must belong to the app's project.
func (v *run) checkProject(subj, pkg string, g *GoogleServices) {
	if len(v.android) == 0 {
		v.add(Check{ID: "android.project", Subject: subj, Status: Fail, Input: "AndroidPushSettings",
			Summary: fmt.Sprintf("the proxy has no Android app type: nothing can push to %q", pkg),
			Fix:     "add an AndroidPushSettings entry with ServiceFileLocation = a service-account key of project " + g.ProjectID})
		return
	}
	var matched, others []string
	for _, a := range v.android {
		if a.sa == nil {
			continue
		}
		if a.sa.ProjectID == g.ProjectID {
			matched = append(matched, a.s.Type)
		} else {
			others = append(others, fmt.Sprintf("%s: %q", a.s.Type, a.sa.ProjectID))
		}
	}
	sort.Strings(matched)
	switch {
	case len(matched) > 0:
		v.add(Check{ID: "android.project", Subject: subj, Status: Pass,
			Summary: fmt.Sprintf("service account project_id of %s = google-services project_id %q", strings.Join(matched, ", "), g.ProjectID)})
	case len(others) > 0:
		v.add(Check{ID: "android.project", Subject: subj, Status: Fail, Input: "ServiceFileLocation",
			Summary: fmt.Sprintf("google-services project_id %q, but the service accounts are of %s: SENDER_ID_MISMATCH", g.ProjectID, strings.Join(others, ", ")),
			Fix:     fmt.Sprintf("use a service-account key of project %q (Firebase console → Project settings → Service accounts)", g.ProjectID)})
	default:
		v.add(Check{ID: "android.project", Subject: subj, Status: Skip, Summary: "no service account could be read to compare"})
	}
}
