package mockapns

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/testpki"
	"golang.org/x/net/http2"
)

// asServer runs start with the pprof label side=server, which the server's
// goroutines inherit, so that a CPU profile of BenchmarkPush splits server
// from client: go tool pprof -tagfocus side=server.
func asServer(start func()) {
	pprof.Do(context.Background(), pprof.Labels("side", "server"), func(context.Context) { start() })
}

// BenchmarkPush measures accepted pushes per second over one HTTP/2
// connection (token auth, 16 concurrent streams), against mockapns and
// against a bare Go HTTP/2 handler that only reads the body and answers 200
// with an apns-id: the ratio of the two is the mock's cost.
func BenchmarkPush(b *testing.B) {
	set := testSet(b)
	bare := func(b *testing.B) (string, *x509.CertPool, string, func()) {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("apns-id", newAPNsID())
			w.WriteHeader(200)
		}), TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Mock.TLS()}, NextProtos: []string{"h2"}}}
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP2(true)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		asServer(func() { go srv.ServeTLS(ln, "", "") })
		return "https://" + ln.Addr().String(), set.CA.Pool(), newDeviceToken(), func() { srv.Close() }
	}
	mock := func(b *testing.B) (string, *x509.CertPool, string, func()) {
		s, err := New(Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		asServer(func() { err = s.Start() })
		if err != nil {
			b.Fatal(err)
		}
		s.RegisterKey(Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey})
		reg, err := s.RegisterDevice(set.BundleID, testpki.Production, "bench")
		if err != nil {
			b.Fatal(err)
		}
		s.Attach(reg.Token, ReceiverFunc(func(Delivery) {})) // online: every push is delivered
		return s.URL, s.CertPool(), reg.Token, s.Close
	}
	for _, tc := range []struct {
		name  string
		start func(*testing.B) (string, *x509.CertPool, string, func())
	}{{"mockapns", mock}, {"bare-h2", bare}} {
		b.Run(tc.name, func(b *testing.B) {
			url, pool, token, stop := tc.start(b)
			defer stop()
			tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			bearer := goodBearer(b, set)
			body := []byte(payload)
			target := url + "/3/device/" + token
			pushOnce := func() {
				req, _ := http.NewRequest("POST", target, bytes.NewReader(body))
				req.Header.Set("authorization", "bearer "+bearer)
				req.Header.Set("apns-topic", set.BundleID)
				req.Header.Set("apns-push-type", "alert")
				req.Header.Set("apns-priority", "10")
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
			pushOnce() // one connection, opened before timing
			b.SetParallelism(8)
			b.ResetTimer()
			start := mocktest.CPUTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					pushOnce()
				}
			})
			mocktest.ReportCPU(b, start) // client's and server's
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
		})
	}
}

// BenchmarkHandler measures the mock's own work on a push, without the
// network: the handler served on a fresh goroutine per request, as
// net/http's HTTP/2 server does, with the headers and body apns2 sends
// (token auth) and the connection state Serve gives each request. "quiet"
// has no event bus (as bench's baselines run it), "events" one.
func BenchmarkHandler(b *testing.B) {
	set := testSet(b)
	for _, withBus := range []bool{false, true} {
		name := "quiet"
		if withBus {
			name = "events"
		}
		b.Run(name, func(b *testing.B) {
			cfg := Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Logger: slog.New(slog.DiscardHandler)}
			if withBus {
				cfg.Bus = events.NewBus()
			}
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			s.RegisterKey(Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey})
			reg, err := s.RegisterDevice(set.BundleID, testpki.Production, "bench")
			if err != nil {
				b.Fatal(err)
			}
			s.Attach(reg.Token, ReceiverFunc(func(Delivery) {})) // online: every push is delivered
			body := []byte(`{"aps":{"alert":{"title":"town-square","body":"benchmark notification"},"mutable-content":1},"ack_id":"x"}`)
			rd := bytes.NewReader(body)
			r, _ := http.NewRequest("POST", "https://127.0.0.1:443/3/device/"+reg.Token, io.NopCloser(rd))
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			r.Header.Set("apns-topic", set.BundleID)
			r.Header.Set("apns-push-type", "alert")
			r.Header.Set("authorization", "bearer "+goodBearer(b, set))
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			r = r.WithContext(context.WithValue(r.Context(), connKey{}, &connState{env: testpki.Production}))
			w := &discardWriter{h: http.Header{}}
			h := s.Handler()
			done := make(chan struct{})
			defer serverStacks(32)()
			b.ReportAllocs()
			b.ResetTimer()
			start := mocktest.CPUTime()
			for range b.N {
				rd.Reset(body)
				clear(w.h)
				w.status = 0
				go func() { // a fresh stack per request, as net/http's
					h.ServeHTTP(w, r)
					done <- struct{}{}
				}()
				<-done
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
			mocktest.ReportCPU(b, start)
		})
	}
}

// serverStacks parks n goroutines whose stacks are as deep as a server's
// connection goroutines (TLS reads, HTTP/2 frame loops), until stop is
// called. The runtime starts a goroutine on the average stack the last GC
// scanned: 2 KB in a bare benchmark, 4 KB for net/http's handlers in a
// server (BenchmarkPush shows no stack growth under the handler). With
// these the benchmark's handlers start on 4 KB too, so that a stack copy
// in its profile is one a server would pay.
func serverStacks(n int) (stop func()) {
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

// discardWriter is a ResponseWriter that keeps the status and drops the body.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header               { return w.h }
func (w *discardWriter) Write(p []byte) (int, error)       { return len(p), nil }
func (w *discardWriter) WriteString(s string) (int, error) { return len(s), nil } // as net/http's writers
func (w *discardWriter) WriteHeader(status int)            { w.status = status }
