package devicesim

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/internal/workers"
)

// workerLinger is how long a fleet worker waits for another push before it
// ends: long enough to live from one push to the next under load, short
// enough that an idle fleet owns no goroutine a moment later.
const workerLinger = time.Second

// FleetConfig configures a set of simulated devices sharing one process.
type FleetConfig struct {
	// Server is the Mattermost server the apps are logged into.
	Server ServerLink
	// ServerID is the server_id the apps accept pushes from; "" takes the
	// one the server reports when a device attaches.
	ServerID string
	// Pinned are the server signing keys compiled into the apps, by kid.
	Pinned map[string]*ecdsa.PublicKey
	// APNs and FCM are the push services of iOS and Android devices; a
	// fleet may have only one.
	APNs, FCM Provider

	Bus    *events.Bus
	Logger *slog.Logger
	// Now is the true time; each device adds its own clock skew.
	Now func() time.Time
	// Keep is how many shown notifications each device remembers (default 8).
	Keep int
	// Rand feeds device keys; nil is crypto/rand.
	Rand io.Reader
	// Capacity is how many devices the fleet is sized for up front (0:
	// none), when a harness knows: its name index is then not grown, and
	// rehashed, step by step up to a million. It grows past it as needed.
	Capacity int
}

// Fleet holds simulated devices. Devices own no goroutines: a push is
// handled on one of the fleet's workers, which end when idle for a second,
// so an idle device costs only its memory.
type Fleet struct {
	cfg  FleetConfig
	deps *deps
	log  *slog.Logger

	mu     sync.RWMutex
	byName nameIndex
	order  []*Device
	apps   map[appKey]*App // the one copy of each app the devices share
}

// deps is what a fleet gives each of its devices at construction: the world
// around the phones, shared by all of them and never changed.
type deps struct {
	server   ServerLink
	serverID string // "": the one the session reports
	verifier *pushcrypto.Verifier
	now      func() time.Time // true time; a device adds its skew
	rand     io.Reader
	keep     int
	bus      *events.Bus
	busy     *inflight
	workers  *workers.Pool // handle pushes, keeping their grown stacks
	apns     Provider
	fcm      Provider
}

// inflight counts the pushes being handled. Not a WaitGroup: pushes arrive
// at any time, also while someone waits, which a WaitGroup forbids.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func newInflight() *inflight {
	b := &inflight{}
	b.idle = sync.NewCond(&b.mu)
	return b
}

func (b *inflight) begin() {
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
}

func (b *inflight) end() {
	b.mu.Lock()
	b.n--
	if b.n == 0 {
		b.idle.Broadcast()
	}
	b.mu.Unlock()
}

func (b *inflight) wait() {
	b.mu.Lock()
	for b.n > 0 {
		b.idle.Wait()
	}
	b.mu.Unlock()
}

// NewFleet checks cfg and returns an empty fleet.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.Server == nil {
		return nil, errors.New("devicesim: fleet needs a Server link")
	}
	if cfg.APNs == nil && cfg.FCM == nil {
		return nil, errors.New("devicesim: fleet needs an APNs or FCM provider")
	}
	v, err := pushcrypto.NewVerifier(cfg.Pinned)
	if err != nil {
		return nil, fmt.Errorf("devicesim: pinned keys: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &deps{server: cfg.Server, serverID: cfg.ServerID, verifier: v, now: cfg.Now, rand: cfg.Rand,
		keep: cfg.Keep, bus: cfg.Bus, busy: newInflight(), workers: workers.New(workerLinger, deviceLabels),
		apns: cfg.APNs, fcm: cfg.FCM}
	return &Fleet{cfg: cfg, deps: d, log: cfg.Logger, byName: newNameIndex(cfg.Capacity), order: make([]*Device, 0, cfg.Capacity), apps: map[appKey]*App{}}, nil
}

// ErrDuplicateName: a fleet's device names are unique.
var ErrDuplicateName = errors.New("devicesim: device name already in use")

// Add creates a device with app installed for user: it registers with its
// push service for a token, connects, and attaches to the user's session on
// the server with its public content key.
func (f *Fleet) Add(ctx context.Context, name, user string, app App) (*Device, error) {
	d, err := f.New(name, user, app)
	if err != nil {
		return nil, err
	}
	if err := d.Install(ctx); err != nil {
		return d, err
	}
	return d, nil
}

// New creates a device without installing the app (see Device.Install).
func (f *Fleet) New(name, user string, app App) (*Device, error) {
	if err := app.Validate(); err != nil {
		return nil, err
	}
	if f.provider(app) == nil {
		return nil, fmt.Errorf("devicesim: no provider for %s devices", app.Platform)
	}
	d := &Device{Name: name, User: user, deps: f.deps, badge: -1}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.byName.add(name, len(f.order), f.order) {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	d.App = f.shared(app)
	f.order = append(f.order, d)
	return d, nil
}

// nameIndex finds a device's index in the fleet's order by its name. It
// keys a map by a hash of the name, not by the name: a map without
// pointers, which the garbage collector need not visit in every cycle, and
// two thirds the size, in a fleet of a million. A name whose hash an
// earlier one has (about once in ten million fleets of a million) is kept
// whole in collided.
type nameIndex struct {
	hash     func(string) uint64
	byHash   map[uint64]int
	collided map[string]int
}

func newNameIndex(capacity int) nameIndex {
	seed := maphash.MakeSeed()
	return nameIndex{hash: func(name string) uint64 { return maphash.String(seed, name) },
		byHash: make(map[uint64]int, capacity), collided: map[string]int{}}
}

// find is the index of the device named name in order.
func (x nameIndex) find(name string, order []*Device) (int, bool) {
	i, ok := x.byHash[x.hash(name)]
	if !ok || order[i].Name == name {
		return i, ok
	}
	i, ok = x.collided[name]
	return i, ok
}

// add indexes name at i, the next index in order, unless a device has it:
// then it returns false.
func (x nameIndex) add(name string, i int, order []*Device) bool {
	h := x.hash(name)
	j, taken := x.byHash[h]
	switch {
	case !taken:
		x.byHash[h] = i
	case order[j].Name == name:
		return false
	default:
		if _, dup := x.collided[name]; dup {
			return false
		}
		x.collided[name] = i
	}
	return true
}

// shared is the fleet's copy of app, made the first time a device has it;
// f.mu is held.
func (f *Fleet) shared(app App) *App {
	k := keyOf(app)
	if a, ok := f.apps[k]; ok {
		return a
	}
	a := new(App) // not &app: that would put every caller's app on the heap
	*a = app
	a.ActivityTypes = slices.Clone(app.ActivityTypes) // the caller's slice may change
	f.apps[k] = a
	return a
}

// appKey is an App as a map key, its list of activity types as one string
// (a field added to App must be added here: TestAppKeyCoversApp).
type appKey struct {
	name, proxyType, teamID, bundleID string
	platform                          Platform
	env                               string
	liveActivities                    bool
	activityTypes                     string
	pkg, projectID, projectNumber, id string
}

func keyOf(a App) appKey {
	types := strings.Join(a.ActivityTypes, "\x00")
	if len(a.ActivityTypes) > 0 {
		types += "\x00" // [""] is not []
	}
	return appKey{name: a.Name, proxyType: a.ProxyType, teamID: a.TeamID, bundleID: a.BundleID, platform: a.Platform,
		env: string(a.Environment), liveActivities: a.LiveActivities, activityTypes: types,
		pkg: a.Package, projectID: a.ProjectID, projectNumber: a.ProjectNumber, id: a.AppID}
}

func (f *Fleet) provider(app App) Provider {
	if app.Platform == IOS {
		return f.cfg.APNs
	}
	return f.cfg.FCM
}

// Device finds a device by name.
func (f *Fleet) Device(name string) (*Device, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	i, ok := f.byName.find(name, f.order)
	if !ok {
		return nil, false
	}
	return f.order[i], true
}

// Devices lists the devices in the order they were added.
func (f *Fleet) Devices() []*Device {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return slices.Clone(f.order)
}

// Len is the number of devices.
func (f *Fleet) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.order)
}

// Wait returns once no push is being handled. In-process a push is handed
// to its device before the mock answers the proxy, so after the server's
// Send returns, Wait covers everything the push caused on the device.
func (f *Fleet) Wait() { f.deps.busy.wait() }

// Close takes every device offline and waits for pushes in flight.
func (f *Fleet) Close() {
	for _, d := range f.Devices() {
		d.GoOffline()
	}
	f.Wait()
}
