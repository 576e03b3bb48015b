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
	"runtime/pprof"
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
		return s.URL, s.CertPool(), onlineDevice(b, s, set).Token, s.Close
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
			reg := onlineDevice(b, s, set)
			body := []byte(`{"aps":{"alert":{"title":"town-square","body":"benchmark notification"},"mutable-content":1},"ack_id":"x"}`)
			r, _ := http.NewRequest("POST", "https://127.0.0.1:443/3/device/"+reg.Token, nil)
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			r.Header.Set("apns-topic", set.BundleID)
			r.Header.Set("apns-push-type", "alert")
			r.Header.Set("authorization", "bearer "+goodBearer(b, set))
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			r = r.WithContext(context.WithValue(r.Context(), connKey{}, &connState{env: testpki.Production}))
			mocktest.BenchHandler(b, s.Handler(), r, body)
		})
	}
}

// onlineDevice registers set's provider key with s and a device that is
// online: every push to it is delivered.
func onlineDevice(b *testing.B, s *Server, set *testpki.Set) Registration {
	s.RegisterKey(Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey})
	reg, err := s.RegisterDevice(set.BundleID, testpki.Production, "bench")
	if err != nil {
		b.Fatal(err)
	}
	s.Attach(reg.Token, ReceiverFunc(func(Delivery) {}))
	return reg
}
