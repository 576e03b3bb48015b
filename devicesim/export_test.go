package devicesim

// FleetKeep is how many shown notifications each of f's devices keeps.
func FleetKeep(f *Fleet) int { return f.deps.keep }
