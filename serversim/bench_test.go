package serversim_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
	. "github.com/pushlab/pushlab/serversim"
)

// BenchmarkServer is the server's share of a notification, over HTTP/2 and
// TLS as in the lab: send (build, sign, seal, post to a proxy that answers
// OK at once) and a phone's ack (the endpoint, and its forward to the
// proxy). Its CPU per op includes the stub proxy's and the phone's client.
func BenchmarkServer(b *testing.B) {
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"OK"}`)
	}))
	proxy.EnableHTTP2 = true
	proxy.StartTLS()
	b.Cleanup(proxy.Close)
	signing, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bus := events.NewBus(events.WithHistory(0))
	sub, _ := bus.Subscribe(1<<16, false) // someone listens, as in the lab
	go func() {
		for range sub.C() {
		}
	}()
	b.Cleanup(sub.Close)
	s, err := New(Config{ProxyURL: proxy.URL, ProxyClient: proxy.Client(), SigningKey: signing, SigningKeyID: "k",
		Contents: ContentsFull, Bus: bus})
	if err != nil {
		b.Fatal(err)
	}
	dk, _ := pushcrypto.GenerateDeviceKey(nil)
	rj, _ := json.Marshal(dk.Recipient())
	var ck devicesim.ContentKey
	if err := json.Unmarshal(rj, &ck); err != nil {
		b.Fatal(err)
	}
	sess, err := s.AttachDevice(devicesim.SessionRequest{UserID: "u", DeviceID: "apple_rn:" + strings.Repeat("ab", 32), DeviceName: "phone", DeviceKey: &ck})
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewUnstartedServer(s.Handler())
	front.EnableHTTP2 = true
	front.StartTLS()
	b.Cleanup(front.Close)
	ctx := context.Background()
	msg := Message{SessionID: sess.SessionID, Message: "hello there", ChannelName: "town-square", SenderName: "alice"}

	b.Run("send", func(b *testing.B) {
		cpu := mocktest.CPUTime()
		for range b.N {
			if res, err := s.Send(ctx, msg); err != nil || res[0].Status != StatusOK {
				b.Fatal(err, res)
			}
		}
		mocktest.ReportCPU(b, cpu)
	})
	res, _ := s.Send(ctx, msg)
	ack, _ := json.Marshal(mmpush.Ack{ID: res[0].AckID, ReceivedAt: time.Now().UnixMilli(), Platform: "ios", Type: mmpush.TypeMessage})
	phone := front.Client()
	b.Run("ack", func(b *testing.B) {
		cpu := mocktest.CPUTime()
		for range b.N {
			req, _ := http.NewRequest(http.MethodPost, front.URL+mmpush.PathServerAck, strings.NewReader(string(ack)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+sess.Token)
			resp, err := phone.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"proxy_status":"OK"`) {
				b.Fatalf("%d %s", resp.StatusCode, body)
			}
		}
		mocktest.ReportCPU(b, cpu)
	})
}
