package e2e

import (
	"context"
	"testing"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// BenchmarkPipeline is one notification end to end, in process over TLS:
// server signs and seals, proxy forwards with apns2 / firebase v4, the mock
// accepts and delivers, the device verifies, decrypts, shows and acks, and
// the ack reaches the proxy.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	l, err := Start(ctx, Options{Contents: serversim.ContentsFull, FCMDeviceRate: -1, Bus: events.NewBus(events.WithHistory(0))})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for _, app := range []devicesim.App{l.IOSToken, l.Android} {
		d, err := l.Fleet.Add(ctx, "bench-"+string(app.Platform), "bench-"+string(app.Platform), app)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(app.Platform), func(b *testing.B) {
			acked := d.State().Stats.Acked
			m := serversim.Message{UserID: d.User, ChannelName: "bench", SenderName: "b", Message: "benchmark message"}
			b.ResetTimer()
			for range b.N {
				res, err := l.Server.Send(ctx, m)
				if err != nil || res[0].Status != serversim.StatusOK {
					b.Fatalf("%v %+v", err, res)
				}
				l.Fleet.Wait()
			}
			b.StopTimer()
			if got := d.State().Stats.Acked - acked; got != b.N {
				b.Fatalf("acked %d of %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}
