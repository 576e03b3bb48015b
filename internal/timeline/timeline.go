// Package timeline prints the event spine as a per-notification timeline
// for a terminal: one block per trace (ack_id), one line per hop with its
// offset from the first, the actor, the status and the detail.
package timeline

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pushlab/pushlab/events"
)

// Trace is the events of one notification, in bus order.
type Trace struct {
	ID     string
	Events []events.Event
}

// Group splits evs by TraceID, traces ordered by their first event; events
// without a trace are left out.
func Group(evs []events.Event) []Trace {
	idx := map[string]int{}
	var out []Trace
	for _, e := range evs {
		if e.TraceID == "" {
			continue
		}
		i, ok := idx[e.TraceID]
		if !ok {
			i = len(out)
			idx[e.TraceID] = i
			out = append(out, Trace{ID: e.TraceID})
		}
		out[i].Events = append(out[i].Events, e)
	}
	return out
}

// Options tune Write.
type Options struct {
	// Width cuts each detail to fit (0: 160 columns in all).
	Width int
}

// Write prints every trace in evs.
func Write(w io.Writer, evs []events.Event, opts Options) error {
	for _, t := range Group(evs) {
		if err := WriteTrace(w, t, opts); err != nil {
			return err
		}
	}
	return nil
}

// WriteTrace prints one trace:
//
//	notification 3kq9… (PLAINTEXT)
//	  +   0.0ms  server          server.sent                    message to ios-1 …
//	  +  12.4ms  proxy           proxy.received                 …
func WriteTrace(w io.Writer, t Trace, opts Options) error {
	if len(t.Events) == 0 {
		return nil
	}
	width := opts.Width
	if width <= 0 {
		width = 160
	}
	plain := false
	for _, e := range t.Events {
		plain = plain || e.Plaintext
	}
	head := "notification " + t.ID
	if plain {
		head += "  ⚠ PLAINTEXT: contents travelled unencrypted"
	}
	if _, err := fmt.Fprintln(w, head); err != nil {
		return err
	}
	// By time, not by arrival: an actor may report a hop when it learns
	// its outcome (the server's send is stamped when it began).
	evs := slices.Clone(t.Events)
	slices.SortStableFunc(evs, func(a, b events.Event) int { return a.At.Compare(b.At) })
	actorW := 8
	for _, e := range evs {
		actorW = max(actorW, len(e.Actor))
	}
	start := evs[0].At
	for _, e := range evs {
		line := fmt.Sprintf("  +%8s  %-*s %-22s %-12s ", offset(e.At.Sub(start)), actorW, e.Actor, e.Hop, e.Status)
		detail := strings.ReplaceAll(e.Detail, "\n", " ")
		if room := width - len([]rune(line)); room > 1 && len([]rune(detail)) > room {
			detail = string([]rune(detail)[:room-1]) + "…"
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(line+detail, " ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func offset(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}
