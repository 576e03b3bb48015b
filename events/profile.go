package events

import (
	"context"
	"runtime/pprof"
)

// ProfileLabel is the pprof label naming the actor a goroutine works for, so
// a CPU profile of actors sharing a process (the lab, bench) splits by actor.
// Its values are the actors' names on the spine ("proxy", "mockapns",
// "mockfcm", "server"), and "devices" for simulated devices.
const ProfileLabel = "actor"

// AsActor runs f on this goroutine labelled as actor; goroutines f starts
// (servers, connections, handlers) inherit the label.
func AsActor(actor string, f func()) {
	pprof.Do(context.Background(), pprof.Labels(ProfileLabel, actor), func(context.Context) { f() })
}

// ActorContext is a context carrying actor's label, for
// pprof.SetGoroutineLabels on goroutines started outside the actor's own.
func ActorContext(actor string) context.Context {
	return pprof.WithLabels(context.Background(), pprof.Labels(ProfileLabel, actor))
}
