package devicesim

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnknownAction names an action Act does not know.
var ErrUnknownAction = errors.New("devicesim: unknown device action (online, offline, uninstall, reinstall)")

// Act does what a tester does to a phone, by name: "online", "offline",
// "uninstall" or "reinstall" (the fleet's control API and the web view).
func (d *Device) Act(ctx context.Context, action string) error {
	switch action {
	case "online":
		return d.GoOnline()
	case "offline":
		return d.GoOffline()
	case "uninstall":
		return d.Uninstall(ctx)
	case "reinstall":
		return d.Reinstall(ctx)
	}
	return fmt.Errorf("%w: %q", ErrUnknownAction, action)
}
