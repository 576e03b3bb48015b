package devicesim_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/internal/mockkit"
	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/internal/simtest"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/pushtest"
)

// nullLink is a server that accepts everything at no cost, so the figures
// are the devices' own.
type nullLink struct{}

func (nullLink) AttachDevice(_ context.Context, req SessionRequest) (SessionResponse, error) {
	return SessionResponse{SessionID: "s", Token: "t", ServerID: "srv"}, nil
}
func (nullLink) Ack(context.Context, string, Ack) (AckResponse, error) {
	return AckResponse{Status: mmpush.StatusOK, ProxyStatus: mmpush.StatusOK}, nil
}

// scaleFleet is a fleet sized for capacity devices, as a harness that knows
// how many it will add makes it.
func scaleFleet(tb testing.TB, capacity int) (*Fleet, *mockkit.Hub, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var n atomic.Int64 // tokens are drawn outside the registry's lock
	reg := mockkit.NewRegistry(func() string { return fmt.Sprintf("%064x", n.Add(1)) }, nil)
	hub := mockkit.NewHub(mockkit.APNsStorage, nil)
	hub.Track(reg) // as mockapns does; the FCM hub shares reg but keeps its own map
	f, err := NewFleet(FleetConfig{Server: nullLink{}, ServerID: "srv", Pinned: map[string]*ecdsa.PublicKey{"k": &key.PublicKey},
		APNs: simtest.HubProvider(hub, reg), FCM: simtest.HubProvider(mockkit.NewHub(mockkit.FCMStorage, nil), reg),
		Capacity: capacity})
	if err != nil {
		tb.Fatal(err)
	}
	return f, hub, key
}

var scaleApp = App{Name: "ios", Platform: IOS, ProxyType: TypeApple, BundleID: "com.example.app", Environment: "production"}

// 10,000 devices in one process hold no goroutine while idle, and handle
// pushes on fleet workers that end soon after them.
func TestTenThousandDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 devices")
	}
	const n = 10_000
	f, hub, key := scaleFleet(t, n)
	before := runtime.NumGoroutine()
	ctx := context.Background()
	for i := range n {
		if _, err := f.Add(ctx, "d"+strconv.Itoa(i), "u", scaleApp); err != nil {
			t.Fatal(err)
		}
	}
	if g := runtime.NumGoroutine(); g > before+5 {
		t.Fatalf("%d goroutines after adding %d devices (was %d): devices must not own goroutines", g, n, before)
	}
	// Push to every 100th device; all are handled, then the goroutines are gone.
	signer := pushcrypto.NewSigner(key, "k")
	devs := f.Devices()
	for i := 0; i < n; i += 100 {
		d := devs[i]
		ack := "ack" + strconv.Itoa(i)
		sig, _ := signer.Sign(ack, d.Token(), time.Now())
		hub.Send(pushtest.Delivery{Provider: "apns", Token: d.Token(), App: scaleApp.BundleID,
			Payload: []byte(`{"aps":{"alert":"hi","mutable-content":1},"ack_id":"` + ack + `","server_id":"srv","signature":"` + sig + `"}`)})
	}
	f.Wait()
	for i := 0; i < n; i += 100 {
		if st := devs[i].State(); st.Stats.Displayed != 1 || st.Stats.Acked != 1 {
			t.Fatalf("device %d: %+v", i, st.Stats)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // handler goroutines are finishing their return
	}
	if g := runtime.NumGoroutine(); g > before+5 {
		t.Errorf("%d goroutines after the pushes were handled (was %d)", g, before)
	}
}

// BenchmarkDevices adds b.N devices (run with -benchtime=10000x) and reports
// what one costs: heap and RSS per device, and the goroutines they hold.
func BenchmarkDevices(b *testing.B) {
	f, _, _ := scaleFleet(b, b.N)
	ctx := context.Background()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := mocktest.RSS()
	g0 := runtime.NumGoroutine()
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.Add(ctx, "d"+strconv.Itoa(i), "u", scaleApp); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(b.N), "heap-B/device")
	if rss0 > 0 {
		b.ReportMetric(float64(mocktest.RSS()-rss0)/float64(b.N), "RSS-B/device")
	}
	b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines-held")
	b.ReportMetric(float64(f.Len()), "devices")
}

// BenchmarkDevicesParallel adds devices from GOMAXPROCS goroutines, as a
// harness registering a large fleet would: ns/op is the wall time per
// device with every core drawing key pairs.
func BenchmarkDevicesParallel(b *testing.B) {
	f, _, _ := scaleFleet(b, b.N)
	ctx := context.Background()
	var next atomic.Int64
	cpu := mocktest.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.Add(ctx, "d"+strconv.FormatInt(next.Add(1), 10), "u", scaleApp); err != nil {
				b.Error(err)
				return
			}
		}
	})
	mocktest.ReportCPU(b, cpu)
	b.ReportMetric(float64(f.Len()), "devices")
}

// BenchmarkKeyPairsParallel draws only the content key pair every phone
// draws at install, on every core: the floor under DevicesParallel's
// ns/op, to compare with it in one run.
func BenchmarkKeyPairsParallel(b *testing.B) {
	cpu := mocktest.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := pushcrypto.GenerateDeviceKey(nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	mocktest.ReportCPU(b, cpu)
}

// BenchmarkHandle is one push through a device: parse, verify, decrypt,
// show, ack (to a server that costs nothing).
func BenchmarkHandle(b *testing.B) {
	f, _, key := scaleFleet(b, 1)
	d, dels := benchPushes(b, f, key)
	b.ResetTimer()
	cpu := mocktest.CPUTime()
	for i := range b.N {
		if n, err := d.Handle(context.Background(), dels[i]); err != nil || n.Body != "hello" {
			b.Fatalf("%v %+v", err, n)
		}
	}
	mocktest.ReportCPU(b, cpu)
}

// BenchmarkDeliver is BenchmarkHandle the way a provider hands pushes over:
// Deliver returns at once and a fleet worker handles the push.
func BenchmarkDeliver(b *testing.B) {
	f, hub, key := scaleFleet(b, 1)
	d, dels := benchPushes(b, f, key)
	b.ResetTimer()
	cpu := mocktest.CPUTime()
	for i := range b.N {
		hub.Send(dels[i])
		if i%8 == 7 {
			f.Wait()
		}
	}
	f.Wait()
	mocktest.ReportCPU(b, cpu)
	b.StopTimer()
	if st := d.State(); st.Stats.Displayed != b.N {
		b.Fatalf("displayed %d of %d", st.Stats.Displayed, b.N)
	}
}

// benchPushes installs a phone in f and makes b.N distinct pushes for it,
// sealed to its key and signed with key, as a server sends them.
func benchPushes(b *testing.B, f *Fleet, key *ecdsa.PrivateKey) (*Device, []pushtest.Delivery) {
	d, err := f.Add(context.Background(), "d", "u", scaleApp)
	if err != nil {
		b.Fatal(err)
	}
	env, _ := pushcrypto.SealContents(ContentKeyOf(d).Recipient(), pushcrypto.Contents{Message: "hello", ChannelName: "c"}, nil)
	signer := pushcrypto.NewSigner(key, "k")
	dels := make([]pushtest.Delivery, b.N)
	for i := range dels {
		ack := "a" + strconv.Itoa(i)
		sig, _ := signer.Sign(ack, d.Token(), time.Now())
		dels[i] = pushtest.Delivery{Provider: "apns", Token: d.Token(), App: scaleApp.BundleID,
			Payload: []byte(`{"aps":{"alert":"` + env + `","mutable-content":1},"ack_id":"` + ack + `","server_id":"srv","signature":"` + sig + `"}`)}
	}
	return d, dels
}

// A name is one device's: a second New with it is refused, past the
// capacity the fleet was sized for too, and the name still finds the first.
func TestFleetRefusesDuplicateNames(t *testing.T) {
	f, _, _ := scaleFleet(t, 1)
	first, err := f.New("a", "u", scaleApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.New("b", "u", scaleApp); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if _, err := f.New(name, "u", scaleApp); !errors.Is(err, ErrDuplicateName) {
			t.Errorf("second %q: %v, want ErrDuplicateName", name, err)
		}
	}
	if d, ok := f.Device("a"); !ok || d != first || f.Len() != 2 {
		t.Fatalf("Device(a) = %p, %v; first %p; %d devices", d, ok, first, f.Len())
	}
	if _, ok := f.Device("c"); ok {
		t.Fatal("found a device never added")
	}
}
