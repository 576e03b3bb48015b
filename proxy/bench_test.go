package proxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/mmpush"
)

// BenchmarkSendPush measures whole round trips: the server's send_push over
// TLS to the proxy, the proxy's push to mock APNs (HTTP/2, JWT) or mock FCM
// (HTTP/2, OAuth), the mock's delivery to the device, the answer back.
func BenchmarkSendPush(b *testing.B) {
	for _, c := range []struct {
		name    string
		appType string
	}{
		{"apns-token", typeAppleToken},
		{"apns-cert", typeApplePEM},
		{"fcm", typeAndroid},
	} {
		for _, parallel := range []bool{false, true} {
			name := c.name
			if parallel {
				name += "-parallel"
			}
			b.Run(name, func(b *testing.B) {
				l := newLab(b, func(cfg *runConfig) {
					cfg.Logger = slog.New(slog.DiscardHandler)
					cfg.Bus = nil
				})
				l.client = &http.Client{Transport: &http.Transport{
					TLSClientConfig:     &tls.Config{RootCAs: l.set.CA.Pool()},
					MaxIdleConnsPerHost: 64, ForceAttemptHTTP2: true,
				}}
				var tok string
				if strings.HasPrefix(c.appType, "android") {
					tok = l.pixel(c.appType)
				} else {
					tok = l.iphone(c.appType)
				}
				body, _ := json.Marshal(msg(c.appType, tok, "ack-bench"))
				pushOnce := func() {
					resp, err := l.client.Post(l.url+"/api/v1/send_push", "application/json", strings.NewReader(string(body)))
					if err != nil {
						b.Error(err)
						return
					}
					got, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if string(got) != okBody {
						b.Errorf("answer %q", got)
					}
				}
				pushOnce() // connections up, OAuth token fetched
				cpu0 := mocktest.CPUTime()
				start := time.Now()
				b.ResetTimer()
				if parallel {
					b.SetParallelism(8)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							pushOnce()
						}
					})
				} else {
					for b.Loop() {
						pushOnce()
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
				// The process's CPU time (proxy, mocks, devices and the
				// client alike), steadier than ns/op on a shared machine.
				mocktest.ReportCPU(b, cpu0)
			})
		}
	}
}

// BenchmarkOwnWork is the proxy's own work for one send_push, without the
// network on either side: validation, the retry loop, the verdict, metrics,
// logs and the three events on a bus (the provider answers at once).
func BenchmarkOwnWork(b *testing.B) {
	s, _ := newFakeServer(b, runConfig{Options: Options{Logger: slog.New(slog.DiscardHandler), Bus: events.NewBus()}},
		&fakeSender{p: APNs, tries: []outcome{{Kind: kindAnswer, Status: 200, ID: "8D7A3E5C-0000-4000-8000-000000000000"}}})
	n := msg("fake", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ack-bench")
	b.ReportAllocs()
	cpu0 := mocktest.CPUTime()
	for b.Loop() {
		if _, err := s.Send(context.Background(), n); err != nil {
			b.Fatal(err)
		}
	}
	mocktest.ReportCPU(b, cpu0)
}

// BenchmarkParseSendPush is the decoding and validation of one send_push
// body, against json.Decoder alone (what ParseSendPush did before).
func BenchmarkParseSendPush(b *testing.B) {
	body, _ := json.Marshal(msg(typeAppleToken, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ack-bench"))
	b.Run("ParseSendPush", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := mocktest.CPUTime()
		for b.Loop() {
			if _, _, err := ParseSendPush(strings.NewReader(string(body))); err != nil {
				b.Fatal(err)
			}
		}
		mocktest.ReportCPU(b, cpu0)
	})
	b.Run("json.Decoder", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := mocktest.CPUTime()
		for b.Loop() {
			var n mmpush.PushNotification
			if err := json.NewDecoder(strings.NewReader(string(body))).Decode(&n); err != nil {
				b.Fatal(err)
			}
		}
		mocktest.ReportCPU(b, cpu0)
	})
}
