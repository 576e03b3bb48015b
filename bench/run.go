package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
)

// Modes: what sends the notifications.
const (
	// ModePipeline: the server simulator signs, seals and posts each
	// notification; the devices ack through it to the proxy.
	ModePipeline = "pipeline"
	// ModeSendPush: the bench posts signed plaintext send_push bodies itself,
	// so the proxy is measured without the server simulator's work. Devices
	// ack to the server simulator, which did not send the push: the ack stops
	// there (no /api/v1/ack).
	ModeSendPush = "send_push"
)

// Config configures a run. Zero values take the defaults noted.
type Config struct {
	// ProxyURL, if set, is a push proxy running elsewhere (trusting
	// ProxyCAs to verify it). It must send to the mocks the bench starts at
	// APNsListen, APNsDevListen and FCMListen, with the key set in KeysDir.
	ProxyURL                             string
	ProxyCAs                             *x509.CertPool
	KeysDir                              string
	APNsListen, APNsDevListen, FCMListen string
	// ProxyPID, if set, is the proxy's process: its CPU time is reported.
	ProxyPID int

	Mode     string  // ModePipeline (default) or ModeSendPush
	Devices  int     // simulated devices (default 100)
	IOSShare float64 // share of iOS devices, 0..1 (default 0.5; negative: none)
	Contents string  // generic, generic_no_channel, full (default), id_loaded
	Profile  string  // hpns (default), eas, tpns

	// Rate > 0 offers that many notifications a second (open loop);
	// otherwise Concurrency senders each send the next as soon as the last
	// is answered (closed loop, default 32).
	Rate        float64
	Concurrency int
	// Duration (default 10 s) or Total, whichever ends first.
	Duration time.Duration
	Total    int
	// Faults is a fault mix: "1%:503,0.5%:Unregistered" (see parseFaults).
	Faults string
	// Drain bounds the wait for notifications in flight after the load
	// stops (default 10 s); what has not settled then is lost.
	Drain time.Duration

	// Ramp, if set, finds the highest rate with p99 end to end under a bound.
	Ramp *Ramp

	// Baselines measures the references (bare handlers, raw clients, crypto
	// primitives) in the same run, each for BaselineTime (default 2 s).
	Baselines    bool
	BaselineTime time.Duration

	// NoProfile skips the CPU profile that splits CPU by actor.
	NoProfile bool
	// CPUProfile, if set, receives the load phase's CPU profile (pprof
	// format; goroutines carry the label "actor": go tool pprof
	// -tagfocus=actor=proxy). With a ramp, the last step's.
	CPUProfile io.Writer
	// MutexProfile, if set, receives the contention profile of the run's
	// load phases (pprof: where goroutines waited for locks).
	MutexProfile io.Writer
	// Progress, if set, is called every ProgressEvery (default 1 s).
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        *slog.Logger
}

// Ramp configures the search for the highest sustained rate: steps of Step
// (default 3 s) from Start (default 500/s), each Factor (default 1.3) times
// the last, up to Max (default 100,000/s), stopping at the first step whose
// p99 end to end exceeds P99, that loses a notification, or that delivers
// less than 95 % of its offer.
type Ramp struct {
	Start, Factor, Max float64
	Step               time.Duration
	P99                time.Duration
}

// Progress is the running tally of the load phase.
type Progress struct {
	Elapsed, Planned time.Duration
	Total            int // planned notifications, 0 if by time
	Sent, Delivered  int
	Failed, InFlight int
	Rate             float64 // delivered a second over the last period
	Step             string  // ramp step, if any
}

type target struct {
	dev     *devicesim.Device
	session atomic.Pointer[string]
	busy    atomic.Bool // being reinstalled after a REMOVE
	sending atomic.Int64
	ok      atomic.Int64 // sends answered OK: each is one delivery to the device
}

// settle waits until t has no send outstanding and its device has taken
// and finished every push answered OK (shown or refused), so that
// reinstalling does not pull the app from under a push in flight (up to a
// bound).
func (t *target) settle() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st := t.dev.State().Stats
		if t.sending.Load() == 0 && int64(st.Delivered) >= t.ok.Load() && st.Delivered == st.Displayed+st.Rejected {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type runner struct {
	cfg      Config
	lab      *e2e.Lab
	bus      *events.Bus
	log      *slog.Logger
	targets  []*target
	next     atomic.Uint64
	notSent  atomic.Int64
	shed     atomic.Int64 // open loop: notifications not offered, too many in flight
	seq      atomic.Uint64
	signer   *pushcrypto.Signer
	client   *http.Client
	proxyURL string
	reinst   sync.WaitGroup
	profile  []byte // the last load phase's CPU profile

	following  sync.WaitGroup
	stopFollow func()
	proxyGap   atomic.Uint64 // proxy events its /events stream skipped
}

func (c *Config) defaults() error {
	if c.Mode == "" {
		c.Mode = ModePipeline
	}
	if c.Mode != ModePipeline && c.Mode != ModeSendPush {
		return fmt.Errorf("bench: mode %q: pipeline or send_push", c.Mode)
	}
	if c.Devices <= 0 {
		c.Devices = 100
	}
	if c.IOSShare == 0 {
		c.IOSShare = 0.5
	}
	if c.IOSShare < 0 {
		c.IOSShare = 0
	}
	if c.IOSShare > 1 {
		return fmt.Errorf("bench: iOS share %v is above 1", c.IOSShare)
	}
	if c.Contents == "" {
		c.Contents = string(serversim.ContentsFull)
	}
	if c.Profile == "" {
		c.Profile = string(serversim.ProfileHPNS)
	}
	if c.Rate < 0 {
		return fmt.Errorf("bench: rate %v is negative", c.Rate)
	}
	if c.Rate == 0 && c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Duration <= 0 && c.Total <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 10 * time.Second
	}
	if c.BaselineTime <= 0 {
		c.BaselineTime = 2 * time.Second
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if r := c.Ramp; r != nil {
		if r.Start <= 0 {
			r.Start = 500
		}
		if r.Factor <= 1 {
			r.Factor = 1.3
		}
		if r.Max <= 0 {
			r.Max = 100_000
		}
		if r.Step <= 0 {
			r.Step = 3 * time.Second
		}
		if r.P99 <= 0 {
			return errors.New("bench: a ramp needs a p99 bound")
		}
	}
	if c.ProxyURL != "" && c.KeysDir == "" {
		return errors.New("bench: a proxy elsewhere needs the key set it was configured with (KeysDir)")
	}
	return nil
}

// Run starts the actors, offers the load (or the ramp), measures the
// baselines if asked, and reports. ctx cancels the run; what was measured
// until then is reported.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	contents, err := serversim.ParseContents(cfg.Contents)
	if err != nil {
		return nil, err
	}
	profile, err := serversim.ParseProfile(cfg.Profile)
	if err != nil {
		return nil, err
	}
	faults, err := parseFaults(cfg.Faults)
	if err != nil {
		return nil, err
	}
	var set *testpki.Set
	if cfg.KeysDir != "" {
		if set, err = testpki.Load(cfg.KeysDir); err != nil {
			return nil, err
		}
	}
	bus := events.NewBus(events.WithHistory(0))
	r := &runner{cfg: cfg, bus: bus, log: cfg.Logger}
	started := time.Now()
	r.lab, err = e2e.Start(ctx, e2e.Options{Set: set, Contents: contents, Profile: profile, FCMDeviceRate: -1,
		Bus: bus, Logger: cfg.Logger, ProxyURL: cfg.ProxyURL, ProxyCAs: cfg.ProxyCAs,
		APNsListen: cfg.APNsListen, APNsDevListen: cfg.APNsDevListen, FCMListen: cfg.FCMListen})
	if err != nil {
		return nil, err
	}
	defer r.lab.Close()
	// Under the actors' labels, as in the load: the HTTP/2 connections
	// dialled here serve the load, and their read loops keep the label of
	// the goroutine that dialled them (unlabelled, they were counted as
	// "runtime + other").
	events.AsActor(devicesim.ActorDevices, func() { err = r.addDevices(ctx) })
	if err != nil {
		return nil, err
	}
	var proxyEvents string
	if cfg.ProxyURL != "" {
		proxyEvents = r.followProxy(ctx)
	}
	defer r.reinst.Wait()
	defer func() {
		if r.stopFollow != nil {
			r.stopFollow()
		}
	}()
	if cfg.Mode == ModeSendPush {
		r.signer = pushcrypto.NewSigner(r.lab.Set.Signing, r.lab.Set.SigningKeyID)
		r.client = r.lab.Server.ProxyClient()
		r.proxyURL = r.lab.ProxyURL
	}
	// Warm up: every device gets one notification, so connections and
	// tokens exist before anything is timed.
	warm := newCollector(bus, 1<<14)
	events.AsActor(r.sender(), func() {
		for _, t := range r.targets {
			r.send(ctx, t)
		}
	})
	warm.drain(time.Now().Add(cfg.Drain))
	for _, f := range faults {
		if _, err := r.lab.APNs.AddFault(f.apns); err != nil {
			return nil, fmt.Errorf("fault %s: %w", f.spec, err)
		}
		if _, err := r.lab.FCM.AddFault(f.fcm); err != nil {
			return nil, fmt.Errorf("fault %s: %w", f.spec, err)
		}
	}

	rep := &Report{Schema: Schema, Started: started, Setup: Setup{
		Target: "in-process", Mode: cfg.Mode, Devices: cfg.Devices, IOSShare: cfg.IOSShare,
		Contents: cfg.Contents, Profile: cfg.Profile, Rate: cfg.Rate, Concurrency: cfg.Concurrency,
		Total: cfg.Total, GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU()}}
	if cfg.ProxyURL != "" {
		rep.Setup.Target = cfg.ProxyURL
	}
	if cfg.Duration > 0 {
		rep.Setup.Duration = cfg.Duration.String()
	}
	rep.Setup.Faults = []string{}
	for _, f := range faults {
		rep.Setup.Faults = append(rep.Setup.Faults, f.spec)
	}
	if rp := cfg.Ramp; rp != nil {
		rep.Setup.Rate, rep.Setup.Concurrency = rp.Start, 0
		var last *phase
		for rate := rp.Start; rate <= rp.Max && ctx.Err() == nil; rate *= rp.Factor {
			ph := r.run(ctx, rate, 0, rp.Step, 0, fmt.Sprintf("ramp %.0f/s", rate))
			step := RampStep{Rate: rate, Delivered: ph.delivered(), Lost: ph.acc.Lost, Pass: true}
			if e2e, ok := ph.stage(StageEndToEnd); ok {
				step.P99 = e2e.P99
			}
			switch {
			case step.P99 > float64(rp.P99.Microseconds())/1000:
				step.Pass, step.Why = false, fmt.Sprintf("p99 %.2f ms over the bound %s", step.P99, rp.P99)
			case ph.acc.Lost > 0:
				step.Pass, step.Why = false, fmt.Sprintf("%d lost", ph.acc.Lost)
			case step.Delivered < 0.95*rate:
				step.Pass, step.Why = false, fmt.Sprintf("delivered %.0f/s, under 95%% of the offer", step.Delivered)
			}
			rep.Ramp = append(rep.Ramp, step)
			last = ph
			if !step.Pass {
				break
			}
			rep.MaxSustainedRate = rate
		}
		if last != nil {
			last.fill(rep)
		}
	} else {
		r.run(ctx, cfg.Rate, cfg.Concurrency, cfg.Duration, cfg.Total, "").fill(rep)
	}
	if proxyEvents != "" {
		rep.Notes = append(rep.Notes, proxyEvents)
	}
	if n := r.proxyGap.Load(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the proxy's /events stream skipped %d of its events: its stages are a sample", n))
	}
	if cfg.MutexProfile != nil {
		if err := pprof.Lookup("mutex").WriteTo(cfg.MutexProfile, 0); err != nil {
			return rep, fmt.Errorf("bench: mutex profile: %w", err)
		}
	}
	if r.profile != nil {
		if _, err := r.cfg.CPUProfile.Write(r.profile); err != nil {
			return rep, fmt.Errorf("bench: CPU profile: %w", err)
		}
	}
	if n := r.shed.Load(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d notifications were not offered: %d were already in flight (the open loop's cap)", n, maxInFlight))
	}
	if n := r.notSent.Load(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d sends found no session (a device was being reinstalled after REMOVE): not counted as sent", n))
	}
	if cfg.Baselines && ctx.Err() == nil {
		if err := r.baselines(ctx, rep); err != nil {
			return rep, err
		}
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("%d CPUs shared with whatever else runs: absolute figures move between runs, ratios of the same run less", runtime.NumCPU()))
	return rep, ctx.Err()
}

// followProxy puts the hops of a proxy elsewhere on this run's spine, read
// from its GET /events (pushlab's proxy serves one), so that its stages are
// timed too. It returns a note when it cannot.
func (r *runner) followProxy(ctx context.Context) string {
	roots := r.cfg.ProxyCAs
	if roots == nil {
		roots = r.lab.Set.CA.Pool()
	}
	url := "wss://" + strings.TrimPrefix(strings.TrimRight(r.cfg.ProxyURL, "/"), "https://") + "/events?history=0&buffer=65536"
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := events.Dial(dialCtx, url, &tls.Config{RootCAs: roots})
	if err != nil {
		return "the proxy's hops are not timed: it serves no /events (" + err.Error() + ")"
	}
	r.following.Add(1)
	go func() {
		defer r.following.Done()
		for {
			e, gap, err := st.Next()
			if err != nil {
				return
			}
			if gap != nil {
				r.proxyGap.Add(gap.Missing())
			}
			r.bus.Publish(e)
		}
	}()
	r.stopFollow = func() { st.Close(); r.following.Wait() }
	return ""
}

func (r *runner) addDevices(ctx context.Context) error {
	n := r.cfg.Devices
	ios := int(float64(n)*r.cfg.IOSShare + 0.5)
	r.targets = make([]*target, n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  atomic.Int64
	)
	for range min(16, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				app := r.lab.Android
				if i < ios {
					app = r.lab.IOSToken
				}
				name := "bench-" + strconv.Itoa(i)
				d, err := r.lab.Fleet.Add(ctx, name, name, app)
				if err != nil {
					mu.Lock()
					first = errors.Join(first, fmt.Errorf("device %s: %w", name, err))
					mu.Unlock()
					return
				}
				t := &target{dev: d}
				id := d.SessionID()
				t.session.Store(&id)
				r.targets[i] = t
			}
		})
	}
	wg.Wait()
	return first
}

// sender is the actor label of the goroutines that send: the server
// simulator's, or the bench's own when it posts send_push itself.
func (r *runner) sender() string {
	if r.cfg.Mode == ModeSendPush {
		return "bench sender"
	}
	return e2e.ActorServer
}

// pick returns the next target not being reinstalled.
func (r *runner) pick() *target {
	for range len(r.targets) {
		t := r.targets[r.next.Add(1)%uint64(len(r.targets))]
		if !t.busy.Load() {
			return t
		}
	}
	return nil
}

// send sends one notification to t and handles a REMOVE the way a device
// owner would: the app is reinstalled (new token, new session).
func (r *runner) send(ctx context.Context, t *target) {
	if t == nil {
		r.notSent.Add(1)
		return
	}
	var removed bool
	t.sending.Add(1)
	defer t.sending.Add(-1)
	if r.cfg.Mode == ModeSendPush {
		removed = r.sendPush(ctx, t)
	} else {
		n := r.seq.Add(1)
		res, err := r.lab.Server.Send(ctx, serversim.Message{SessionID: *t.session.Load(), ChannelName: "town-square",
			SenderName: "bench", Message: "benchmark notification " + strconv.FormatUint(n, 10)})
		if err != nil {
			r.notSent.Add(1)
			return
		}
		removed = len(res) > 0 && res[0].Removed
		if len(res) > 0 && res[0].Status == serversim.StatusOK {
			t.ok.Add(1)
		}
	}
	if removed && t.busy.CompareAndSwap(false, true) {
		r.reinst.Go(func() {
			defer t.busy.Store(false)
			t.settle()
			var err error
			// The phone's work, not the sender's whose goroutine started this.
			events.AsActor(devicesim.ActorDevices, func() { err = t.dev.Reinstall(context.WithoutCancel(ctx)) })
			if err != nil {
				r.log.Warn("reinstall after REMOVE failed", "device", t.dev.Name, "err", err)
				return
			}
			id := t.dev.SessionID()
			t.session.Store(&id)
		})
	}
}

// sendPush is send_push without the server simulator: a signed, plaintext
// PushNotification posted straight to the proxy. Its spine events are the
// server's hops, emitted by the bench as the sender.
func (r *runner) sendPush(ctx context.Context, t *target) (removed bool) {
	sess, ok := r.lab.Server.Session(*t.session.Load())
	if !ok {
		r.notSent.Add(1)
		return false
	}
	n := r.seq.Add(1)
	ack := "bench" + strconv.FormatUint(n, 36)
	platform := sess.Platform
	if sess.Version != "" {
		platform += "-" + sess.Version
	}
	sig, err := r.signer.Sign(ack, sess.Token, time.Now())
	if err != nil {
		r.notSent.Add(1)
		return false
	}
	body := sendPushBody(ack, platform, r.lab.Server.ID(), sess.Token, sig, n)
	r.bus.Publish(events.Event{TraceID: ack, Hop: events.ServerSent, Actor: "bench", Plaintext: true,
		Detail: "send_push to " + sess.DeviceName})
	status := serversim.StatusFail
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.proxyURL+mmpush.PathSendPush, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		var resp *http.Response
		if resp, err = r.client.Do(req); err == nil {
			var a mmpush.Response
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if json.Unmarshal(b, &a) == nil && a.Status != "" {
				status = a.Status
			}
		}
	}
	r.bus.Publish(events.Event{TraceID: ack, Hop: events.ServerAnswered, Actor: "bench", Status: status, Plaintext: true})
	if status == serversim.StatusOK {
		t.ok.Add(1)
	}
	if status == serversim.StatusRemove {
		return r.lab.Server.RemoveSession(sess.ID)
	}
	return false
}

// sendPushBody is the send_push body of the bench's n-th notification: the
// proxy alone and the bare JSON handler it is compared with get this shape.
func sendPushBody(ack, platform, serverID, token, sig string, n uint64) []byte {
	body, _ := json.Marshal(mmpush.PushNotification{AckID: ack, Platform: platform, ServerID: serverID, DeviceID: token,
		Type: devicesim.PushMessage, Version: mmpush.MessageV2, Badge: 1, Message: "benchmark notification " + strconv.FormatUint(n, 10),
		ChannelName: "town-square", SenderName: "bench", PostID: ack, ChannelID: "bench", Category: "CAN_REPLY",
		ContentAvailable: 1, Signature: sig})
	return body
}

// maxInFlight caps an open loop's notifications in flight.
const maxInFlight = 20_000

// phase is one measured load period.
type phase struct {
	seconds float64
	acc     Accounting
	stages  []Stage
	errs    Errors
	cpu     CPU
	perSec  []Second
	late    int
}

func (p *phase) delivered() float64 {
	if p.seconds == 0 {
		return 0
	}
	return float64(p.acc.Delivered) / p.seconds
}

func (p *phase) stage(name string) (Stage, bool) {
	for _, s := range p.stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

func (p *phase) fill(rep *Report) {
	rep.Seconds = p.seconds
	rep.Accounting, rep.Stages, rep.Errors, rep.CPU, rep.Timeline = p.acc, p.stages, p.errs, p.cpu, p.perSec
	if p.seconds > 0 {
		rep.Throughput = Throughput{Sent: float64(p.acc.Sent) / p.seconds, Delivered: p.delivered()}
	}
	if p.acc.EventsMissed > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the bench missed %d spine events (its reader fell behind): the accounting is a lower bound", p.acc.EventsMissed))
	}
}

// run offers one load shape and measures it.
func (r *runner) run(ctx context.Context, rate float64, conc int, dur time.Duration, total int, step string) *phase {
	col := newCollector(r.bus, 1<<16)
	if r.cfg.MutexProfile != nil {
		runtime.SetMutexProfileFraction(5)
		defer runtime.SetMutexProfileFraction(0)
	}
	cpu := startCPU(!r.cfg.NoProfile, r.cfg.ProxyPID)
	start := time.Now()
	col.start = start
	var deadline time.Time
	if dur > 0 {
		deadline = start.Add(dur)
	}
	stop := make(chan struct{})
	progressDone := make(chan struct{})
	go r.progress(col, start, dur, total, step, stop, progressDone)

	var issued, stoppedAt atomic.Int64
	more := func() bool {
		now := time.Now()
		if ctx.Err() == nil && (deadline.IsZero() || now.Before(deadline)) && (total <= 0 || issued.Add(1) <= int64(total)) {
			return true
		}
		stoppedAt.CompareAndSwap(0, int64(now.Sub(start)))
		return false
	}
	var wg sync.WaitGroup
	var inflight atomic.Int64
	events.AsActor(r.sender(), func() {
		if rate > 0 {
			// Open loop: each notification leaves at its time, answered or
			// not, so a slow system shows as latency, not as a lower offer.
			interval := time.Duration(float64(time.Second) / rate)
			for i := 0; ; i++ {
				due := start.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				if !more() {
					break
				}
				// A system that cannot keep up would otherwise gather
				// unbounded goroutines; past the cap the offer is cut and said so.
				if inflight.Load() >= maxInFlight {
					r.shed.Add(1)
					continue
				}
				inflight.Add(1)
				wg.Go(func() {
					defer inflight.Add(-1)
					r.send(ctx, r.pick())
				})
			}
			return
		}
		for range conc {
			wg.Go(func() {
				for more() {
					r.send(ctx, r.pick())
				}
			})
		}
	})
	wg.Wait()
	// Rates are over the time load was offered, not the wait for the last answers.
	// An open loop offers for exactly its duration, whatever the timers' slack.
	seconds := time.Duration(stoppedAt.Load()).Seconds()
	if rate > 0 && dur > 0 {
		seconds = dur.Seconds()
	}
	if seconds <= 0 {
		seconds = time.Since(start).Seconds()
	}
	col.drain(time.Now().Add(r.cfg.Drain))
	close(stop)
	<-progressDone
	p := &phase{seconds: seconds, acc: col.acc, stages: col.stages(), perSec: col.perSec, late: col.late}
	p.errs = Errors{ProviderReasons: sortedCounts(col.reasons), ProxyVerdicts: sortedCounts(col.verdicts),
		FailureReasons: sortedCounts(col.failures), FaultsInjected: col.faults}
	p.cpu = cpu.stop(p.acc.Delivered)
	if r.cfg.CPUProfile != nil && cpu.started {
		r.profile = cpu.prof.Bytes()
	}
	return p
}

func (r *runner) progress(col *collector, start time.Time, dur time.Duration, total int, step string, stop, done chan struct{}) {
	defer close(done)
	if r.cfg.Progress == nil {
		return
	}
	tick := time.NewTicker(r.cfg.ProgressEvery)
	defer tick.Stop()
	last, lastAt := 0, start
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			acc, open := col.snapshot()
			rate := float64(acc.Delivered-last) / now.Sub(lastAt).Seconds()
			last, lastAt = acc.Delivered, now
			r.cfg.Progress(Progress{Elapsed: now.Sub(start), Planned: dur, Total: total, Sent: acc.Sent,
				Delivered: acc.Delivered, Failed: acc.Failed, InFlight: open, Rate: rate, Step: step})
		}
	}
}

// tlsClient is an HTTP/2 client trusting roots.
func tlsClient(roots *x509.CertPool, certs ...tls.Certificate) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs},
		ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}}
}
