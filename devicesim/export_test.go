package devicesim

import "github.com/pushlab/pushlab/internal/pushcrypto"

// FleetKeep is how many shown notifications each of f's devices keeps.
func FleetKeep(f *Fleet) int { return f.deps.keep }

// ContentKeyOf is the key that opens what is sealed to d.
func ContentKeyOf(d *Device) *pushcrypto.DeviceKey {
	d.mu.Lock()
	secret := d.key
	d.mu.Unlock()
	k, _ := secret.deviceKey()
	return k
}
