package mocktest

import (
	"testing"
	"time"
)

// ReportCPU reports the process's CPU (all goroutines: clients' and
// servers') per op of b since start, a CPUTime reading, as cpu-µs/op: on a
// shared machine wall time per op moves with the neighbours' load, CPU
// time less.
func ReportCPU(b *testing.B, start time.Duration) {
	if used := CPUTime() - start; start > 0 && used > 0 && b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
	}
}
