package mocktest

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
)

// BenchHandler serves r, whose body is body, with h b.N times, each on a
// fresh goroutine as net/http's HTTP/2 server does, and reports the CPU
// per request (ReportCPU) and the allocations. The goroutines start on
// the stack a server's handlers start on (ServerStacks), so that a stack
// copy in the figure is one a server pays. A status other than 200 fails b.
func BenchHandler(b *testing.B, h http.Handler, r *http.Request, body []byte) {
	rd := bytes.NewReader(body)
	r.Body, r.ContentLength = io.NopCloser(rd), int64(len(body))
	w := &discardWriter{h: http.Header{}}
	done := make(chan struct{})
	defer ServerStacks(32)()
	b.ReportAllocs()
	b.ResetTimer()
	start := CPUTime()
	for range b.N {
		rd.Reset(body)
		clear(w.h)
		w.status = 0
		go func() {
			h.ServeHTTP(w, r)
			done <- struct{}{}
		}()
		<-done
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	ReportCPU(b, start)
}

// discardWriter is a ResponseWriter that keeps the status and drops the body.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header               { return w.h }
func (w *discardWriter) Write(p []byte) (int, error)       { return len(p), nil }
func (w *discardWriter) WriteString(s string) (int, error) { return len(s), nil } // as net/http's writers
func (w *discardWriter) WriteHeader(status int)            { w.status = status }

// ServerStacks parks n goroutines whose stacks are as deep as a server's
// connection goroutines (TLS reads, HTTP/2 frame loops), until stop is
// called. The runtime starts a goroutine on the average stack the last GC
// scanned: 2 KB in a bare benchmark, 4 KB for net/http's handlers in a
// server. With these a benchmark's handlers start on 4 KB too.
func ServerStacks(n int) (stop func()) {
	quit := make(chan struct{})
	var parked sync.WaitGroup
	for range n {
		parked.Add(1)
		go parkDeep(16, &parked, quit)
	}
	parked.Wait()
	runtime.GC() // the starting size follows the stacks it scans
	return func() { close(quit) }
}

// parkDeep parks at the bottom of depth frames of about 140 bytes each.
func parkDeep(depth int, parked *sync.WaitGroup, quit <-chan struct{}) byte {
	var pad [96]byte
	pad[depth%len(pad)] = byte(depth)
	if depth == 0 {
		parked.Done()
		<-quit
		return pad[0]
	}
	return parkDeep(depth-1, parked, quit) + pad[depth*7%len(pad)]
}
