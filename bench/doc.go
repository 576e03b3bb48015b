// Package bench is pushlab's load generator: it drives the whole push path
// (or a proxy running elsewhere, or raw send_push calls) at a chosen rate or
// concurrency, and reports throughput, the latency of each stage and end to
// end, errors by provider reason, the accounting (sent = delivered + failed +
// lost; duplicated), and the CPU each actor spends per notification.
//
// Every figure comes from the event spine (events): the bench
// subscribes to the bus its actors publish on and folds each notification
// into histograms (HdrHistogram) as it settles, keeping no history of its
// own. CPU is split by actor with a CPU profile whose goroutines carry the
// pprof label events.ProfileLabel; an actor in another process (ProxyPID)
// is measured by its process CPU time.
//
// Baselines measured in the same run (a bare HTTP/2+TLS handler, a bare
// net/http JSON handler, the raw apns2 and firebase clients against the
// mocks, the stdlib crypto primitives) turn absolute figures, which move on a
// shared machine, into ratios that do not move as much.
//
// The command is `pushlab bench` (cmd/pushlab/bench.go); see README "Bench".
package bench
