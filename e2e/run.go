package e2e

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// Result is one scenario in one topology.
type Result struct {
	Scenario string        `json:"scenario"`
	Topology Topology      `json:"topology"`
	Doc      string        `json:"doc,omitempty"`
	Passed   bool          `json:"passed"`
	Skipped  string        `json:"skipped,omitempty"` // why, when skipped
	Duration time.Duration `json:"duration_ns"`
	// Failures are the broken expectations and accounting rules, one
	// sentence each.
	Failures   []string   `json:"failures,omitempty"`
	Accounting Accounting `json:"accounting"`
	// Timelines are the failing notifications' events, by ack id.
	Timelines map[string]string `json:"timelines,omitempty"`
	// Events is every event of the scenario, kept for artifacts on failure.
	Events []events.Event `json:"-"`
}

// Failure is the failure text a report shows: the broken rules, then the
// failing notifications' timelines.
func (r Result) Failure() string {
	var b strings.Builder
	for _, f := range r.Failures {
		b.WriteString("- " + f + "\n")
	}
	ids := make([]string, 0, len(r.Timelines))
	for id := range r.Timelines {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "\ntimeline of %s:\n%s", id, r.Timelines[id])
	}
	return b.String()
}

// RunOptions tune a run.
type RunOptions struct {
	// Parallel is how many independent scenarios run at once (default 4).
	Parallel int
	// Short skips Heavy scenarios.
	Short bool
	// Progress, if set, is called as each scenario finishes.
	Progress func(Result)
}

// Run plays the scenarios on dep: the independent ones in parallel, the
// exclusive ones alone afterwards. Results are in the scenarios' order.
func Run(ctx context.Context, dep Deployment, scenarios []Scenario, opts RunOptions) []Result {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	results := make([]Result, len(scenarios))
	var mu sync.Mutex
	done := func(i int, r Result) {
		mu.Lock()
		results[i] = r
		if opts.Progress != nil {
			opts.Progress(r)
		}
		mu.Unlock()
	}
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	var exclusive []int
	for i, s := range scenarios {
		switch {
		case !s.Runs(dep.Topology()):
			done(i, Result{Scenario: s.Name, Topology: dep.Topology(), Doc: s.Doc, Passed: true, Skipped: "runs in the " + string(s.Only) + " topology only"})
		case s.Heavy && opts.Short:
			done(i, Result{Scenario: s.Name, Topology: dep.Topology(), Doc: s.Doc, Passed: true, Skipped: "heavy (short run)"})
		case s.Exclusive:
			exclusive = append(exclusive, i)
		default:
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				done(i, RunOne(ctx, dep, s))
			}()
		}
	}
	wg.Wait()
	for _, i := range exclusive {
		done(i, RunOne(ctx, dep, scenarios[i]))
	}
	return results
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// RunOne plays one scenario on its own Env and checks its expectations and
// the accounting invariant.
func RunOne(ctx context.Context, dep Deployment, s Scenario) (r Result) {
	start := time.Now()
	r = Result{Scenario: s.Name, Topology: dep.Topology(), Doc: s.Doc}
	defer func() {
		if p := recover(); p != nil {
			r.Failures = append(r.Failures, fmt.Sprintf("scenario panicked: %v", p))
		}
		r.Passed = len(r.Failures) == 0
		r.Duration = time.Since(start)
	}()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if s.Contents == "" {
		s.Contents = serversim.ContentsFull
	}
	env, err := dep.NewEnv(ctx, EnvOptions{Prefix: unsafeName.ReplaceAllString(s.Name, "-") + "-", Contents: s.Contents, Profile: s.Profile,
		LocalDevices: s.LocalDevices != ""})
	if err != nil {
		r.Failures = append(r.Failures, "set up: "+err.Error())
		return r
	}
	defer env.close()
	failures, err := s.run(ctx, env)
	if err != nil {
		failures = append(failures, err.Error())
	}
	got := env.collect(ctx, collectLimit)
	env.mu.Lock()
	injected := env.injected
	env.mu.Unlock()
	r.Accounting = Account(got, injected, s.AcksMayFail)
	for _, v := range r.Accounting.Violations {
		failures = append(failures, fmt.Sprintf("accounting: %s: %s", orWhole(v.Trace), v.Rule))
	}
	r.Failures = failures
	if len(failures) > 0 {
		r.Timelines = map[string]string{}
		for id, tr := range got {
			if mentioned(failures, id) {
				r.Timelines[id] = Timeline(tr)
			}
		}
		ids := env.Traces()
		if len(r.Timelines) == 0 && len(ids) > 0 && len(ids) <= 8 {
			for _, id := range ids {
				r.Timelines[id] = Timeline(got[id])
			}
		}
		for _, id := range ids {
			r.Events = append(r.Events, got[id]...)
		}
	}
	return r
}

func orWhole(trace string) string {
	if trace == "" {
		return "the scenario"
	}
	return trace
}

func mentioned(failures []string, id string) bool {
	for _, f := range failures {
		if strings.Contains(f, id) {
			return true
		}
	}
	return false
}
