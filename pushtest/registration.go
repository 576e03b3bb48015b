package pushtest

import (
	"encoding/json"
	"time"

	"github.com/pushlab/pushlab/testpki"
)

// Registration is a device token a mock issued to an app on a device.
type Registration struct {
	Token string `json:"token"`
	// App is the bundle id (APNs) or the package name (FCM).
	App string `json:"app"`
	// Environment is an APNs token's environment (empty for FCM).
	Environment testpki.Environment `json:"environment,omitempty"`
	// Project is an FCM token's Firebase project id (empty for APNs).
	Project       string    `json:"project,omitempty"`
	Device        string    `json:"device,omitempty"` // who asked, for timelines
	RegisteredAt  time.Time `json:"registered_at"`
	Installed     bool      `json:"installed"`
	UninstalledAt time.Time `json:"uninstalled_at,omitzero"`
	// LastActiveAt is when the device last connected to the provider (it
	// registered, came online, or took a delivery): FCM expires Android
	// tokens inactive for 270 days.
	LastActiveAt time.Time `json:"last_active_at,omitzero"`
}

// MarshalJSON writes r with "env" besides its own fields: the environment
// or the project, the one name both mocks' control APIs used before, kept
// for their clients.
func (r Registration) MarshalJSON() ([]byte, error) {
	type fields Registration // without this method
	env := string(r.Environment)
	if env == "" {
		env = r.Project
	}
	return json.Marshal(struct {
		fields
		Env string `json:"env,omitempty"`
	}{fields(r), env})
}
