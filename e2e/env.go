package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/httpjson"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// Topology names where the actors run.
type Topology string

const (
	// InProcess: every actor in this process on 127.0.0.1 (Lab).
	InProcess Topology = "inprocess"
	// Containers: every actor in a container on a private network, the mocks
	// under Apple's and Google's host names (scenarios with LocalDevices keep
	// their phones in this process; with a proxy running elsewhere, the
	// server simulator and the phones stay here).
	Containers Topology = "containers"
)

// Deployment is one running topology that scenarios share. Each scenario
// gets an Env of its own on it (its own server simulator and devices), so
// independent scenarios run in parallel.
type Deployment interface {
	Topology() Topology
	// NewEnv gives a scenario its server simulator and fleet.
	NewEnv(ctx context.Context, opts EnvOptions) (*Env, error)
	// Bus is where every actor's hops arrive.
	Bus() *events.Bus
	// Logs returns each container's log (empty in process), for artifacts.
	Logs(ctx context.Context) map[string]string
	// RestartProxy stops and starts the proxy under test; nil error only
	// where the topology can (containers).
	RestartProxy(ctx context.Context) error
	Close() error
}

// EnvOptions choose a scenario's server simulator.
type EnvOptions struct {
	Prefix   string // device and user names start with it
	Contents serversim.Contents
	Profile  serversim.Profile
	// LocalDevices keeps the phones in this process where the topology
	// would put them in a container.
	LocalDevices bool
}

// Env is what a scenario sees: a server simulator posting to the proxy under
// test, a fleet of devices on the mocks, the apps the proxy is configured
// for, and the mocks' control APIs. It is the same in every topology.
type Env struct {
	Topology Topology
	Set      *testpki.Set
	Bus      *events.Bus
	// Server is the scenario's server simulator: in this process, or in a
	// container of its own behind its control API.
	Server ServerDriver
	// Fleet holds the phones when they run in this process (nil when they
	// run in a devices container).
	Fleet *devicesim.Fleet
	// IOSToken ("apple", token auth, production), IOSCert ("apple_rn",
	// certificate auth, development), Android, AndroidRN.
	IOSToken, IOSCert, Android, AndroidRN devicesim.App
	// APNsControl and FCMControl are the mocks' control API base URLs.
	APNsControl, FCMControl string
	ProxyURL                string
	// ProxyClient reaches ProxyURL from this process (a forger posts with it).
	ProxyClient *http.Client
	// ControlClient reaches the control APIs (it carries their access
	// token where they need one); nil: http.DefaultClient.
	ControlClient *http.Client
	// Settle is how long the stream must stay quiet before a scenario's
	// traces count as complete (events from containers arrive over websockets).
	Settle time.Duration

	deployment Deployment
	prefix     string
	remote     *remoteFleet // the devices container, if the phones are there
	closers    []func()

	mu       sync.Mutex
	traces   []string
	injected map[string]bool // traces the scenario re-delivered itself (replays)
	faults   []faultRef
	devices  map[string]*Phone
}

type faultRef struct{ control, id string }

func (e *Env) close() {
	e.clearFaults()
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// App returns the app of a kind named in scenario data.
func (e *Env) App(kind AppKind) (devicesim.App, error) {
	switch kind {
	case IOSToken:
		return e.IOSToken, nil
	case IOSCert:
		return e.IOSCert, nil
	case Android:
		return e.Android, nil
	case AndroidRN:
		return e.AndroidRN, nil
	}
	return devicesim.App{}, fmt.Errorf("unknown app kind %q", kind)
}

// AddDevice installs app on a new device for its own user; names get the
// scenario's prefix so that parallel scenarios never share a device.
func (e *Env) AddDevice(ctx context.Context, name string, app devicesim.App) (*Phone, error) {
	full := e.prefix + name
	var d *Phone
	if e.remote != nil {
		var err error
		if d, err = e.remote.add(ctx, full, full, app); err != nil {
			return nil, fmt.Errorf("device %s: %w", name, err)
		}
	} else {
		local, err := e.Fleet.Add(ctx, full, full, app)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", name, err)
		}
		d = localPhone(local)
	}
	e.mu.Lock()
	if e.devices == nil {
		e.devices = map[string]*Phone{}
	}
	e.devices[name] = d
	e.mu.Unlock()
	return d, nil
}

// Device returns a device added under name.
func (e *Env) Device(name string) (*Phone, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.devices[name]
	return d, ok
}

// Send pushes m, records the traces for the accounting check and waits for
// the devices to finish with it.
func (e *Env) Send(ctx context.Context, m serversim.Message) ([]serversim.SendResult, error) {
	res, err := e.Server.Send(ctx, m)
	e.mu.Lock()
	for _, r := range res {
		e.traces = append(e.traces, r.AckID)
	}
	e.mu.Unlock()
	e.WaitDevices()
	return res, err
}

// WaitDevices returns once the scenario's phones handle no push.
func (e *Env) WaitDevices() {
	if e.remote != nil {
		e.remote.wait()
		return
	}
	e.Fleet.Wait()
}

// SendTo pushes m to one device and returns its one result.
func (e *Env) SendTo(ctx context.Context, d *Phone, m serversim.Message) (serversim.SendResult, error) {
	m.SessionID, m.UserID, m.Device = d.SessionID(), "", ""
	res, err := e.Send(ctx, m)
	if err != nil {
		return serversim.SendResult{}, err
	}
	if len(res) != 1 {
		return serversim.SendResult{}, fmt.Errorf("send to %s: %d results, want 1", d.Name, len(res))
	}
	return res[0], nil
}

// Track adds traces sent by another server (a forger) to the accounting.
func (e *Env) Track(traces ...string) {
	e.mu.Lock()
	e.traces = append(e.traces, traces...)
	e.mu.Unlock()
}

// Inject hands del to d as its push service would, and marks the trace as
// re-delivered on purpose (a replay is not a duplicate delivery).
// Only a phone in this process takes one (the scenario keeps LocalDevices).
func (e *Env) Inject(d *Phone, del pushtest.Delivery, trace string) error {
	local, ok := d.Local()
	if !ok {
		return fmt.Errorf("inject into %s: %w", d.Name, errRemotePhone)
	}
	e.mu.Lock()
	if e.injected == nil {
		e.injected = map[string]bool{}
	}
	e.injected[trace] = true
	e.mu.Unlock()
	del.Stored = false
	local.Deliver(del)
	e.Fleet.Wait()
	return nil
}

// Traces are the ack ids this scenario sent.
func (e *Env) Traces() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.traces...)
}

// Provider names a mock.
type Provider string

const (
	APNs Provider = "apns"
	FCM  Provider = "fcm"
)

func (e *Env) control(p Provider) string {
	if p == FCM {
		return e.FCMControl
	}
	return e.APNsControl
}

// AddFault scripts a fault on a mock through its control API; it is removed
// when the scenario ends. Scope it to the scenario's device tokens so that
// parallel scenarios are not affected.
func (e *Env) AddFault(ctx context.Context, p Provider, f pushtest.Fault) error {
	var added pushtest.Fault
	if err := e.controlCall(ctx, http.MethodPost, e.control(p)+"/control/faults", f, http.StatusCreated, &added); err != nil {
		return fmt.Errorf("fault on %s: %w", p, err)
	}
	e.mu.Lock()
	e.faults = append(e.faults, faultRef{e.control(p), added.ID})
	e.mu.Unlock()
	return nil
}

func (e *Env) clearFaults() {
	e.mu.Lock()
	fs := e.faults
	e.faults = nil
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, f := range fs {
		// A Count fault removes itself once spent: 404 is fine.
		e.controlCall(ctx, http.MethodDelete, f.control+"/control/faults/"+url.PathEscape(f.id), nil, 0, nil)
	}
}

// Pending is what a mock stores for an offline device.
func (e *Env) Pending(ctx context.Context, d *Phone) ([]pushtest.Delivery, error) {
	p := APNs
	if d.App.Platform == devicesim.Android {
		p = FCM
	}
	var out []pushtest.Delivery
	err := e.controlCall(ctx, http.MethodGet, e.control(p)+"/control/devices/"+url.PathEscape(d.Token())+"/pending", nil, http.StatusOK, &out)
	return out, err
}

// controlCall calls a mock's control API, with the access token the
// topology's mocks require (if any).
func (e *Env) controlCall(ctx context.Context, method, u string, in any, want int, out any) error {
	c := e.ControlClient
	if c == nil {
		c = http.DefaultClient
	}
	return httpjson.Call(ctx, c, method, u, in, out, want)
}

// providerSaid reports whether the mock answered a request for d's token,
// or one carrying ackID, with reason, by its record of requests (GET
// /control/requests).
func (e *Env) providerSaid(d *Phone, ackID, reason string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var recs []pushtest.Request
	p := APNs
	if d.App.Platform == devicesim.Android {
		p = FCM
	}
	if err := e.controlCall(ctx, http.MethodGet, e.control(p)+"/control/requests", nil, http.StatusOK, &recs); err != nil {
		return false
	}
	for _, r := range recs {
		if r.Reason == reason && (r.Token == d.Token() || ackID != "" && strings.Contains(r.Body, ackID)) {
			return true
		}
	}
	return false
}

// collect waits until the scenario's traces have stopped growing for
// e.Settle (at most limit), then returns their events by trace.
func (e *Env) collect(ctx context.Context, limit time.Duration) map[string][]events.Event {
	want := map[string]bool{}
	for _, t := range e.Traces() {
		want[t] = true
	}
	snapshot := func() (map[string][]events.Event, int) {
		out := map[string][]events.Event{}
		n := 0
		for _, ev := range e.Bus.History() {
			if want[ev.TraceID] {
				out[ev.TraceID] = append(out[ev.TraceID], ev)
				n++
			}
		}
		return out, n
	}
	deadline := time.Now().Add(limit)
	got, n := snapshot()
	quietSince := time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if time.Since(quietSince) >= e.Settle && allAnswered(got, want) {
			break
		}
		time.Sleep(e.Settle / 5)
		var m int
		got, m = snapshot()
		if m != n {
			n, quietSince = m, time.Now()
		}
	}
	for _, evs := range got {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	}
	return got
}

func allAnswered(got map[string][]events.Event, want map[string]bool) bool {
	for t := range want {
		ok := false
		for _, ev := range got[t] {
			if ev.Hop == events.ServerAnswered {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
