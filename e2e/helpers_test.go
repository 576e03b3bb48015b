package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/serversim"
)

func startLab(t *testing.T, opts Options) *Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	l, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// send pushes m and waits until the devices are done with it; it returns the
// one result (m names one session).
func send(t *testing.T, l *Lab, m serversim.Message) serversim.SendResult {
	t.Helper()
	res, err := l.Server.Send(testCtx(t), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("send: %d results, want 1", len(res))
	}
	l.Fleet.Wait()
	return res[0]
}

// hops returns the trace's events by hop (the last of each).
func hops(l *Lab, trace string) map[events.Hop]events.Event {
	out := map[events.Hop]events.Event{}
	for _, e := range l.Bus.Trace(trace) {
		out[e.Hop] = e
	}
	return out
}

func requireHops(t *testing.T, l *Lab, trace string, want ...events.Hop) map[events.Hop]events.Event {
	t.Helper()
	got := hops(l, trace)
	for _, h := range want {
		if _, ok := got[h]; !ok {
			t.Errorf("trace %s: no %s event; trace:\n%s", trace, h, dump(l, trace))
		}
	}
	return got
}

func forbidHops(t *testing.T, l *Lab, trace string, not ...events.Hop) {
	t.Helper()
	got := hops(l, trace)
	for _, h := range not {
		if e, ok := got[h]; ok {
			t.Errorf("trace %s: unexpected %s event (%s %s)", trace, h, e.Status, e.Detail)
		}
	}
}

func dump(l *Lab, trace string) string {
	var b strings.Builder
	for _, e := range l.Bus.Trace(trace) {
		b.WriteString("  " + string(e.Hop) + " " + e.Actor + " " + e.Status + " " + e.Detail + "\n")
	}
	return b.String()
}

// capture takes what the provider would deliver to d for m, without d
// seeing it: d goes offline, the push is stored, copied, and forgotten.
func capture(t *testing.T, l *Lab, d *devicesim.Device, m serversim.Message) (pushtest.Delivery, string) {
	t.Helper()
	var mock interface {
		TakePending(token string) []pushtest.Delivery
	} = l.APNs
	if d.App.Platform == devicesim.Android {
		mock = l.FCM
	}
	if err := d.GoOffline(); err != nil {
		t.Fatal(err)
	}
	r := send(t, l, m)
	if r.Status != serversim.StatusOK {
		t.Fatalf("capture: %v", resultErr(r))
	}
	pending := mock.TakePending(d.Token())
	if len(pending) == 0 {
		t.Fatalf("capture: nothing stored for %s", d.Name)
	}
	del := pending[len(pending)-1]
	del.Payload = append(json.RawMessage(nil), del.Payload...)
	if err := d.GoOnline(); err != nil {
		t.Fatal(err)
	}
	return del, r.AckID
}

// push hands del to its token's device through the provider's push channel.
func push(l *Lab, d *devicesim.Device, del pushtest.Delivery) {
	var mock interface{ Inject(pushtest.Delivery) } = l.APNs
	if d.App.Platform == devicesim.Android {
		mock = l.FCM
	}
	del.Stored = false
	mock.Inject(del)
	l.Fleet.Wait()
}

// tamper flips one character in the middle of the envelope in a payload.
func tamper(t *testing.T, payload []byte) []byte {
	t.Helper()
	out, err := tamperEnvelope(payload)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
