package mockkit

import (
	"fmt"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/pushtest"
)

// Registry holds the tokens a mock has issued.
type Registry struct {
	newToken func() string
	now      func() time.Time

	mu     sync.RWMutex
	tokens map[string]*pushtest.Registration
}

// NewRegistry makes a registry minting tokens with newToken; now may be nil.
func NewRegistry(newToken func() string, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{newToken: newToken, now: now, tokens: map[string]*pushtest.Registration{}}
}

// Register issues a fresh token to the app, environment or project and
// device that req names; the registry sets the rest.
func (r *Registry) Register(req pushtest.Registration) pushtest.Registration {
	now := r.now()
	reg := &pushtest.Registration{Token: r.newToken(), App: req.App, Environment: req.Environment, Project: req.Project,
		Device: req.Device, RegisteredAt: now, Installed: true, LastActiveAt: now}
	r.mu.Lock()
	r.tokens[reg.Token] = reg
	r.mu.Unlock()
	return *reg
}

// Issue registers req, which the provider has checked, and publishes
// device.registered for it on bus (which may be nil), in the one shape both
// mocks report.
func (r *Registry) Issue(bus *events.Bus, actor string, req pushtest.Registration) pushtest.Registration {
	reg := r.Register(req)
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
	reg, ok := r.tokens[token]
	if !ok {
		return pushtest.Registration{}, false
	}
	return *reg, true
}

// Touch records that token's device was in touch with the provider now.
func (r *Registry) Touch(token string) {
	now := r.now()
	r.mu.Lock()
	if reg, ok := r.tokens[token]; ok && now.After(reg.LastActiveAt) {
		reg.LastActiveAt = now
	}
	r.mu.Unlock()
}

// Uninstall marks the app removed: its token is answered as dead from now on.
func (r *Registry) Uninstall(token string) (pushtest.Registration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.tokens[token]
	if !ok {
		return pushtest.Registration{}, false
	}
	if reg.Installed {
		reg.Installed = false
		reg.UninstalledAt = r.now()
	}
	return *reg, true
}

// List returns every registration (order unspecified).
func (r *Registry) List() []pushtest.Registration {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]pushtest.Registration, 0, len(r.tokens))
	for _, reg := range r.tokens {
		out = append(out, *reg)
	}
	return out
}

// Len is the number of tokens issued.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.tokens)
}
