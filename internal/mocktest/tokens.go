package mocktest

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkRegistry runs MeasureTokens twice, each on a mock that fresh
// makes before the measurement: "registered" (register(i, false)) and
// "online", where register also attaches each token to the hub.
func BenchmarkRegistry(b *testing.B, fresh func(), register func(i int, online bool) string, lookup func(token string) bool) {
	for _, online := range []bool{false, true} {
		name := "registered"
		if online {
			name = "online"
		}
		b.Run(name, func(b *testing.B) {
			fresh()
			MeasureTokens(b, func(i int) string { return register(i, online) }, lookup)
		})
	}
}

// MeasureTokens registers b.N tokens with register, each for the device
// that i names, and reports what one token costs the mock: the live heap
// after a collection and the growth of the resident set, per token (run
// with -benchtime 1000000x for the million-token target). register returns
// the token, which is looked up once to prove it was kept.
func MeasureTokens(b *testing.B, register func(i int) string, lookup func(token string) bool) {
	b.Helper()
	// Start from what this process holds now: return the pages a run before
	// (another sub-benchmark's mock) freed, or its RSS counts in this one's.
	debug.FreeOSMemory()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := RSS()
	first := ""
	b.ResetTimer()
	for i := range b.N {
		tok := register(i)
		if i == 0 {
			first = tok
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if !lookup(first) {
		b.Fatalf("token %q was not kept", first)
	}
	b.ReportMetric(float64(m1.HeapInuse-m0.HeapInuse)/float64(b.N), "heap-B/token")
	b.ReportMetric(float64(m1.HeapInuse)/(1<<20), "heap-MiB")
	if rss0 > 0 {
		rss1 := RSS()
		b.ReportMetric(float64(rss1-rss0)/float64(b.N), "RSS-B/token")
		b.ReportMetric(float64(rss1)/(1<<20), "RSS-MiB")
	}
}

// RSS is the process's resident set in bytes (Linux; 0 elsewhere).
func RSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
