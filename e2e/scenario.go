package e2e

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
)

// AppKind names one of the apps the proxy under test is configured for.
type AppKind string

const (
	IOSToken  AppKind = "ios-token"  // proxy type "apple": .p8 token auth, production
	IOSCert   AppKind = "ios-cert"   // proxy type "apple_rn": certificate auth, development
	Android   AppKind = "android"    // proxy type "android"
	AndroidRN AppKind = "android-rn" // proxy type "android_rn"
)

// Scenario is one story told to the push path: data (devices, faults,
// messages and what must happen to each) plus, where data cannot say it,
// code. Every scenario also passes the accounting check (Account).
type Scenario struct {
	Name string
	Doc  string
	// Only restricts the scenario to one topology ("" = every one).
	Only     Topology
	Contents serversim.Contents
	Profile  serversim.Profile
	// Heavy scenarios are skipped by -short.
	Heavy bool
	// AcksMayFail: an ack the proxy could not take is reported to the
	// device and not a violation (the proxy is down on purpose).
	AcksMayFail bool
	// Exclusive scenarios run alone, after the others: they load or
	// disturb the shared deployment (a proxy restart, a thousand devices).
	Exclusive bool
	// LocalDevices says why the scenario's phones stay in the harness
	// process where the topology puts the devices in containers (""
	// = they go in a container with the rest).
	LocalDevices string

	Devices []DeviceSpec
	Faults  []FaultSpec
	Sends   []SendSpec
	// Run, if set, runs after the Sends, for what data cannot express.
	Run func(ctx context.Context, env *Env) error
}

// DeviceSpec is a device the scenario installs before it sends.
type DeviceSpec struct {
	Name string
	App  AppKind
	// Edit changes the app before install: a wrong bundle id compiled in,
	// a sandbox build, another Firebase project.
	Edit func(*devicesim.App)
	// Uninstalled: install, then uninstall (the token dies at the provider).
	Uninstalled bool
}

// FaultSpec is a mock fault scoped to one of the scenario's devices.
type FaultSpec struct {
	Provider Provider
	Device   string // the fault's token is this device's
	Fault    pushtest.Fault
}

// SendSpec is one message to one device and what must happen to it.
type SendSpec struct {
	To      string
	Message serversim.Message
	Expect  Expect
}

// Expect is what must happen to one notification, read off the event spine.
type Expect struct {
	// Verdict is the proxy's answer: OK, REMOVE or FAIL ("" = any; the
	// accounting still holds it to what happened).
	Verdict string
	// Provider is the mock's last rejection reason (provider.rejected status),
	// e.g. "DeviceTokenNotForTopic"; "" checks nothing.
	Provider string
	// Hops must each appear; NotHops must not.
	Hops, NotHops []events.Hop
	// Delivered is how many times the device got it (device.delivered);
	// nil: one for OK, none otherwise.
	Delivered *int
	// Shown is the body the device showed ("" checks nothing).
	Shown string
	// SessionRemoved: after REMOVE the server dropped the session.
	SessionRemoved bool
	// Fetched: an id-loaded message was fetched with the ack.
	Fetched bool
}

// Hops every delivered, verified and acked notification leaves.
var deliveredHops = []events.Hop{events.ServerSent, events.ProviderAccepted, events.DeviceDelivered,
	events.DeviceSignatureOK, events.DeviceDisplayed, events.DeviceAcked, events.ServerAnswered}

// Select returns the scenarios whose name matches the glob (path.Match; ""
// or "*" = all; a pattern without a slash also matches the first segment).
func Select(all []Scenario, glob string) ([]Scenario, error) {
	if glob == "" {
		return all, nil
	}
	var out []Scenario
	for _, s := range all {
		for _, g := range strings.Split(glob, ",") {
			ok, err := path.Match(g, s.Name)
			if err != nil {
				return nil, fmt.Errorf("--scenario %q: %w", g, err)
			}
			if !ok {
				first, _, _ := strings.Cut(s.Name, "/")
				ok, _ = path.Match(g, first)
			}
			if ok {
				out = append(out, s)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--scenario %q matches none of %d scenarios", glob, len(all))
	}
	return out, nil
}

// Runs reports whether s runs in topology t.
func (s Scenario) Runs(t Topology) bool { return s.Only == "" || s.Only == t }

// run plays the scenario's data on env and returns the first error, then
// checks each send's expectation.
func (s Scenario) run(ctx context.Context, env *Env) (failures []string, err error) {
	for _, ds := range s.Devices {
		app, err := env.App(ds.App)
		if err != nil {
			return nil, err
		}
		if ds.Edit != nil {
			ds.Edit(&app)
		}
		d, err := env.AddDevice(ctx, ds.Name, app)
		if err != nil {
			return nil, err
		}
		if ds.Uninstalled {
			if err := d.Uninstall(ctx); err != nil {
				return nil, fmt.Errorf("uninstall %s: %w", ds.Name, err)
			}
		}
	}
	for _, fs := range s.Faults {
		d, ok := env.Device(fs.Device)
		if !ok {
			return nil, fmt.Errorf("fault for unknown device %q", fs.Device)
		}
		f := fs.Fault
		f.Token = d.Token()
		if err := env.AddFault(ctx, fs.Provider, f); err != nil {
			return nil, err
		}
	}
	type sent struct {
		spec SendSpec
		res  serversim.SendResult
		dev  *Phone
	}
	var all []sent
	for _, ss := range s.Sends {
		d, ok := env.Device(ss.To)
		if !ok {
			return nil, fmt.Errorf("send to unknown device %q", ss.To)
		}
		sess := d.SessionID()
		r, err := env.SendTo(ctx, d, ss.Message)
		if err != nil {
			return nil, fmt.Errorf("send to %s: %w", ss.To, err)
		}
		r.SessionID = sess
		all = append(all, sent{ss, r, d})
	}
	if s.Run != nil {
		if err := s.Run(ctx, env); err != nil {
			failures = append(failures, err.Error())
		}
	}
	if len(all) == 0 {
		return failures, nil
	}
	got := env.collect(ctx, collectLimit)
	for _, x := range all {
		for _, f := range x.spec.Expect.check(env, x.dev, x.res, got[x.res.AckID]) {
			failures = append(failures, fmt.Sprintf("%s → %s (ack_id %s): %s", x.spec.To, x.dev.App.Name, x.res.AckID, f))
		}
	}
	return failures, nil
}

// check compares one notification's trace with the expectation.
func (x Expect) check(env *Env, d *Phone, r serversim.SendResult, trace []events.Event) []string {
	var out []string
	if x.Verdict != "" && r.Status != x.Verdict {
		why := r.Error
		if rej, ok := last(trace, events.ProviderRejected); ok && r.AckID != "" {
			why += fmt.Sprintf("; the provider said %s (%s)", rej.Status, rej.Detail)
		}
		out = append(out, fmt.Sprintf("proxy answered %s, want %s%s", r.Status, x.Verdict, suffix(why)))
	}
	if x.Provider != "" {
		// A proxy that reports nothing and a mock that could not tie the
		// request to the notification (a body too large to read, a fault
		// answered first) leave the reason off the trace: the mock's own
		// record of the device's requests has it.
		if got := providerReason(trace); got != x.Provider && !env.providerSaid(d, r.AckID, x.Provider) {
			out = append(out, fmt.Sprintf("provider reason %q, want %q", got, x.Provider))
		}
	}
	hops := x.Hops
	if hops == nil && x.Verdict == serversim.StatusOK {
		hops = deliveredHops
	}
	for _, h := range hops {
		if count(trace, h) == 0 {
			out = append(out, fmt.Sprintf("no %s event%s", h, hint(h)))
		}
	}
	for _, h := range x.NotHops {
		if e, ok := last(trace, h); ok {
			out = append(out, fmt.Sprintf("unexpected %s (%s %s)", h, e.Status, e.Detail))
		}
	}
	// With no verdict expected (either is right, e.g. a reset before or
	// after the request left), the accounting alone judges delivery.
	if x.Verdict != "" || x.Delivered != nil {
		want := 0
		if x.Verdict == serversim.StatusOK {
			want = 1
		}
		if x.Delivered != nil {
			want = *x.Delivered
		}
		if n := count(trace, events.DeviceDelivered); n != want {
			out = append(out, fmt.Sprintf("delivered %d times, want %d", n, want))
		}
	}
	if x.Shown != "" {
		shown, ok := last(trace, events.DeviceDisplayed)
		if !ok || !strings.Contains(shown.Detail, fmt.Sprintf("%q", x.Shown)) {
			out = append(out, fmt.Sprintf("the device shows %s, want %q", orNothing(shown.Detail), x.Shown))
		}
	}
	if x.Fetched {
		if n, ok := d.Last(); !ok || n.AckID != r.AckID || !n.Fetched {
			out = append(out, "the id-loaded message was not fetched with the ack")
		}
	}
	if x.SessionRemoved {
		still, err := env.Server.HasSession(context.Background(), r.SessionID)
		switch {
		case err != nil:
			out = append(out, err.Error())
		case still || count(trace, events.ServerRemoved) == 0:
			out = append(out, "the server kept the session after REMOVE")
		}
	}
	return out
}

// providerReason is the provider's verdict on a rejected push: the mock's
// own event when it could tie the request to the notification, else what a
// reporting proxy recorded, else the proxy's error text.
func providerReason(trace []events.Event) string {
	for _, h := range []events.Hop{events.ProviderRejected, events.FaultInjected, events.ProxyForwarded} {
		if e, ok := last(trace, h); ok && e.Status != "" && e.Status != "200" {
			return e.Status
		}
	}
	if e, ok := last(trace, events.ServerAnswered); ok {
		return e.Detail
	}
	return ""
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// hint says what a missing hop usually means, for a CI log reader.
func hint(h events.Hop) string {
	switch h {
	case events.ProviderAccepted:
		return " (the proxy never reached the provider, or the provider refused)"
	case events.DeviceDelivered:
		return " (the provider never pushed it to the device)"
	case events.DeviceAcked, events.ProxyAcked:
		return " (the ack did not make it back)"
	}
	return ""
}

func suffix(s string) string {
	s = strings.TrimPrefix(s, "; ")
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func count(trace []events.Event, h events.Hop) int {
	n := 0
	for _, e := range trace {
		if e.Hop == h {
			n++
		}
	}
	return n
}

func last(trace []events.Event, h events.Hop) (events.Event, bool) {
	for i := len(trace) - 1; i >= 0; i-- {
		if trace[i].Hop == h {
			return trace[i], true
		}
	}
	return events.Event{}, false
}

func intp(n int) *int { return &n }
