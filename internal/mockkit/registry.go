package mockkit

import (
	"sync"
	"time"
)

// Registration is a device token the provider issued to an app on a device.
type Registration struct {
	Token string `json:"token"`
	// App is the bundle id (APNs) or package name (FCM).
	App string `json:"app"`
	// Env is the APNs environment ("development"/"production"), or the
	// Firebase project id for FCM.
	Env           string    `json:"env"`
	Device        string    `json:"device,omitempty"` // who asked, for timelines
	RegisteredAt  time.Time `json:"registered_at"`
	Installed     bool      `json:"installed"`
	UninstalledAt time.Time `json:"uninstalled_at,omitzero"`
	// LastActiveAt is when the device last connected to the provider (it
	// registered, came online, or took a delivery): FCM expires Android
	// tokens inactive for 270 days.
	LastActiveAt time.Time `json:"last_active_at,omitzero"`
}

// Registry holds the tokens a mock has issued.
type Registry struct {
	newToken func() string
	now      func() time.Time

	mu     sync.RWMutex
	tokens map[string]*Registration
}

// NewRegistry makes a registry minting tokens with newToken; now may be nil.
func NewRegistry(newToken func() string, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{newToken: newToken, now: now, tokens: map[string]*Registration{}}
}

// Register issues a fresh token for app in env.
func (r *Registry) Register(app, env, device string) Registration {
	now := r.now()
	reg := &Registration{Token: r.newToken(), App: app, Env: env, Device: device, RegisteredAt: now, Installed: true, LastActiveAt: now}
	r.mu.Lock()
	r.tokens[reg.Token] = reg
	r.mu.Unlock()
	return *reg
}

// Lookup finds a token.
func (r *Registry) Lookup(token string) (Registration, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.tokens[token]
	if !ok {
		return Registration{}, false
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
func (r *Registry) Uninstall(token string) (Registration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.tokens[token]
	if !ok {
		return Registration{}, false
	}
	if reg.Installed {
		reg.Installed = false
		reg.UninstalledAt = r.now()
	}
	return *reg, true
}

// List returns every registration (order unspecified).
func (r *Registry) List() []Registration {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Registration, 0, len(r.tokens))
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
