package bench

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/proxy/proxytest"
	"github.com/pushlab/pushlab/pushtest"
	"github.com/pushlab/pushlab/testpki"
)

// The pprof actor labels of the baselines' two sides.
const (
	labelClient = "baseline client"
	labelServer = "baseline server"
	labelProxy  = "baseline proxy"
)

// contender is one thing a baseline drives: push sends one request.
type contender struct {
	name  string
	push  func(context.Context) error
	close func()
	// perSec is the best round's; the CPU per operation of each side is
	// pooled over the rounds (their CPU over their operations): a side's
	// share of a round comes from profile samples, a few hundred a round,
	// whose noise the best round would pick rather than average.
	perSec, clientUS, serverUS, proxyUS float64
	ops                                 int64
	busy                                time.Duration // the rounds' wall time, summed
	clientCPU, serverCPU, proxyCPU      float64       // µs, summed over the rounds
}

// rate is the operations a second over all the rounds.
func (c *contender) rate() float64 {
	if c.busy <= 0 {
		return 0
	}
	return float64(c.ops) / c.busy.Seconds()
}

// pool adds a round of n operations, with its CPU per operation by actor.
func (c *contender) pool(n int64, byActor []ActorCPU) {
	if n == 0 {
		return
	}
	c.ops += n
	for _, a := range byActor {
		switch a.Actor {
		case labelClient:
			c.clientCPU += a.MicrosPerNotification * float64(n)
		case labelServer:
			c.serverCPU += a.MicrosPerNotification * float64(n)
		case labelProxy:
			c.proxyCPU += a.MicrosPerNotification * float64(n)
		}
	}
	ops := float64(c.ops)
	c.clientUS, c.serverUS, c.proxyUS = c.clientCPU/ops, c.serverCPU/ops, c.proxyCPU/ops
}

// baselines measures, in this run, the references of the README's targets,
// and pushlab's own side of each, interleaved in rounds so that a noisy
// neighbour hurts both sides alike: CPU per operation, split by side with a
// CPU profile and pooled over the rounds, is the figure compared.
func (r *runner) baselines(ctx context.Context, rep *Report) error {
	prim, ours, err := cryptoBaselines(r.cfg.BaselineTime)
	if err != nil {
		return err
	}
	rep.Baselines = append(rep.Baselines, prim, ours)
	rep.Ratios = append(rep.Ratios, ratio("pushcrypto ÷ stdlib primitives (CPU per notification)", ours.MicrosPerOp/prim.MicrosPerOp, 1.2, false))

	cs, err := r.contenders(ctx)
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	if err != nil {
		return err
	}
	n := baselineRounds(r.cfg.BaselineTime)
	for round := range n {
		for _, c := range inRoundOrder(cs, round) {
			if err := r.drive(ctx, c, r.cfg.BaselineTime/time.Duration(n)); err != nil {
				return fmt.Errorf("baseline %s: %w", c.name, err)
			}
		}
	}
	by := map[string]*contender{}
	for _, c := range cs {
		by[c.name] = c
		rep.Baselines = append(rep.Baselines,
			Baseline{Name: c.name + ": server", PerSec: c.perSec, MicrosPerOp: c.serverUS, Side: "server"},
			Baseline{Name: c.name + ": client", PerSec: c.perSec, MicrosPerOp: c.clientUS, Side: "client"})
	}
	bareA, mockA, bareF, mockF, bareJ := by[nameBareAPNs], by[nameMockAPNs], by[nameBareFCM], by[nameMockFCM], by[nameBareJSON]
	rep.Ratios = append(rep.Ratios,
		ratio("mockapns: bare handler CPU ÷ mock CPU per push", bareA.serverUS/mockA.serverUS, 0.85, true),
		ratio("mockfcm: bare handler CPU ÷ mock CPU per push", bareF.serverUS/mockF.serverUS, 0.85, true),
		// The measure the target was first set with: pushes a second
		// from the same client at the same concurrency, both sides on
		// the same cores; here pooled over the rounds.
		ratio("mockapns: pushes/s ÷ the bare handler's, same client and concurrency", mockA.rate()/bareA.rate(), 0.85, true),
		ratio("mockfcm: pushes/s ÷ the bare handler's, same client and concurrency", mockF.rate()/bareF.rate(), 0.85, true))

	// The proxy between the same client and the same mock as the floor's
	// parts, at the same concurrency, interleaved with them. The outbound
	// floor is the raw client sending the very request the proxy sends
	// for this body (its payload, headers and data keys), not the mock
	// rows' smaller messages: building that request inside apns2 or
	// firebase is work any proxy built on them does.
	pxA, pxF := by[nameProxyAPNs], by[nameProxyFCM]
	if px := by[nameProxy]; px != nil {
		floor := pxA.clientUS + bareJ.serverUS
		rep.Baselines = append(rep.Baselines, Baseline{Name: px.name, PerSec: px.perSec, MicrosPerOp: px.proxyUS, Side: "proxy"})
		rep.Ratios = append(rep.Ratios, ratio("proxy CPU per send_push ÷ (apns2 client sending the proxy's request → mockapns + bare JSON handler), same mock, body and load", px.proxyUS/floor, 1.3, false))
	}

	// The proxy with both platforms, the bench's iOS share of its pushes
	// to mockapns and the rest to mockfcm, against the raw clients sending
	// its requests in the same mix: what any apns2/firebase-based proxy
	// spends on its outbound side, plus the inbound floor, all driven
	// alike in the same rounds.
	if px := by[nameProxyMix]; px != nil {
		ios := r.cfg.IOSShare
		floor := ios*pxA.clientUS + (1-ios)*pxF.clientUS + bareJ.serverUS
		rep.Baselines = append(rep.Baselines, Baseline{Name: px.name, PerSec: px.perSec, MicrosPerOp: px.proxyUS, Side: "proxy"})
		rep.Ratios = append(rep.Ratios, ratio("proxy CPU per send_push ÷ (raw clients sending the proxy's requests + bare JSON handler), iOS/Android mix, same mocks, body and load", px.proxyUS/floor, 1.3, false))
	}

	rep.Floor = r.floor(prim, bareA, bareF, bareJ, rep)

	// The proxy under the whole pipeline's load, for reference only: it
	// runs at the pipeline's pace (a fifth of the rounds' rate here), so
	// its connections carry fewer frames per write and wake-up than the
	// floors' do, and it shares the cores and the collector with every
	// other actor. Divided by floors measured at full pace alone, that
	// measured the load, not the proxy; the mix row above is its ratio.
	proxyUS, proxyRate, err := r.proxyAlone(ctx)
	if err != nil {
		return err
	}
	if proxyUS > 0 {
		rep.Baselines = append(rep.Baselines, Baseline{Name: "pushlab proxy ← raw send_push (whole pipeline after it)", PerSec: proxyRate, MicrosPerOp: proxyUS, Side: "proxy"})
	}
	return nil
}

// floor is the full pipeline's floor from this run's baselines: the stdlib
// crypto of a notification, send_push and the two acks as the bare JSON
// exchange (a send_push body is the largest of the three), and the provider
// push as the bare HTTP/2 handler's exchange with the apns2 or firebase
// client, in the bench's iOS share.
func (r *runner) floor(crypto Baseline, bareA, bareF, bareJ *contender, rep *Report) *Floor {
	exchange := func(c *contender) float64 { return c.clientUS + c.serverUS }
	ios := r.cfg.IOSShare
	f := &Floor{CryptoMicros: crypto.MicrosPerOp,
		ExchangesMicros: 3*exchange(bareJ) + ios*exchange(bareA) + (1-ios)*exchange(bareF)}
	f.MicrosPerNotification = f.CryptoMicros + f.ExchangesMicros
	f.MaxPerSec = float64(runtime.GOMAXPROCS(0)) * 1e6 / f.MicrosPerNotification
	if r.cfg.Mode == ModePipeline && r.cfg.ProxyURL == "" && rep.CPU.MicrosPerNotification > 0 {
		f.PipelineRatio = rep.CPU.MicrosPerNotification / f.MicrosPerNotification
	}
	return f
}

// baselineRounds is how many rounds the baselines run in d: rounds of half a
// second, three at least. A shared machine slows down and speeds up over
// seconds; short rounds, each side's next to the other's, see the same
// machine, and pooled over many of them the figures hold from run to run
// (three rounds of three seconds moved a ratio by ±0.1).
func baselineRounds(d time.Duration) int {
	return max(3, int(d/(500*time.Millisecond)))
}

// inRoundOrder is the order the baselines run in round r: every other round
// backwards, so that no side always runs first after a switch.
func inRoundOrder[T any](xs []T, r int) []T {
	if r%2 == 0 {
		return xs
	}
	out := slices.Clone(xs)
	slices.Reverse(out)
	return out
}

func ratio(name string, v, target float64, atLeast bool) Ratio {
	if atLeast {
		return Ratio{Name: name, Value: v, Target: fmt.Sprintf("≥ %.2f", target), Met: v >= target}
	}
	return Ratio{Name: name, Value: v, Target: fmt.Sprintf("≤ %.2f", target), Met: v <= target}
}

// proxyAlone runs raw send_push calls for BaselineTime against the proxy in
// this process and returns its CPU µs per send_push (0 for a proxy elsewhere).
func (r *runner) proxyAlone(ctx context.Context) (us, perSec float64, err error) {
	if r.lab.Proxy == nil {
		return 0, 0, nil
	}
	mode := r.cfg.Mode
	r.cfg.Mode = ModeSendPush
	defer func() { r.cfg.Mode = mode }()
	r.signer = pushcrypto.NewSigner(r.lab.Set.Signing, r.lab.Set.SigningKeyID)
	r.client, r.proxyURL = r.lab.Server.ProxyClient(), r.lab.ProxyURL
	progress := r.cfg.Progress
	r.cfg.Progress = nil
	ph := r.run(ctx, 0, 16, r.cfg.BaselineTime, 0, "")
	r.cfg.Progress = progress
	for _, a := range ph.cpu.ByActor {
		if a.Actor == "proxy" {
			return a.MicrosPerNotification, ph.delivered(), nil
		}
	}
	if r.cfg.NoProfile {
		return 0, 0, nil
	}
	return 0, 0, errors.New("bench: no proxy CPU in the send_push baseline's profile")
}

// drive runs c with 16 concurrent senders for d and keeps its best figures.
func (r *runner) drive(ctx context.Context, c *contender, d time.Duration) error {
	// Connections up before timing, dialled as the client: a connection's
	// read loop runs on a goroutine its dialler starts, with the dialler's
	// profile label. Dialled unlabelled, a raw client's read loop (a part
	// of every push it makes) went to "runtime + other" while the proxy's,
	// dialled from a labelled proxy goroutine, counted as the proxy's.
	var err error
	events.AsActor(labelClient, func() { err = c.push(ctx) })
	if err != nil {
		return err
	}
	cpu := startCPU(!r.cfg.NoProfile, 0)
	var n atomic.Int64
	var first atomic.Value
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	events.AsActor(labelClient, func() {
		for range 16 {
			wg.Go(func() {
				for time.Now().Before(deadline) && ctx.Err() == nil {
					if err := c.push(ctx); err != nil {
						first.CompareAndSwap(nil, err)
						return
					}
					n.Add(1)
				}
			})
		}
	})
	wg.Wait()
	secs := time.Since(start).Seconds()
	res := cpu.stop(int(n.Load()))
	if e, _ := first.Load().(error); e != nil {
		return e
	}
	c.perSec = math.Max(c.perSec, float64(n.Load())/secs)
	c.busy += time.Duration(secs * float64(time.Second))
	c.pool(n.Load(), res.ByActor)
	return nil
}

const (
	nameBareAPNs = "bare HTTP/2+TLS handler ← apns2 client"
	nameMockAPNs = "mockapns ← apns2 client"
	nameBareFCM  = "bare HTTP/2+TLS handler ← firebase client"
	nameMockFCM  = "mockfcm ← firebase client"
	nameBareJSON = "bare net/http JSON handler ← send_push"
	nameProxy    = "pushlab proxy ← send_push, → mockapns"
	nameProxyMix = "pushlab proxy ← send_push, → mockapns + mockfcm (iOS share)"
	// the proxy rows' floors: the raw clients replaying the proxy's own
	// provider requests
	nameProxyAPNs = "mockapns ← apns2 client, the proxy's APNs request"
	nameProxyFCM  = "mockfcm ← firebase client, the proxy's FCM message"
)

// contenders starts the servers (labelled as the server side) and the
// clients of each baseline.
func (r *runner) contenders(ctx context.Context) ([]*contender, error) {
	set := r.lab.Set
	var cs []*contender
	var err error
	serve := func(h http.Handler) (string, func(), error) {
		srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Mock.TLS()}}}
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP2(true)
		srv.Protocols.SetHTTP1(true)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		events.AsActor(labelServer, func() { go srv.ServeTLS(ln, "", "") })
		return "https://localhost:" + strings.Split(ln.Addr().String(), ":")[1], func() { srv.Close() }, nil
	}

	// APNs: the bare handler reads the body and answers 200 with an apns-id.
	bareURL, stopBare, err := serve(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("apns-id", "8D7A3E5C-0000-4000-8000-000000000000")
		w.WriteHeader(http.StatusOK)
	}))
	if err != nil {
		return cs, err
	}
	var m *mockapns.Server
	events.AsActor(labelServer, func() {
		if m, err = mockapns.New(mockapns.Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Logger: r.log}); err == nil {
			err = m.Start()
		}
	})
	if err != nil {
		stopBare()
		return cs, err
	}
	if err := m.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		return cs, err
	}
	reg, err := m.RegisterDevice(set.BundleID, testpki.Production, "baseline")
	if err != nil {
		return cs, err
	}
	m.Attach(reg.Token, mockapns.ReceiverFunc(func(mockapns.Delivery) {})) // online: each push is delivered
	apnsClient := func(host string) *apns2.Client {
		c := apns2.NewTokenClient(&token.Token{AuthKey: set.APNsKey.Key, KeyID: set.APNsKey.KeyID, TeamID: set.TeamID})
		c.Host = host
		c.HTTPClient.Transport.(*http2.Transport).TLSClientConfig = &tls.Config{RootCAs: set.CA.Pool()}
		return c
	}
	n := &apns2.Notification{DeviceToken: reg.Token, Topic: set.BundleID, PushType: apns2.PushTypeAlert,
		Payload: []byte(`{"aps":{"alert":{"title":"town-square","body":"benchmark notification"},"mutable-content":1},"ack_id":"x"}`)}
	apnsPush := func(c *apns2.Client, n *apns2.Notification) func(context.Context) error {
		return func(ctx context.Context) error {
			res, err := c.PushWithContext(ctx, n)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("answered %d %s", res.StatusCode, res.Reason)
			}
			return nil
		}
	}
	ca, cm := apnsClient(bareURL), apnsClient(m.URL)
	cs = append(cs,
		&contender{name: nameBareAPNs, push: apnsPush(ca, n), close: func() { ca.CloseIdleConnections(); stopBare() }},
		&contender{name: nameMockAPNs, push: apnsPush(cm, n), close: func() { cm.CloseIdleConnections(); m.Close() }})

	// FCM: the bare handler answers the OAuth2 token endpoint and sends.
	bareFCM, stopFCM, err := serve(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(req.URL.Path, "/token") {
			io.WriteString(w, `{"access_token":"baseline","token_type":"Bearer","expires_in":3600}`)
			return
		}
		io.WriteString(w, `{"name":"projects/p/messages/0:1"}`)
	}))
	if err != nil {
		return cs, err
	}
	var f *mockfcm.Server
	events.AsActor(labelServer, func() {
		if f, err = mockfcm.New(mockfcm.Config{Cert: set.Mock.TLS(), DeviceRatePerMinute: -1, Logger: r.log}); err == nil {
			err = f.Start()
		}
	})
	if err != nil {
		stopFCM()
		return cs, err
	}
	sa := *set.Firebase
	sa.TokenURI = f.TokenURL()
	if err := f.RegisterServiceAccount(&sa); err != nil {
		return cs, err
	}
	freg, err := f.RegisterDevice(set.Package, sa.ProjectID, "baseline")
	if err != nil {
		return cs, err
	}
	f.Attach(freg.Token, mockfcm.ReceiverFunc(func(mockfcm.Delivery) {}))
	fcmClient := func(endpoint, tokenURL string) (*messaging.Client, *http.Transport, error) {
		conf, err := google.JWTConfigFromJSON(sa.JSON(), "https://www.googleapis.com/auth/firebase.messaging")
		if err != nil {
			return nil, nil, err
		}
		conf.TokenURL = tokenURL
		base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: set.CA.Pool()}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
		tctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: base})
		hc := &http.Client{Transport: &oauth2.Transport{Source: conf.TokenSource(tctx), Base: base}}
		app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: sa.ProjectID},
			option.WithHTTPClient(hc), option.WithEndpoint(endpoint))
		if err != nil {
			return nil, nil, err
		}
		c, err := app.Messaging(context.Background())
		return c, base, err
	}
	msg := &messaging.Message{Token: freg.Token, Android: &messaging.AndroidConfig{Priority: "high"},
		Data: map[string]string{"type": "message", "message": "benchmark notification", "ack_id": "x"}}
	fcmPush := func(c *messaging.Client, msg *messaging.Message) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.Send(ctx, msg); return err }
	}
	fb, tb, err := fcmClient(bareFCM+"/v1", bareFCM+"/token")
	if err != nil {
		return cs, err
	}
	fm, tm, err := fcmClient(f.Endpoint(), f.TokenURL())
	if err != nil {
		return cs, err
	}
	cs = append(cs,
		&contender{name: nameBareFCM, push: fcmPush(fb, msg), close: func() { tb.CloseIdleConnections(); stopFCM() }},
		&contender{name: nameMockFCM, push: fcmPush(fm, msg), close: func() { tm.CloseIdleConnections(); f.Close() }})

	// The proxy's inbound floor: decode a send_push body, answer OK.
	bareJSON, stopJSON, err := serve(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var pn mmpush.PushNotification
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&pn); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(mmpush.Response{Status: "OK"})
	}))
	if err != nil {
		return cs, err
	}
	jc := tlsClient(set.CA.Pool())
	// The body the proxy alone gets (same fields, a real signature), so
	// that both sides decode the same bytes.
	sig, err := pushcrypto.NewSigner(set.Signing, set.SigningKeyID).Sign("bench1", reg.Token, time.Now())
	if err != nil {
		return cs, err
	}
	body := sendPushBody("bench1", mmpush.PlatformApple, "bench-server", reg.Token, sig, 1)
	if r.lab.Proxy != nil {
		v2 := mmpush.PlatformVersionSuffix + "2"
		// pushlab's proxy, the "apple" app type only, pushing to m
		pc := tlsClient(set.CA.Pool())
		purl, stopProxy, err := r.baselineProxy(m.URL, nil)
		if err != nil {
			return cs, err
		}
		pbody := sendPushBody("bench1", mmpush.PlatformApple+v2, "bench-server", reg.Token, sig, 1)
		cs = append(cs, &contender{name: nameProxy, close: func() { pc.CloseIdleConnections(); stopProxy() },
			push: postSendPush(pc, purl, pbody)})

		// and with "android" too, pushing to f: the bench's iOS share of
		// its pushes to m, the rest to f.
		fsig, err := pushcrypto.NewSigner(set.Signing, set.SigningKeyID).Sign("bench1", freg.Token, time.Now())
		if err != nil {
			return cs, err
		}
		mc := tlsClient(set.CA.Pool())
		murl, stopMix, err := r.baselineProxy(m.URL, &fcmTarget{endpoint: f.Endpoint(), account: sa})
		if err != nil {
			return cs, err
		}
		toAPNs := postSendPush(mc, murl, pbody)
		toFCM := postSendPush(mc, murl, sendPushBody("bench1", mmpush.PlatformAndroid+v2, "bench-server", freg.Token, fsig, 1))
		var seq atomic.Uint64
		ios := r.cfg.IOSShare
		cs = append(cs, &contender{name: nameProxyMix, close: func() { mc.CloseIdleConnections(); stopMix() },
			push: func(ctx context.Context) error {
				// the n-th push goes to APNs when it brings the count
				// of APNs pushes up to the share: an even spread.
				n := float64(seq.Add(1))
				if math.Floor(n*ios) > math.Floor((n-1)*ios) {
					return toAPNs(ctx)
				}
				return toFCM(ctx)
			}})

		// The proxy rows' floors: the raw clients sending exactly the
		// requests the proxy sends for these bodies (its data keys, its
		// APNs payload and headers), as the mocks logged them, to the
		// same mocks. The mock rows above keep their own messages.
		ra := apnsClient(m.URL)
		rf, tr, err := fcmClient(f.Endpoint(), f.TokenURL())
		if err != nil {
			return cs, err
		}
		an, err := replayed(ctx, m.Requests, toAPNs, apnsNotification, func(n *apns2.Notification) func(context.Context) error { return apnsPush(ra, n) })
		if err != nil {
			ra.CloseIdleConnections()
			tr.CloseIdleConnections()
			return cs, err
		}
		cs = append(cs, &contender{name: nameProxyAPNs, push: apnsPush(ra, an), close: ra.CloseIdleConnections})
		fmsg, err := replayed(ctx, f.Requests, toFCM, fcmMessage, func(msg *messaging.Message) func(context.Context) error { return fcmPush(rf, msg) })
		if err != nil {
			tr.CloseIdleConnections()
			return cs, err
		}
		cs = append(cs, &contender{name: nameProxyFCM, push: fcmPush(rf, fmsg), close: tr.CloseIdleConnections})
	}
	cs = append(cs, &contender{name: nameBareJSON, close: func() { jc.CloseIdleConnections(); stopJSON() },
		push: postSendPush(jc, bareJSON, body)})
	return cs, nil
}

// replayed is the provider request that push (a send_push through the
// proxy) makes, as the mock's inspection log (requests) shows it, rebuilt by
// parse for a raw client; it checks that the raw client's push (send) of it
// reaches the mock as the same request: path, headers and body.
func replayed[T any](ctx context.Context, requests func(uint64) []pushtest.Request, push func(context.Context) error,
	parse func(pushtest.Request) (T, error), send func(T) func(context.Context) error) (T, error) {
	var zero T
	want, err := pushed(ctx, requests, push)
	if err != nil {
		return zero, fmt.Errorf("bench: the proxy's provider request: %w", err)
	}
	v, err := parse(want)
	if err != nil {
		return zero, fmt.Errorf("bench: the proxy's provider request %s: %w", want.Path, err)
	}
	// Dialled as the client, as drive dials: the connection's read loop,
	// part of every push, must count as the client's.
	var got pushtest.Request
	events.AsActor(labelClient, func() { got, err = pushed(ctx, requests, send(v)) })
	if err != nil {
		return zero, fmt.Errorf("bench: the raw client's replay of the proxy's request: %w", err)
	}
	if got.Path != want.Path || got.Body != want.Body || !maps.Equal(got.Headers, want.Headers) {
		return zero, fmt.Errorf("bench: the raw client's replay differs from the proxy's request:\n%s %v %s\n%s %v %s",
			got.Path, got.Headers, got.Body, want.Path, want.Headers, want.Body)
	}
	return v, nil
}

// pushed runs push and returns the one provider send it made, answered
// 200, from the mock's inspection log (which adds a request once answered:
// it may show a moment after the client has its answer).
func pushed(ctx context.Context, requests func(uint64) []pushtest.Request, push func(context.Context) error) (pushtest.Request, error) {
	var mark uint64
	if rs := requests(0); len(rs) > 0 {
		mark = rs[len(rs)-1].Seq
	}
	if err := push(ctx); err != nil {
		return pushtest.Request{}, err
	}
	for wait := time.Now().Add(5 * time.Second); ; {
		var sends []pushtest.Request
		for _, rq := range requests(mark) {
			if strings.HasPrefix(rq.Path, "/3/device/") || strings.HasSuffix(rq.Path, ":send") { // not a token request
				sends = append(sends, rq)
			}
		}
		switch {
		case len(sends) == 1 && sends[0].Status == http.StatusOK:
			return sends[0], nil
		case len(sends) > 0:
			return pushtest.Request{}, fmt.Errorf("%d provider requests, the first answered %d %s", len(sends), sends[0].Status, sends[0].Reason)
		case time.Now().After(wait):
			return pushtest.Request{}, errors.New("no provider request in the mock's log")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// apnsNotification is the apns2 notification that sends rq again: its
// device token, apns- headers and payload bytes.
func apnsNotification(rq pushtest.Request) (*apns2.Notification, error) {
	h := rq.Headers
	n := &apns2.Notification{DeviceToken: rq.Token, Topic: h["apns-topic"], ApnsID: h["apns-id"], CollapseID: h["apns-collapse-id"],
		PushType: apns2.EPushType(h["apns-push-type"]), Payload: []byte(rq.Body)}
	var err error
	if p := h["apns-priority"]; p != "" {
		if n.Priority, err = strconv.Atoi(p); err != nil {
			return nil, err
		}
	}
	if e := h["apns-expiration"]; e != "" {
		secs, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			return nil, err
		}
		n.Expiration = time.Unix(secs, 0)
	}
	return n, nil
}

// fcmMessage is the firebase message whose send request is rq's body.
func fcmMessage(rq pushtest.Request) (*messaging.Message, error) {
	var req struct {
		ValidateOnly bool               `json:"validate_only"`
		Message      *messaging.Message `json:"message"`
	}
	if err := json.Unmarshal([]byte(rq.Body), &req); err != nil {
		return nil, err
	}
	if req.ValidateOnly || req.Message == nil {
		return nil, errors.New("not a send request")
	}
	return req.Message, nil
}

// postSendPush posts body to base's send_push and wants an OK.
func postSendPush(c *http.Client, base string, body []byte) func(context.Context) error {
	return func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+mmpush.PathSendPush, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"OK"`)) {
			return fmt.Errorf("answered %d %s", res.StatusCode, b)
		}
		return nil
	}
}

// fcmTarget is the mockfcm a baseline proxy pushes to, and the service
// account it registered.
type fcmTarget struct {
	endpoint string
	account  testpki.ServiceAccount
}

// baselineProxy serves pushlab's proxy as the lab configures it (events on
// the lab's spine, no throttle), with the "apple" app type pushing to
// apnsURL and, if fcm is set, the "android" one pushing to fcm; its
// goroutines carry labelProxy.
func (r *runner) baselineProxy(apnsURL string, fcm *fcmTarget) (string, func(), error) {
	set := r.lab.Set
	cfg := proxytest.KeySetConfig(set, r.lab.KeyDir, "")
	cfg.ApplePushSettings, cfg.AndroidPushSettings = cfg.ApplePushSettings[:1], nil
	cfg.APNsHost = apnsURL
	cfg.ThrottlePerSec = 0
	cleanup := func() {}
	if fcm != nil {
		// The service account's token_uri is fcm's, in a file of its own.
		dir, err := os.MkdirTemp("", "pushlab-baseline-")
		if err != nil {
			return "", nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		file := filepath.Join(dir, testpki.FileServiceAccount)
		if err := os.WriteFile(file, fcm.account.JSON(), 0o600); err != nil {
			cleanup()
			return "", nil, err
		}
		cfg.AndroidPushSettings = []proxy.AndroidPushSettings{{Type: mmpush.PlatformAndroid, ServiceFileLocation: file}}
		cfg.FCMEndpoint = fcm.endpoint
	}
	opts := proxy.Options{
		RootCAs:   set.CA.Pool(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Proxy.TLS()}, MinVersion: tls.VersionTLS12},
		Bus:       r.lab.Bus, Logger: r.log,
	}
	var p *proxy.Server
	var err error
	events.AsActor(labelProxy, func() { p, err = proxy.New(cfg, opts) })
	if err != nil {
		cleanup()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.Close()
		cleanup()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	events.AsActor(labelProxy, func() { go p.Serve(ctx, ln) })
	return "https://localhost:" + strings.Split(ln.Addr().String(), ":")[1], func() { cancel(); p.Close(); cleanup() }, nil
}

// cryptoBaselines: one notification's crypto (seal, open, sign, verify)
// with bare stdlib calls and with pushcrypto, interleaved in rounds, CPU
// time per operation (pooled over the rounds) and allocations.
func cryptoBaselines(d time.Duration) (prim, ours Baseline, err error) {
	device, err := pushcrypto.GenerateDeviceKey(rand.Reader)
	if err != nil {
		return prim, ours, err
	}
	signing, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return prim, ours, err
	}
	signer := pushcrypto.NewSigner(signing, "bench")
	verifier, err := pushcrypto.NewVerifier(map[string]*ecdsa.PublicKey{"bench": &signing.PublicKey})
	if err != nil {
		return prim, ours, err
	}
	contents := pushcrypto.Contents{Message: "benchmark notification with a message of a typical length", ChannelName: "town-square", SenderName: "bench"}
	plain := []byte(`{"message":"benchmark notification with a message of a typical length","channel_name":"town-square","sender_name":"bench"}`)
	devPriv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return prim, ours, err
	}
	auth, salt := make([]byte, 16), make([]byte, 16)
	digest := sha256.Sum256([]byte("ack-id.device-token"))
	var failed error
	fail := func(e error) {
		if e != nil && failed == nil {
			failed = e
		}
	}
	primitives := func() {
		// Seal: ephemeral key, ECDH, HKDF, AES-128-GCM.
		eph, err := ecdh.P256().GenerateKey(rand.Reader)
		fail(err)
		shared, err := eph.ECDH(devPriv.PublicKey())
		fail(err)
		key, err := hkdf.Key(sha256.New, shared, salt, "Content-Encoding: aes128gcm", 16)
		fail(err)
		nonce, err := hkdf.Key(sha256.New, shared, auth, "Content-Encoding: nonce", 12)
		fail(err)
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		sealed := gcm.Seal(nil, nonce, plain, nil)
		// Open: ECDH, HKDF, AES-128-GCM.
		shared2, err := devPriv.ECDH(eph.PublicKey())
		fail(err)
		key2, _ := hkdf.Key(sha256.New, shared2, salt, "Content-Encoding: aes128gcm", 16)
		block2, _ := aes.NewCipher(key2)
		gcm2, _ := cipher.NewGCM(block2)
		_, err = gcm2.Open(nil, nonce, sealed, nil)
		fail(err)
		// Sign and verify.
		sig, err := ecdsa.SignASN1(rand.Reader, signing, digest[:])
		fail(err)
		if !ecdsa.VerifyASN1(&signing.PublicKey, digest[:], sig) {
			fail(errors.New("bench: verify failed"))
		}
	}
	pushlab := func() {
		env, err := pushcrypto.SealContents(device.Recipient(), contents, rand.Reader)
		fail(err)
		_, err = pushcrypto.OpenContents(device, env)
		fail(err)
		now := time.Now()
		sig, err := signer.Sign("ack-id", "device-token", now)
		fail(err)
		fail(verifier.Verify(sig, "ack-id", "device-token", now))
	}
	prim = Baseline{Name: "stdlib crypto: seal + open + sign + verify", Side: "one goroutine"}
	ours = Baseline{Name: "pushcrypto: seal + open + sign + verify", Side: "one goroutine"}
	type side struct {
		b      *Baseline
		f      func()
		ops    int
		cpu    time.Duration // pooled over the rounds
		allocs float64
	}
	sides := []*side{{b: &prim, f: primitives}, {b: &ours, f: pushlab}}
	rounds := baselineRounds(d)
	for round := range rounds {
		for _, x := range inRoundOrder(sides, round) {
			ops, cpu, wall, allocs := cpuPerOp(x.f, d/time.Duration(2*rounds))
			x.ops, x.cpu, x.allocs = x.ops+ops, x.cpu+cpu, allocs
			x.b.PerSec = math.Max(x.b.PerSec, float64(ops)/wall.Seconds())
		}
	}
	for _, x := range sides {
		x.b.MicrosPerOp, x.b.AllocsPerOp = float64(x.cpu.Microseconds())/float64(x.ops), x.allocs
	}
	return prim, ours, failed
}
