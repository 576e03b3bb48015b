package mockkit

import "log/slog"

// Logger is the logger of a mock named actor: l (slog.Default() if nil),
// its records marked with the actor.
func Logger(l *slog.Logger, actor string) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return l.With("actor", actor)
}
