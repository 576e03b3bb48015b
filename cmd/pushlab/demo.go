package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/timeline"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
	"github.com/pushlab/pushlab/web"
	"github.com/spf13/cobra"
)

func newDemoCmd(g *globals) *cobra.Command {
	var (
		once              bool
		contents, profile string
		user              string
		keys              string // --keys DIR: the eas profile on the user's own files (demo_eas.go)
		noWeb             bool
		wf                webFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run mocks, proxy, server and devices in one process and show a notification's path",
		Long: `demo starts mock APNs and FCM, the push proxy, the server simulator and three
simulated phones (an iOS app on token auth, an iOS app on certificate auth, an
Android app) on 127.0.0.1 with a fresh test PKI, sends each a first
notification, and prints the timeline of every hop. It then keeps running,
printing each new event, until Ctrl-C (--once exits after the first timeline,
non-zero if a phone did not show its notification).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.quietUnlessAsked(cmd, "warn") // keep the timeline readable
			c, err := serversim.ParseContents(contents)
			if err != nil {
				return err
			}
			p, err := serversim.ParseProfile(profile)
			if err != nil {
				return err
			}
			if once {
				noWeb = true // it exits after the first timeline: nothing to watch
			}
			if keys != "" {
				return runEASDemo(cmd, g, p, keys, once, noWeb, wf)
			}
			return runDemo(cmd, g, c, p, user, once, noWeb, wf)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&once, "once", false, "exit after the first timeline (CI smoke test)")
	f.StringVar(&contents, "contents", string(serversim.ContentsFull), "push contents: generic, generic_no_channel, full, id_loaded")
	f.StringVar(&profile, "profile", string(serversim.ProfileHPNS), "profile: hpns, eas (both encrypt), tpns (plaintext), mattermost (what a real Mattermost server sends)")
	f.StringVar(&user, "user", "alice", "the user the phones are logged in as")
	f.StringVar(&keys, "keys", "", "with --profile eas: your own mattermost-push-proxy.json, keys and app builds in DIR, checked by verify first")
	f.BoolVar(&noWeb, "no-web", false, "no live web view: print every event as a text timeline instead")
	wf.register(cmd, "web-")
	return envPrefix(cmd, "DEMO_")
}

func runDemo(cmd *cobra.Command, g *globals, contents serversim.Contents, profile serversim.Profile, user string, once, noWeb bool, wf webFlags) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	bus := events.NewBus()
	log := g.logger()
	fmt.Fprintln(out, "pushlab demo: making a test PKI and starting every actor on 127.0.0.1…")
	set, err := testpki.NewSet(testpki.Options{})
	if err != nil {
		return err
	}
	var startup startupTimes
	startup.pki = time.Now()
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	lab, err := e2e.Start(startCtx, e2e.Options{Set: set, Contents: contents, Profile: profile, Bus: bus, Logger: log})
	cancel()
	if err != nil {
		return err
	}
	startup.actors = time.Now()
	defer lab.Close()
	var (
		webURL  string
		waitWeb func() error
	)
	if !noWeb {
		if webURL, waitWeb, err = startWebView(ctx, g, web.Config{Lab: lab, Logger: log}, wf, out); err != nil {
			return err
		}
	}
	for _, u := range lab.URLs() {
		fmt.Fprintf(out, "  %-24s %s\n", u[0], u[1])
	}
	fmt.Fprintf(out, "  %-24s %s (pinned by the apps: %s)\n", "server signing key", set.SigningKeyID, testpki.Fingerprint(set.Signing.Public()))
	fmt.Fprintf(out, "  %-24s %s, profile %s\n\n", "push contents", contents, profile)

	phones := []struct {
		name string
		app  devicesim.App
	}{{"iphone-token", lab.IOSToken}, {"iphone-cert", lab.IOSCert}, {"pixel", lab.Android}}
	for _, ph := range phones {
		d, err := lab.Fleet.Add(ctx, ph.name, user, ph.app)
		if err != nil {
			return err
		}
		st := d.State()
		fmt.Fprintf(out, "  phone %-13s %-15s %-22s token %s, session %s\n", d.Name, ph.app.Name, ph.app.ID(), st.Token, st.Session)
	}
	fmt.Fprintln(out)
	startup.phones = time.Now()

	res, err := lab.Server.Send(ctx, serversim.Message{UserID: user, ChannelName: "Town Square", SenderName: "pushlab",
		Message: "Hello from pushlab 👋"})
	if err != nil {
		return err
	}
	lab.Fleet.Wait()
	var problems []string
	for _, r := range res {
		if err := timeline.WriteTrace(out, timeline.Trace{ID: r.AckID, Events: lab.Bus.Trace(r.AckID)}, timeline.Options{}); err != nil {
			return err
		}
		d, _ := lab.Fleet.Device(r.DeviceName)
		n, ok := d.Last()
		if r.Status != serversim.StatusOK || !ok || n.AckID != r.AckID {
			problems = append(problems, fmt.Sprintf("%s: proxy %s %s, nothing shown", r.DeviceName, r.Status, r.Error))
			continue
		}
		fmt.Fprintf(out, "  %s shows: %q / %q — %q (verified %v, decrypted %v)\n\n", d.Name, n.Title, n.Subtitle, n.Body, n.Verified, n.Decrypted)
	}
	if len(problems) > 0 {
		return errors.New("demo: " + strings.Join(problems, "; "))
	}
	for _, r := range res {
		for _, e := range lab.Bus.Trace(r.AckID) {
			if e.Hop == events.DeviceDisplayed && (startup.displayed.IsZero() || e.At.Before(startup.displayed)) {
				startup.displayed = e.At
			}
		}
	}
	fmt.Fprintln(out, startup.String())
	if once {
		return nil
	}

	if waitWeb != nil {
		fmt.Fprintf(out, "Every hop of every notification is in the live view: %s\nSend, inject faults and switch devices there. Ctrl-C to stop.\n", webURL)
		return waitWeb()
	}
	ca := filepath.Join(lab.KeyDir, testpki.FileCA)
	fmt.Fprintf(out, "Running until Ctrl-C. Send another:\n  curl --cacert %s -X POST %s/control/send -d '{\"user_id\":%q,\"channel_name\":\"random\",\"message\":\"hi\"}'\n\n",
		ca, lab.Server.URL, user)
	sub, _ := bus.Subscribe(0, false)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\nstopping.")
			return nil
		case e, ok := <-sub.C():
			if !ok {
				return nil
			}
			trace := e.TraceID
			if len(trace) > 8 {
				trace = trace[:8]
			}
			plain := ""
			if e.Plaintext {
				plain = " ⚠PLAINTEXT"
			}
			fmt.Fprintf(out, "%s %-8s %-16s %-22s %-14s %s%s\n", e.At.Format("15:04:05.000"), trace, e.Actor, e.Hop, e.Status, e.Detail, plain)
		}
	}
}

// startupTimes are the demo's milestones, for the line that says how long
// the first notification took to show after the process started.
type startupTimes struct {
	pki, actors, phones, displayed time.Time
}

func (t startupTimes) String() string {
	start := processStart()
	ms := func(from, to time.Time) string { return fmt.Sprintf("%d ms", to.Sub(from).Milliseconds()) }
	return fmt.Sprintf("first notification displayed %s after the process started (until the test PKI was made %s, actors started %s, phones installed %s, sent and displayed %s)",
		ms(start, t.displayed), ms(start, t.pki), ms(t.pki, t.actors), ms(t.actors, t.phones), ms(t.phones, t.displayed))
}

// initAt is when this package was initialised: after the runtime and the
// imported packages, so later than the process's start.
var initAt = time.Now()

// processStart is when the process started: from /proc on Linux (to the
// kernel clock's 10 ms tick), else when this package was initialised.
func processStart() time.Time {
	stat, err1 := os.ReadFile("/proc/self/stat")
	uptime, err2 := os.ReadFile("/proc/uptime")
	if err1 != nil || err2 != nil {
		return initAt
	}
	// Field 22 (starttime, clock ticks since boot) counts from after the
	// command name, which may hold spaces: split after its ")".
	_, rest, ok := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	u := strings.Fields(string(uptime))
	if !ok || len(f) < 20 || len(u) == 0 {
		return initAt
	}
	ticks, err1 := strconv.ParseInt(f[19], 10, 64)
	up, err2 := strconv.ParseFloat(u[0], 64)
	if err1 != nil || err2 != nil {
		return initAt
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux ABI Go supports
	age := time.Duration((up - float64(ticks)/clockTicks) * float64(time.Second))
	if start := time.Now().Add(-age); start.Before(initAt) {
		return start
	}
	return initAt
}
