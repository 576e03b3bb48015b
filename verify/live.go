package verify

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// liveTimeout bounds the whole round trip.
const liveTimeout = 45 * time.Second

// livePhone is one simulated phone: an app build's compiled identity and
// the proxy app type meant to reach it.
type livePhone struct {
	subject string
	app     devicesim.App
	user    string
	device  *devicesim.Device
	// causes maps a provider reason to the input that produces it here.
	causes func(reason string) (input, fix string)
}

// live runs the round trip: mock APNs and FCM knowing exactly the given
// public keys (and pinning the given APNs certificates), a proxy configured
// from the given settings, a server simulator, and one simulated phone per
// app build; one notification each. It returns the running lab (nil if
// nothing could be sent); the caller closes it.
func (v *run) live(ctx context.Context, pc proxy.Config) *lab {
	phones := v.livePhones()
	if len(phones) == 0 {
		v.add(Check{ID: "live", Subject: "round trip", Status: Skip,
			Summary: "no app build paired with readable proxy credentials: nothing to send"})
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	l, err := v.startLab(ctx, pc)
	if err != nil {
		if l != nil {
			l.close()
		}
		v.add(Check{ID: "live", Subject: "round trip", Status: Fail, Summary: "could not start the lab: " + err.Error(),
			Fix: "see the checks above; the proxy did not accept these settings"})
		return nil
	}
	for i, ph := range phones {
		ph.user = fmt.Sprintf("verify-%d", i+1)
		d, err := l.fleet.Add(ctx, ph.app.Name, ph.user, ph.app)
		if err != nil {
			v.add(Check{ID: ph.checkID(), Subject: ph.subject, Status: Fail, Input: ph.app.Name,
				Summary: "the simulated phone could not install the app: " + err.Error()})
			continue
		}
		ph.device = d
		l.phones = append(l.phones, ph)
		v.add(l.send(ctx, ph, "verify: "+ph.app.ID()))
	}
	return l
}

// livePhones builds the phones from the builds read, paired with the app
// types whose credentials could be read.
func (v *run) livePhones() []*livePhone {
	var out []*livePhone
	for _, app := range v.ios {
		pairs, _ := v.pairIOS(app)
		var a *appleType
		for _, p := range pairs {
			// Prefer the app type of the build's environment.
			if (p.key != nil || p.cert != nil) && (a == nil || p.env() == appEnv(app) && a.env() != appEnv(app)) {
				a = p
			}
		}
		if a == nil {
			continue
		}
		env := appEnv(app)
		subj := filepath.Base(app.Path) + " ↔ " + a.s.Type
		if env != "development" && env != "production" {
			v.add(Check{ID: "live.ios", Subject: subj, Status: Fail, Input: filepath.Base(app.Path) + " embedded.mobileprovision",
				Summary: "the build has no aps-environment: iOS gives it no device token, nothing can be sent",
				Fix:     "enable the Push Notifications capability and rebuild"})
			continue
		}
		team := ""
		if app.Profile != nil && len(app.Profile.TeamIdentifier) > 0 {
			team = app.Profile.TeamIdentifier[0]
		}
		out = append(out, &livePhone{subject: subj,
			app: devicesim.App{Name: filepath.Base(app.Path), Platform: devicesim.IOS, ProxyType: a.s.Type,
				TeamID: team, BundleID: app.BundleID, Environment: testpki.Environment(env)},
			causes: appleCauses(a, app)})
	}
	for _, app := range v.androidApps() {
		if app.pkg == "" {
			continue
		}
		g := app.gs
		project, sender := "", ""
		if g != nil {
			project, sender = g.ProjectID, g.ProjectNumber
		}
		if app.apk != nil {
			// What the build compiled in is what the phone registers with.
			project, sender = cmp.Or(app.apk.ProjectID, project), cmp.Or(app.apk.SenderID, sender)
		}
		var a *androidType
		for _, t := range v.android {
			if t.sa != nil && (a == nil || t.sa.ProjectID == project) {
				if a == nil || a.sa.ProjectID != project {
					a = t
				}
			}
		}
		if a == nil || project == "" {
			continue
		}
		name := app.subject // the .apk
		if app.apk == nil {
			name = app.pkg // rather than google-services.json
		}
		// A real FCM token is minted for the sender id compiled into the app.
		out = append(out, &livePhone{subject: app.subject + " ↔ " + a.s.Type,
			app: devicesim.App{Name: name, Platform: devicesim.Android, ProxyType: a.s.Type,
				Package: app.pkg, ProjectID: cmp.Or(sender, project), ProjectNumber: sender},
			causes: androidCauses(a, app)})
	}
	return out
}

// appleCauses names the input behind each APNs reason for this pairing.
func appleCauses(a *appleType, app *IOSApp) func(string) (string, string) {
	build := filepath.Base(app.Path)
	return func(reason string) (string, string) {
		switch reason {
		case mockapns.ReasonBadDeviceToken:
			return fmt.Sprintf("ApplePushUseDevelopment=%v of %s vs the aps-environment of %s", a.s.ApplePushUseDevelopment, a.s.Type, build),
				fmt.Sprintf("set ApplePushUseDevelopment %v (the build registers %s tokens)", appEnv(app) == "development", appEnv(app))
		case mockapns.ReasonDeviceTokenNotForTopic, mockapns.ReasonTopicDisallowed, mockapns.ReasonMissingTopic:
			return fmt.Sprintf("ApplePushTopic %q of %s vs CFBundleIdentifier %q of %s", a.s.ApplePushTopic, a.s.Type, app.BundleID, build),
				fmt.Sprintf("set ApplePushTopic %q", app.BundleID)
		case mockapns.ReasonInvalidProviderToken, mockapns.ReasonExpiredProviderToken:
			return fmt.Sprintf("AppleAuthKeyID %q / AppleTeamID %q / %s of %s", a.s.AppleAuthKeyID, a.s.AppleTeamID, filepath.Base(a.keyFile), a.s.Type),
				"use the key id from AuthKey_<KEYID>.p8 and the team id that signs the app (see apns.key_id and ios.team)"
		case mockapns.ReasonBadCertificate, mockapns.ReasonBadCertificateEnvironment:
			return fmt.Sprintf("ApplePushCertPrivate %s of %s", filepath.Base(a.certFile), a.s.Type),
				"use the APNs certificate of this app and environment (see apns.cert.*)"
		}
		return a.s.Type, ""
	}
}

// androidCauses names the input behind each FCM error for this pairing.
func androidCauses(a *androidType, app androidApp) func(string) (string, string) {
	return func(reason string) (string, string) {
		switch reason {
		case mockfcm.SenderIDMismatch:
			return fmt.Sprintf("ServiceFileLocation %s (project %q) of %s vs the project compiled into %s", filepath.Base(a.file), a.sa.ProjectID, a.s.Type, app.subject),
				"use a service account of the app's Firebase project, or rebuild the app with that project's google-services.json"
		case mockfcm.ThirdPartyAuthError, "UNAUTHENTICATED", "PERMISSION_DENIED":
			return fmt.Sprintf("ServiceFileLocation %s of %s", filepath.Base(a.file), a.s.Type), "download a new service-account key"
		}
		return a.s.Type, ""
	}
}

func (ph *livePhone) checkID() string {
	if ph.app.Platform == devicesim.Android {
		return "live.android"
	}
	return "live.ios"
}

// lab is the round trip's actors.
type lab struct {
	phones []*livePhone
	bus    *events.Bus
	apns   *mockapns.Server
	fcm    *mockfcm.Server
	proxy  *proxy.Server
	server *serversim.Server
	fleet  *devicesim.Fleet
	tmp    string
	// proxyURL is where the proxy listens (https, the lab's own CA).
	proxyURL string
	cancel   context.CancelFunc
	serving  bool // Serve was started; done closes when it returns
	done     chan struct{}
}

func (l *lab) close() {
	if l.fleet != nil {
		l.fleet.Close()
	}
	if l.cancel != nil {
		l.cancel()
	}
	if l.proxy != nil {
		l.proxy.Close()
		if l.serving {
			<-l.done
		}
	}
	if l.apns != nil {
		l.apns.Close()
	}
	if l.fcm != nil {
		l.fcm.Close()
	}
	if l.tmp != "" {
		os.RemoveAll(l.tmp) // the service account copies
	}
}

func (v *run) startLab(ctx context.Context, pc proxy.Config) (*lab, error) {
	l := &lab{bus: events.NewBus(), done: make(chan struct{})}
	ca, err := testpki.NewCA()
	if err != nil {
		return nil, err
	}
	mockLeaf, err := ca.IssueServer(testpki.MockHosts...)
	if err != nil {
		return nil, err
	}
	proxyLeaf, err := ca.IssueServer(testpki.ProxyHosts...)
	if err != nil {
		return nil, err
	}

	// APNs knows the given keys and pins the given certificates (each
	// trusted as itself), so Apple-issued files work as they are.
	pinned := x509.NewCertPool()
	for _, a := range v.apple {
		if a.cert != nil {
			pinned.AddCert(a.cert)
		}
	}
	if l.apns, err = mockapns.New(mockapns.Config{Cert: mockLeaf.TLS(), ClientCAs: pinned, Bus: l.bus, Logger: v.log}); err != nil {
		return l, err
	}
	if err = l.apns.Start(); err != nil {
		return l, err
	}
	registered := map[string]bool{}
	for _, a := range v.apple {
		if a.key == nil {
			continue
		}
		// Register the key as Apple knows it: the id in Apple's file name,
		// the team that signs the app; the proxy's settings may say otherwise.
		kid, team := cmp.Or(a.keyFileID, a.s.AppleAuthKeyID), a.s.AppleTeamID
		for _, app := range v.ios {
			if pairs, _ := v.pairIOS(app); slices.Contains(pairs, a) && app.Profile != nil && len(app.Profile.TeamIdentifier) > 0 {
				team = app.Profile.TeamIdentifier[0]
			}
		}
		if registered[kid] {
			continue
		}
		registered[kid] = true
		if err = l.apns.RegisterKey(mockapns.Key{ID: kid, TeamID: team, Public: &a.key.PublicKey}); err != nil {
			return l, err
		}
	}

	// FCM knows the given service accounts; their token_uri points at it in
	// private copies the proxy reads.
	if l.fcm, err = mockfcm.New(mockfcm.Config{Cert: mockLeaf.TLS(), Bus: l.bus, Logger: v.log}); err != nil {
		return l, err
	}
	if err = l.fcm.Start(); err != nil {
		return l, err
	}
	if l.tmp, err = os.MkdirTemp("", "pushlab-verify-"); err != nil {
		return l, err
	}
	pc.ApplePushSettings, pc.AndroidPushSettings = nil, nil
	for _, a := range v.apple {
		s := a.s
		s.AppleAuthKeyFile, s.ApplePushCertPrivate = a.keyFile, a.certFile
		if a.auth == authToken && a.key == nil || a.auth == authCert && a.cert == nil {
			continue // unreadable: reported above
		}
		pc.ApplePushSettings = append(pc.ApplePushSettings, s)
	}
	for i, a := range v.android {
		if a.sa == nil {
			continue
		}
		sa := *a.sa
		sa.TokenURI = l.fcm.TokenURL()
		for _, g := range v.gs {
			if g.ProjectID == sa.ProjectID {
				sa.ProjectNumber = g.ProjectNumber
			}
		}
		if err = l.fcm.RegisterServiceAccount(&sa); err != nil {
			return l, err
		}
		file := filepath.Join(l.tmp, fmt.Sprintf("service-account-%d.json", i))
		if err = os.WriteFile(file, sa.JSON(), 0o600); err != nil {
			return l, err
		}
		s := a.s
		s.ServiceFileLocation = file
		pc.AndroidPushSettings = append(pc.AndroidPushSettings, s)
	}

	// The proxy, configured from the given settings, pointed at the mocks.
	pc.APNsHost, pc.APNsDevelopmentHost, pc.FCMEndpoint = l.apns.URL, l.apns.DevelopmentURL, l.fcm.Endpoint()
	pc.ThrottlePerSec, pc.RetryBackoffMs, pc.MaxTries = 0, 10, 1
	pc.SendTimeoutSec, pc.RetryTimeoutSec = 20, 15
	pc.EnableConsoleLog, pc.EnableFileLog, pc.EnableMetrics = false, false, false
	if l.proxy, err = proxy.New(pc, proxy.Options{
		RootCAs:   ca.Pool(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{proxyLeaf.TLS()}, MinVersion: tls.VersionTLS12},
		Bus:       l.bus, Logger: v.log,
	}); err != nil {
		return l, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return l, err
	}
	l.proxyURL = "https://" + ln.Addr().String()
	var serveCtx context.Context
	serveCtx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.serving = true
	go func() {
		defer close(l.done)
		if err := l.proxy.Serve(serveCtx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			v.log.Error("verify: proxy stopped", "err", err)
		}
	}()

	// The server simulator signs and encrypts; the phones pin its key.
	signing, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return l, err
	}
	const kid = "pushlab-verify"
	trust := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}}
	if l.server, err = serversim.New(serversim.Config{ProxyURL: l.proxyURL, ProxyClient: trust,
		SigningKey: signing, SigningKeyID: kid, Contents: serversim.ContentsFull, Profile: serversim.ProfileEAS,
		Bus: l.bus, Logger: v.log}); err != nil {
		return l, err
	}
	if l.fleet, err = devicesim.NewFleet(devicesim.FleetConfig{Server: l.server.Link(),
		Pinned: map[string]*ecdsa.PublicKey{kid: &signing.PublicKey},
		APNs:   devicesim.APNs(l.apns), FCM: devicesim.FCM(l.fcm), Bus: l.bus, Logger: v.log}); err != nil {
		return l, err
	}
	return l, nil
}

// send sends the phone one notification and reports what became of it.
func (l *lab) send(ctx context.Context, ph *livePhone, text string) Check {
	id := ph.checkID()
	fail := func(summary, input, fix string, trace []string) Check {
		return Check{ID: id, Subject: ph.subject, Status: Fail, Summary: summary, Input: input, Fix: fix, Trace: trace}
	}
	res, err := l.server.Send(ctx, serversim.Message{UserID: ph.user, ChannelName: "Town Square", SenderName: "pushlab verify",
		Message: text})
	if err != nil || len(res) != 1 {
		return fail(fmt.Sprintf("the server could not send (%d results): %v", len(res), err), "", "", nil)
	}
	l.fleet.Wait()
	r := res[0]
	evs := l.bus.Trace(r.AckID)
	trace := make([]string, 0, len(evs))
	reason := ""
	for _, e := range evs {
		trace = append(trace, traceLine(e))
		// The provider's own reason: its rejection, or (when it rejected
		// before reading the payload, so the trace id is not known to it)
		// the reason the proxy got back.
		switch {
		case e.Hop == events.ProviderRejected:
			reason = e.Status
		case e.Hop == events.ProxyForwarded && reason == "" && e.Status != "" && strings.Trim(e.Status, "0123456789") != "":
			reason = e.Status
		}
	}
	n, shown := ph.device.Last()
	switch {
	case r.Status == serversim.StatusOK && shown && n.AckID == r.AckID && n.Verified && n.Decrypted:
		return Check{ID: id, Subject: ph.subject, Status: Pass, Trace: trace,
			Summary: fmt.Sprintf("displayed %q — %q: signature verified, decrypted, acked (token %s…)", n.Title, n.Body, shortToken(ph.device.Token()))}
	case reason != "":
		input, fix := ph.causes(reason)
		return fail(fmt.Sprintf("%s rejected the push: %s (proxy answered %s)", providerName(ph.app), reason, r.Status), input, fix, trace)
	case r.Status != serversim.StatusOK:
		return fail(fmt.Sprintf("proxy answered %s: %s", r.Status, r.Error), ph.app.ProxyType, "see the checks above for "+ph.app.ProxyType, trace)
	case !shown || n.AckID != r.AckID:
		return fail("accepted by the provider but not displayed on the phone", ph.app.Name, "", trace)
	}
	return fail(fmt.Sprintf("displayed, but verified=%v decrypted=%v", n.Verified, n.Decrypted), ph.app.Name, "", trace)
}

func providerName(a devicesim.App) string {
	if a.Platform == devicesim.IOS {
		return "APNs"
	}
	return "FCM"
}

func traceLine(e events.Event) string {
	s := fmt.Sprintf("%-9s %-20s %s", e.Actor, e.Hop, e.Status)
	if e.Detail != "" {
		s += " — " + e.Detail
	}
	return strings.TrimSpace(s)
}

func shortToken(t string) string {
	if len(t) > 8 {
		return t[:8]
	}
	return t
}
