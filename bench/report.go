package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Schema names the version of Report's JSON form; a field is only ever added
// under the same name.
const Schema = "pushlab.bench/v1"

// Report is what a run measured. Its JSON form (WriteJSON) is stable: see Schema.
type Report struct {
	Schema  string    `json:"schema"`
	Started time.Time `json:"started"`
	Setup   Setup     `json:"setup"`
	// Seconds is how long load was offered.
	Seconds    float64    `json:"seconds"`
	Throughput Throughput `json:"throughput"`
	Accounting Accounting `json:"accounting"`
	Stages     []Stage    `json:"stages"`
	Errors     Errors     `json:"errors"`
	CPU        CPU        `json:"cpu"`
	Timeline   []Second   `json:"timeline"`
	Ramp       []RampStep `json:"ramp,omitempty"`
	// MaxSustainedRate is the ramp's answer: the highest offered rate whose
	// step kept p99 end to end under the bound and lost nothing (0: none).
	MaxSustainedRate float64    `json:"max_sustained_rate,omitempty"`
	Baselines        []Baseline `json:"baselines,omitempty"`
	Ratios           []Ratio    `json:"ratios,omitempty"`
	// Floor is the full pipeline's least CPU per notification on this
	// machine, from the baselines (nil without them).
	Floor *Floor `json:"floor,omitempty"`
	// Notes are caveats a reader must know (events missed, noisy machine).
	Notes []string `json:"notes,omitempty"`
}

// Setup echoes what was driven and how.
type Setup struct {
	Target      string   `json:"target"` // "in-process" or the proxy URL
	Mode        string   `json:"mode"`
	Devices     int      `json:"devices"`
	IOSShare    float64  `json:"ios_share"`
	Contents    string   `json:"contents"`
	Profile     string   `json:"profile"`
	Rate        float64  `json:"rate"`
	Concurrency int      `json:"concurrency"`
	Duration    string   `json:"duration"`
	Total       int      `json:"total"`
	Faults      []string `json:"faults"`
	GOMAXPROCS  int      `json:"gomaxprocs"`
	CPUs        int      `json:"cpus"`
}

// Throughput is notifications a second over the load phase.
type Throughput struct {
	Sent      float64 `json:"sent_per_sec"`
	Delivered float64 `json:"delivered_per_sec"`
}

// Accounting: every notification sent is delivered (shown on its device),
// a reported failure (the proxy answered REMOVE or FAIL) or lost.
// Sent == Delivered + Failed + Lost always holds.
type Accounting struct {
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Lost      int `json:"lost"`
	// Duplicated: shown more than once. Redelivered: handed to the device
	// more than once (the device may have suppressed the copy).
	Duplicated  int `json:"duplicated"`
	Redelivered int `json:"redelivered"`
	// ReportedFailedButShown: the proxy said FAIL yet the device showed it
	// (counted in Delivered).
	ReportedFailedButShown int `json:"reported_failed_but_shown"`
	// EventsMissed: spine events the bench's reader could not keep up with;
	// non-zero makes every figure above a lower bound.
	EventsMissed uint64 `json:"events_missed"`
}

// Balanced reports whether the accounting adds up.
func (a Accounting) Balanced() bool { return a.Sent == a.Delivered+a.Failed+a.Lost }

// Stage is the latency of one stage of the path, in milliseconds.
type Stage struct {
	Name      string   `json:"name"`
	Count     int64    `json:"count"`
	Mean      float64  `json:"mean_ms"`
	P50       float64  `json:"p50_ms"`
	P90       float64  `json:"p90_ms"`
	P99       float64  `json:"p99_ms"`
	P999      float64  `json:"p999_ms"`
	Max       float64  `json:"max_ms"`
	Histogram []Bucket `json:"histogram"`
}

// Bucket counts latencies up to UpToMs (from the previous bucket's bound).
type Bucket struct {
	UpToMs float64 `json:"up_to_ms"`
	Count  int64   `json:"count"`
}

// Errors: what the providers answered other than success, the proxy's
// verdicts, and how many scripted faults fired.
type Errors struct {
	ProviderReasons []Count `json:"provider_reasons"`
	ProxyVerdicts   []Count `json:"proxy_verdicts"`
	// FailureReasons: why the server got a verdict other than OK.
	FailureReasons []Count `json:"failure_reasons"`
	FaultsInjected int     `json:"faults_injected"`
}

// Count is a named tally.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// CPU is the CPU time the run cost, per notification delivered.
type CPU struct {
	Seconds               float64 `json:"seconds"`
	CoresBusy             float64 `json:"cores_busy"`
	MicrosPerNotification float64 `json:"us_per_notification"`
	// ByActor splits MicrosPerNotification by the pprof actor label; an
	// actor in another process (Separate) has its own process CPU time.
	ByActor []ActorCPU `json:"by_actor"`
	// MutexWaitSeconds is how long goroutines of this process waited for
	// a sync.Mutex in all (a lock serialising the pipeline shows here);
	// GCSeconds the CPU the garbage collector used (estimated by the runtime).
	MutexWaitSeconds float64 `json:"mutex_wait_seconds"`
	GCSeconds        float64 `json:"gc_seconds"`
	SeparateSeconds  float64 `json:"separate_seconds,omitempty"`
}

// ActorCPU is one actor's CPU per notification.
type ActorCPU struct {
	Actor                 string  `json:"actor"`
	MicrosPerNotification float64 `json:"us_per_notification"`
	Share                 float64 `json:"share"`
	Separate              bool    `json:"separate_process,omitempty"`
}

// Second is one second of the load phase.
type Second struct {
	At        int `json:"t"`
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// RampStep is one rate the ramp offered.
type RampStep struct {
	Rate      float64 `json:"offered_rate"`
	Delivered float64 `json:"delivered_per_sec"`
	P99       float64 `json:"p99_ms"`
	Lost      int     `json:"lost"`
	Pass      bool    `json:"pass"`
	Why       string  `json:"why,omitempty"`
}

// Baseline is a reference measured in the same run.
type Baseline struct {
	Name string `json:"name"`
	// PerSec is operations a second; MicrosPerOp the CPU of the measured
	// side (server or client, see Side) per operation.
	PerSec      float64 `json:"per_sec"`
	MicrosPerOp float64 `json:"us_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op,omitempty"`
	Side        string  `json:"side"`
}

// Ratio compares pushlab with its baseline, as the targets of the README do.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Met    bool    `json:"met"`
}

// Floor is the least CPU a notification of the full pipeline can cost,
// from baselines of the same run: its four EC operations (seal and sign on
// the server, verify and open on the phone) with bare stdlib calls, and its
// four HTTP/2+TLS request/answer exchanges (send_push, the provider push,
// the phone's ack to the server, the server's ack to the proxy) between
// bare clients and bare handlers: what a pipeline with no work of its own
// would spend.
type Floor struct {
	MicrosPerNotification float64 `json:"us_per_notification"`
	CryptoMicros          float64 `json:"crypto_us"`
	ExchangesMicros       float64 `json:"exchanges_us"`
	// MaxPerSec is what this process's cores (GOMAXPROCS) carry at the floor.
	MaxPerSec float64 `json:"max_per_sec"`
	// PipelineRatio is the load phase's CPU per notification over the
	// floor; 0 when the load was not the whole pipeline in this process.
	PipelineRatio float64 `json:"pipeline_ratio,omitempty"`
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as tables for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	s := r.Setup
	fmt.Fprintf(w, "pushlab bench: %s, mode %s, %d devices (%.0f%% iOS), contents %s, profile %s\n",
		s.Target, s.Mode, s.Devices, s.IOSShare*100, s.Contents, s.Profile)
	load := fmt.Sprintf("closed loop, %d senders", s.Concurrency)
	if s.Rate > 0 {
		load = fmt.Sprintf("open loop at %.0f/s", s.Rate)
	}
	fmt.Fprintf(w, "load: %s for %.1fs; faults: %s; %d CPUs, GOMAXPROCS %d\n\n", load, r.Seconds, orNone(s.Faults), s.CPUs, s.GOMAXPROCS)
	a := r.Accounting
	fmt.Fprintf(w, "throughput  %.0f delivered/s (%.0f sent/s)\n", r.Throughput.Delivered, r.Throughput.Sent)
	fmt.Fprintf(w, "accounting  sent %d = delivered %d + failed %d + lost %d; duplicated %d, redelivered %d",
		a.Sent, a.Delivered, a.Failed, a.Lost, a.Duplicated, a.Redelivered)
	if !a.Balanced() {
		fmt.Fprint(w, "  (DOES NOT ADD UP)")
	}
	fmt.Fprintln(w)
	if a.EventsMissed > 0 {
		fmt.Fprintf(w, "            %d spine events missed: figures are lower bounds\n", a.EventsMissed)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "%-26s %8s %9s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max")
	for _, st := range r.Stages {
		fmt.Fprintf(w, "%-26s %8d %9.2f %9.2f %9.2f %9.2f %9.2f\n", st.Name, st.Count, st.P50, st.P90, st.P99, st.P999, st.Max)
	}
	c := r.CPU
	fmt.Fprintf(w, "\n%-26s %8s %11s\n", "CPU per notification", "µs", "share")
	for _, x := range c.ByActor {
		share := fmt.Sprintf("%.0f%%", x.Share*100)
		if x.Separate {
			share = "own process"
		}
		fmt.Fprintf(w, "%-26s %8.0f %11s\n", x.Actor, x.MicrosPerNotification, share)
	}
	fmt.Fprintf(w, "%-26s %8.0f %11s\n", "all (this process)", c.MicrosPerNotification, fmt.Sprintf("%.2f cores", c.CoresBusy))
	if r.Seconds > 0 {
		fmt.Fprintf(w, "GC %.0f%% of the CPU; goroutines waited %.3f s for locks per second of load\n",
			100*c.GCSeconds/math.Max(c.Seconds, 1e-9), c.MutexWaitSeconds/r.Seconds)
	}

	e := r.Errors
	if len(e.ProviderReasons)+len(e.ProxyVerdicts) > 0 || e.FaultsInjected > 0 {
		fmt.Fprintf(w, "\nerrors: faults injected %d; provider reasons: %s; proxy verdicts: %s\n",
			e.FaultsInjected, counts(e.ProviderReasons), counts(e.ProxyVerdicts))
		if len(e.FailureReasons) > 0 {
			fmt.Fprintf(w, "failures: %s\n", counts(e.FailureReasons))
		}
	}
	if len(r.Ramp) > 0 {
		fmt.Fprintln(w, "\nramp (offered → delivered/s, p99 end to end):")
		for _, st := range r.Ramp {
			v := "pass"
			if !st.Pass {
				v = "FAIL: " + st.Why
			}
			fmt.Fprintf(w, "  %7.0f/s → %7.0f/s  p99 %7.2f ms  lost %d  %s\n", st.Rate, st.Delivered, st.P99, st.Lost, v)
		}
		fmt.Fprintf(w, "highest sustained rate: %.0f/s\n", r.MaxSustainedRate)
	}
	if len(r.Baselines) > 0 {
		fmt.Fprintln(w, "\nbaselines (same run):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  name\tops/s\tCPU µs/op\tallocs/op\tside\n")
		for _, b := range r.Baselines {
			fmt.Fprintf(tw, "  %s\t%.0f\t%.1f\t%.0f\t%s\n", b.Name, b.PerSec, b.MicrosPerOp, b.AllocsPerOp, b.Side)
		}
		tw.Flush()
	}
	if len(r.Ratios) > 0 {
		fmt.Fprintln(w, "\nratios (targets):")
		for _, x := range r.Ratios {
			met := "met"
			if !x.Met {
				met = "NOT met"
			}
			fmt.Fprintf(w, "  %-62s %6.2f  target %-7s %s\n", x.Name, x.Value, x.Target, met)
		}
	}
	if f := r.Floor; f != nil {
		fmt.Fprintf(w, "\nfloor of the full pipeline: %.0f µs of CPU per notification (EC crypto %.0f + four bare HTTP/2 exchanges %.0f): at most %.0f/s on %d cores\n",
			f.MicrosPerNotification, f.CryptoMicros, f.ExchangesMicros, f.MaxPerSec, r.Setup.GOMAXPROCS)
		if f.PipelineRatio > 0 {
			fmt.Fprintf(w, "this run's pipeline: %.0f µs per notification, %.2f× the floor\n", r.CPU.MicrosPerNotification, f.PipelineRatio)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func counts(cs []Count) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s ×%d", c.Name, c.Count)
	}
	return strings.Join(parts, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}
