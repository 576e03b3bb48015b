package mockfcm_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/mockfcm"
)

// BenchmarkSend measures sends per second over TLS+HTTP/2 from 2 parallel
// clients per core: a bare handler (read the body, answer a name) as the
// baseline, the mock (auth, parse, validate, record, event, deliver to an
// in-process device), and the mock driven by the firebase SDK. The log line
// gives mockfcm/bare.
func BenchmarkSend(b *testing.B) {
	a, _ := accounts(b)
	f := newFixture(b, false, func(c *mockfcm.Config) { c.DeviceRatePerMinute = -1 })
	s := f.s
	reg, _ := s.RegisterDevice("com.example", a.ProjectID, "bench")
	s.Attach(reg.Token, mockfcm.ReceiverFunc(func(mockfcm.Delivery) {}))
	// The data as the SDKs write it (json.Marshal of the map: names sorted).
	body := `{"message":{"token":"` + reg.Token + `","data":{"ack_id":"x","message":"hello from the benchmark","server_id":"s1","type":"message"},"android":{"priority":"high"}}}`

	// The baseline: same certificate, same listener kind, a bare handler.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		io.WriteString(w, "{\n  \"name\": \"projects/p/messages/0:1%1\"\n}\n")
	}), TLSConfig: &tls.Config{Certificates: s.TLSConfig().Certificates}}
	go bare.ServeTLS(ln, "", "")
	defer bare.Close()
	bareURL := "https://" + ln.Addr().String() + "/v1/projects/" + a.ProjectID + "/messages:send"

	token := accessToken(b, f, a, mockfcm.ScopeMessaging)
	client := s.Client()
	post := func(b *testing.B, url string) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	rates := map[string]float64{}
	rate := func(b *testing.B, name string) {
		r := float64(b.N) / b.Elapsed().Seconds()
		rates[name] = r
		b.ReportMetric(r, "sends/s")
	}
	b.Run("bare", func(b *testing.B) {
		start := mocktest.CPUTime()
		post(b, bareURL)
		mocktest.ReportCPU(b, start)
		rate(b, "bare")
	})
	b.Run("mockfcm", func(b *testing.B) {
		start := mocktest.CPUTime()
		post(b, s.Endpoint()+"/projects/"+a.ProjectID+"/messages:send")
		mocktest.ReportCPU(b, start)
		rate(b, "mockfcm")
	})
	b.Run("sdk", func(b *testing.B) {
		msg := &messaging.Message{Token: reg.Token, Data: map[string]string{"ack_id": "x", "message": "hello from the benchmark"},
			Android: &messaging.AndroidConfig{Priority: "high"}}
		b.ResetTimer()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.client.Send(f.ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
		rate(b, "sdk")
	})
	// Interleaved rounds: load from elsewhere on the machine hits both alike.
	b.Run("interleaved", func(b *testing.B) {
		const round, workers = 64, 8
		var tBare, tMock time.Duration
		burst := func(url string) time.Duration {
			start := time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < round; i += workers {
						req, _ := http.NewRequest("POST", url, strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+token)
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			return time.Since(start)
		}
		mockURL := s.Endpoint() + "/projects/" + a.ProjectID + "/messages:send"
		for i := range b.N {
			if i%2 == 0 {
				tBare += burst(bareURL)
				tMock += burst(mockURL)
			} else {
				tMock += burst(mockURL)
				tBare += burst(bareURL)
			}
		}
		n := float64(b.N * round)
		b.ReportMetric(n/tBare.Seconds(), "bare-sends/s")
		b.ReportMetric(n/tMock.Seconds(), "mockfcm-sends/s")
		b.ReportMetric(tBare.Seconds()/tMock.Seconds(), "ratio")
	})
	if rates["bare"] > 0 {
		b.Logf("sends/s: bare %.0f, mockfcm %.0f, sdk→mockfcm %.0f; mockfcm/bare = %.2f",
			rates["bare"], rates["mockfcm"], rates["sdk"], rates["mockfcm"]/rates["bare"])
	}
}

// BenchmarkHandler measures the mock's own work on a send, without the
// network: the handler served on a fresh goroutine per request, as
// net/http's HTTP/2 server does, with the body the firebase SDK writes.
// "quiet" has no event bus (as bench's baselines run it), "events" one.
func BenchmarkHandler(b *testing.B) {
	for _, withBus := range []bool{false, true} {
		name := "quiet"
		if withBus {
			name = "events"
		}
		b.Run(name, func(b *testing.B) {
			a, _ := accounts(b)
			f := newFixture(b, false, func(c *mockfcm.Config) {
				c.DeviceRatePerMinute, c.ProjectQuotaPerMinute = -1, -1
				if !withBus {
					c.Bus = nil
				}
			})
			reg, _ := f.s.RegisterDevice("com.example", a.ProjectID, "bench")
			f.s.Attach(reg.Token, mockfcm.ReceiverFunc(func(mockfcm.Delivery) {}))
			body := []byte(`{"message":{"data":{"ack_id":"x","message":"benchmark notification","type":"message"},` +
				`"android":{"priority":"high"},"token":"` + reg.Token + `"}}`)
			token := accessToken(b, f, a, mockfcm.ScopeMessaging)
			r, _ := http.NewRequest("POST", f.s.Endpoint()+"/projects/"+a.ProjectID+"/messages:send", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Content-Type", "application/json")
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			mocktest.BenchHandler(b, f.s.Handler(), r, body)
		})
	}
}
