package devicesim

import (
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/pushtest"
)

// hubProvider is an in-process provider over a bare mockkit Hub and
// Registry, for tests of devices without a mock server.
func hubProvider(hub *mockkit.Hub, reg *mockkit.Registry) *InProcess {
	return &InProcess{
		RegisterFunc: func(app App, device string) (pushtest.Registration, error) {
			return reg.Register(pushtest.Registration{App: app.ID(), Environment: app.Environment, Project: app.ProjectID, Device: device}), nil
		},
		AttachFunc: hub.Attach, DetachFunc: hub.Detach,
		UninstallFunc: func(token string) error {
			if err := uninstaller(reg.Uninstall)(token); err != nil {
				return err
			}
			hub.Forget(token)
			return nil
		},
	}
}
