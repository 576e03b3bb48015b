package bench

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pushlab/pushlab/events"
)

// cpuMeter measures the CPU this process spends while it runs, and with a
// CPU profile splits it by the actor label of the goroutines that spent it.
type cpuMeter struct {
	prof     bytes.Buffer
	runtime0 [2]float64 // mutex wait, GC CPU (seconds) at the start
	started  bool
	rusage   time.Duration
	wall     time.Time
	pid      int
	pidCPU   time.Duration
}

// startCPU starts measuring; profile adds the split by actor (only one
// profile may run in a process: if another is running, the split is left
// out). pid, if not 0, is another process (a proxy) whose CPU time is read
// from /proc too.
func startCPU(profile bool, pid int) *cpuMeter {
	m := &cpuMeter{wall: time.Now(), rusage: processCPU(), pid: pid, runtime0: runtimeSeconds()}
	if pid != 0 {
		m.pidCPU, _ = pidCPU(pid)
	}
	if profile {
		m.started = pprof.StartCPUProfile(&m.prof) == nil
	}
	return m
}

// stop ends the measurement and returns the CPU used, divided among actors.
func (m *cpuMeter) stop(notifications int) CPU {
	if m.started {
		pprof.StopCPUProfile()
	}
	total := processCPU() - m.rusage
	wall := time.Since(m.wall)
	out := CPU{Seconds: total.Seconds(), CoresBusy: total.Seconds() / wall.Seconds()}
	rt := runtimeSeconds()
	out.MutexWaitSeconds, out.GCSeconds = rt[0]-m.runtime0[0], rt[1]-m.runtime0[1]
	per := func(d time.Duration) float64 {
		if notifications == 0 {
			return 0
		}
		return float64(d.Microseconds()) / float64(notifications)
	}
	out.MicrosPerNotification = per(total)
	if m.started {
		if shares, err := actorShares(m.prof.Bytes()); err == nil {
			var sum int64
			for _, v := range shares {
				sum += v
			}
			for _, c := range sortedCounts64(shares) {
				share := float64(c.v) / float64(sum)
				out.ByActor = append(out.ByActor, ActorCPU{Actor: c.k, Share: share,
					MicrosPerNotification: out.MicrosPerNotification * share})
			}
		}
	}
	if m.pid != 0 {
		if after, err := pidCPU(m.pid); err == nil {
			d := after - m.pidCPU
			out.ByActor = append(out.ByActor, ActorCPU{Actor: "proxy (pid " + strconv.Itoa(m.pid) + ")",
				MicrosPerNotification: per(d), Separate: true})
			out.SeparateSeconds = d.Seconds()
		}
	}
	return out
}

// runtimeSeconds reads the process's total time goroutines waited on
// sync.Mutex/RWMutex and the CPU the garbage collector used.
func runtimeSeconds() [2]float64 {
	samples := []metrics.Sample{{Name: "/sync/mutex/wait/total:seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(samples)
	var out [2]float64
	for i, s := range samples {
		if s.Value.Kind() == metrics.KindFloat64 {
			out[i] = s.Value.Float64()
		}
	}
	return out
}

// processCPU is user + system time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pidCPU reads utime + stime of another process from /proc (Linux).
func pidCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields restart after its ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: /proc/%d/stat: unreadable", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: /proc/%d/stat: too short", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: /proc/%d/stat: bad times", pid)
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// actorShares reads a gzipped pprof CPU profile and sums its CPU nanoseconds
// by the goroutines' actor label; unlabelled work (GC workers, the runtime,
// the load generator) is "runtime + other".
func actorShares(gz []byte) (map[string]int64, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	type label struct{ key, str int64 }
	type sample struct {
		values []int64
		labels []label
	}
	var (
		samples []sample
		strs    []string
		valueIx = -1
		types   [][2]int64 // sample types: type, unit (string indexes)
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch num {
		case 1: // sample_type
			vt, err := fields(v)
			if err != nil {
				return nil, err
			}
			types = append(types, [2]int64{vt[1].num, vt[2].num})
		case 2: // sample
			fs, err := fields(v)
			if err != nil {
				return nil, err
			}
			var s sample
			for _, f := range fs[2].all {
				s.values = append(s.values, f.packed...)
			}
			for _, f := range fs[3].all {
				lf, err := fields(f.bytes)
				if err != nil {
					return nil, err
				}
				s.labels = append(s.labels, label{lf[1].num, lf[2].num})
			}
			samples = append(samples, s)
		case 6: // string_table
			strs = append(strs, string(v))
		}
	}
	str := func(i int64) string {
		if i < 0 || int(i) >= len(strs) {
			return ""
		}
		return strs[i]
	}
	for i, t := range types {
		if str(t[1]) == "nanoseconds" {
			valueIx = i
		}
	}
	if valueIx < 0 {
		return nil, fmt.Errorf("bench: not a CPU profile")
	}
	out := map[string]int64{}
	for _, s := range samples {
		if valueIx >= len(s.values) {
			continue
		}
		actor := "runtime + other"
		for _, l := range s.labels {
			if str(l.key) == events.ProfileLabel {
				actor = str(l.str)
			}
		}
		out[actor] += s.values[valueIx]
	}
	return out, nil
}

type field struct {
	num    int64
	bytes  []byte
	packed []int64
	all    []field
}

// fields decodes one protobuf message shallowly: varints as num, bytes as
// bytes (and as packed varints), every occurrence in all.
func fields(b []byte) (map[protowire.Number]*field, error) {
	out := map[protowire.Number]*field{}
	get := func(n protowire.Number) *field {
		if out[n] == nil {
			out[n] = &field{}
		}
		return out[n]
	}
	for _, n := range []protowire.Number{1, 2, 3} {
		get(n)
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		f := get(num)
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			f.num = int64(v)
			f.packed = append(f.packed, int64(v))
			f.all = append(f.all, field{num: int64(v), packed: []int64{int64(v)}})
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			one := field{bytes: v}
			for p := v; len(p) > 0; {
				x, n := protowire.ConsumeVarint(p)
				if n < 0 {
					one.packed = nil
					break
				}
				one.packed = append(one.packed, int64(x))
				p = p[n:]
			}
			f.bytes = v
			f.all = append(f.all, one)
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return out, nil
}

type kv64 struct {
	k string
	v int64
}

func sortedCounts64(m map[string]int64) []kv64 {
	out := make([]kv64, 0, len(m))
	for k, v := range m {
		out = append(out, kv64{k, v})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].v > out[j-1].v || out[j].v == out[j-1].v && out[j].k < out[j-1].k); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// cpuPerOp runs f on this goroutine for about d and returns how many calls
// it made, the process CPU and the wall time they took, and allocations per
// call. Process CPU counts other goroutines too; the caller runs nothing else.
func cpuPerOp(f func(), d time.Duration) (ops int, cpu, wall time.Duration, allocs float64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	cpu0, start := processCPU(), time.Now()
	for ops == 0 || time.Since(start) < d {
		f()
		ops++
	}
	wall = time.Since(start)
	cpu = processCPU() - cpu0
	runtime.ReadMemStats(&ms)
	return ops, cpu, wall, float64(ms.Mallocs-mallocs) / float64(ops)
}
