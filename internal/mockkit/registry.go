package mockkit

import (
	"fmt"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// Registry holds the tokens a mock has issued. A mock may hold a million of
// them, so a token costs one map entry of a few words besides its own bytes
// (see tokenMap): what many tokens share (app, environment, project) is kept
// once as a scope, times are Unix nanoseconds, and the rare uninstall time
// lives apart.
type Registry struct {
	newToken func() string
	now      func() time.Time

	mu          sync.RWMutex
	tokens      tokenMap[entry]
	devices     []string // by entry.device
	scopes      []scope
	scopeIDs    map[scope]uint32
	uninstalled map[string]time.Time
	tracked     bool // a hub keeps its tokens' online state here (Hub.Track)
}

// scope is what the tokens of one app in one environment or project share.
type scope struct {
	app     string
	env     testpki.Environment
	project string
}

// entry is one token's state (its token is the map key). A token is
// installed until it is in uninstalled. It holds no pointer, so that the
// garbage collector need not visit a million of them in every cycle: the
// device's name is an index.
type entry struct {
	registeredAt int64 // Unix nanoseconds; 0 is the zero time
	lastActiveAt int64
	device       uint32 // index into Registry.devices
	scope        uint32
	// online is the slot of the token's receiver at the hub that keeps its
	// online state here (see Hub.Track); 0: offline. A field of the entry
	// rather than an entry in a second map of a million tokens.
	online uint32
}

// unixNano and fromUnixNano keep a time in a word; the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// NewRegistry makes a registry minting tokens with newToken; now may be nil.
func NewRegistry(newToken func() string, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{newToken: newToken, now: now, tokens: newTokenMap[entry](), scopeIDs: map[scope]uint32{},
		uninstalled: map[string]time.Time{}}
}

// registration is e as the mocks hand it out; r.mu is held.
func (r *Registry) registration(token string, e entry) pushtest.Registration {
	sc := r.scopes[e.scope]
	uninstalledAt, uninstalled := r.uninstalled[token]
	return pushtest.Registration{Token: token, App: sc.app, Environment: sc.env, Project: sc.project, Device: r.devices[e.device],
		RegisteredAt: fromUnixNano(e.registeredAt), Installed: !uninstalled, UninstalledAt: uninstalledAt,
		LastActiveAt: fromUnixNano(e.lastActiveAt)}
}

// Register issues a fresh token to the app, environment or project and
// device that req names; the registry sets the rest.
func (r *Registry) Register(req pushtest.Registration) pushtest.Registration {
	at := r.now()
	now := unixNano(at)
	token := r.newToken()
	sc := scope{app: req.App, env: req.Environment, project: req.Project}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.scopeIDs[sc]
	if !ok {
		id = uint32(len(r.scopes))
		r.scopes = append(r.scopes, sc)
		r.scopeIDs[sc] = id
	}
	e := entry{device: uint32(len(r.devices)), registeredAt: now, lastActiveAt: now, scope: id}
	if old, ok := r.tokens.get(token); ok {
		// A token minted again keeps its online slot: whether a receiver
		// is attached to the token is the hub's to say, not the
		// registration's (and a slot dropped here would never be freed).
		e.online = old.online
	}
	r.devices = append(r.devices, req.Device)
	r.tokens.put(token, e)
	if len(r.uninstalled) > 0 { // a token minted again is a fresh install: no mark of the old one stays
		delete(r.uninstalled, token)
	}
	reg := r.registration(token, e)
	reg.RegisteredAt, reg.LastActiveAt = at, at // as the clock told it
	return reg
}

// Issue registers req, which the provider has checked, and publishes
// device.registered for it on bus (which may be nil), in the one shape both
// mocks report.
func (r *Registry) Issue(bus *events.Bus, actor string, req pushtest.Registration) pushtest.Registration {
	reg := r.Register(req)
	if bus == nil {
		return reg // no event to build: a million registrations leave no garbage of one
	}
	attrs := map[string]string{"token": events.RedactToken(reg.Token), "app": reg.App, "device": reg.Device}
	where := "project " + reg.Project
	if reg.Project != "" {
		attrs["project"] = reg.Project
	} else {
		attrs["env"] = string(reg.Environment)
		where = string(reg.Environment)
	}
	bus.Publish(events.Event{Hop: events.DeviceRegistered, Actor: actor, Status: "registered",
		Detail: fmt.Sprintf("token issued to %s (%s) on %s", reg.App, where, reg.Device), Attrs: attrs})
	return reg
}

// Lookup finds a token.
func (r *Registry) Lookup(token string) (pushtest.Registration, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.tokens.get(token)
	if !ok {
		return pushtest.Registration{}, false
	}
	return r.registration(token, e), true
}

// Touch records that token's device was in touch with the provider now.
func (r *Registry) Touch(token string) {
	now := unixNano(r.now())
	r.mu.Lock()
	if e, ok := r.tokens.get(token); ok && now > e.lastActiveAt {
		e.lastActiveAt = now
		r.tokens.put(token, e)
	}
	r.mu.Unlock()
}

// Uninstall marks the app removed: its token is answered as dead from now on.
func (r *Registry) Uninstall(token string) (pushtest.Registration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.tokens.get(token)
	if !ok {
		return pushtest.Registration{}, false
	}
	if _, gone := r.uninstalled[token]; !gone {
		r.uninstalled[token] = r.now()
	}
	return r.registration(token, e), true
}

// List returns every registration (order unspecified).
func (r *Registry) List() []pushtest.Registration {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]pushtest.Registration, 0, r.tokens.len())
	for token, e := range r.tokens.all() {
		out = append(out, r.registration(token, e))
	}
	return out
}

// Len is the number of tokens issued.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tokens.len()
}

// onlineSlot is the hub slot token is online in (0: offline); issued is
// false for a token r never issued.
func (r *Registry) onlineSlot(token string) (slot uint32, issued bool) {
	r.mu.RLock()
	e, issued := r.tokens.get(token)
	r.mu.RUnlock()
	return e.online, issued
}

// onlineIn returns the slot token is online in, recording the one take
// gives if it has none; issued is false, and nothing is taken, for a token
// r never issued.
func (r *Registry) onlineIn(token string, take func() uint32) (slot uint32, issued bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, issued := r.tokens.get(token)
	if !issued || e.online != 0 {
		return e.online, issued
	}
	e.online = take()
	r.tokens.put(token, e)
	return e.online, true
}

// setOffline records that token is offline and returns the slot it had;
// issued is false for a token r never issued.
func (r *Registry) setOffline(token string) (old uint32, issued bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, issued := r.tokens.get(token)
	if !issued || e.online == 0 {
		return 0, issued
	}
	old, e.online = e.online, 0
	r.tokens.put(token, e)
	return old, true
}

// clearOnlineSlots takes offline every token whose slot gone reports.
func (r *Registry) clearOnlineSlots(gone func(slot uint32) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens.update(func(e entry) (entry, bool) {
		if e.online == 0 || !gone(e.online) {
			return e, false
		}
		e.online = 0
		return e, true
	})
}
