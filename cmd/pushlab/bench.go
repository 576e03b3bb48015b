package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pushlab/pushlab/bench"
)

func newBenchCmd(g *globals) *cobra.Command {
	var (
		cfg                               bench.Config
		caFile, htmlFile, prof, mutexProf string
		asJSON, ramp                      bool
		rampCfg                           bench.Ramp
		failOnLoss                        bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load the push path and report throughput, latency per hop, errors, accounting and CPU per actor",
		Long: `bench starts the actors in this process (server simulator → proxy over TLS →
mock APNs / FCM → simulated devices → ack → /api/v1/ack), offers load, and
reports what the event spine saw: notifications a second, latency percentiles
per stage and end to end, errors by provider reason, the accounting (sent =
delivered + failed + lost; duplicated), and CPU microseconds per notification
by actor.

Load: --rate N (open loop) or --concurrency N (closed loop), for --duration or
--total notifications. --ramp raises the rate step by step until p99 end to
end passes --p99 and reports the highest rate that stayed under it.

--proxy-url benches a proxy running elsewhere: start it with the key set of
--keys (pushlab keys init) pointed at the mocks bench starts on --apns-listen,
--apns-dev-listen and --fcm-listen (the service account's token_uri must name
--fcm-listen); --ca-file verifies its certificate; --proxy-pid adds its CPU.
--mode send_push posts send_push bodies directly, without the server simulator.
--baselines measures bare handlers, raw clients and crypto primitives in the
same run and prints the ratios of the README's targets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ramp {
				cfg.Ramp = &rampCfg
			}
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return fmt.Errorf("--ca-file: %w", err)
				}
				cfg.ProxyCAs = x509.NewCertPool()
				if !cfg.ProxyCAs.AppendCertsFromPEM(pem) {
					return fmt.Errorf("--ca-file %s: no PEM certificate", caFile)
				}
			}
			if cfg.ProxyURL != "" && cfg.KeysDir == "" {
				return fmt.Errorf("--proxy-url needs --keys: the key set the proxy was configured with")
			}
			g.quietUnlessAsked(cmd, "error") // a fault mix makes the actors log every failure
			cfg.Logger = g.logger()
			if mutexProf != "" {
				f, err := os.Create(mutexProf)
				if err != nil {
					return err
				}
				defer f.Close()
				cfg.MutexProfile = f
			}
			if prof != "" {
				f, err := os.Create(prof)
				if err != nil {
					return err
				}
				defer f.Close()
				cfg.CPUProfile = f
			}
			stop := progress(cmd.ErrOrStderr(), &cfg)
			rep, err := bench.Run(cmd.Context(), cfg)
			stop()
			if rep == nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if werr := rep.WriteJSON(out); werr != nil {
					return werr
				}
			} else if werr := rep.WriteText(out); werr != nil {
				return werr
			}
			if htmlFile != "" {
				f, ferr := os.Create(htmlFile)
				if ferr != nil {
					return ferr
				}
				if werr := rep.WriteHTML(f); werr != nil {
					f.Close()
					return werr
				}
				if cerr := f.Close(); cerr != nil {
					return cerr
				}
			}
			if err != nil {
				return err
			}
			if a := rep.Accounting; failOnLoss && (a.Lost > 0 || a.Duplicated > 0 || !a.Balanced()) {
				return fmt.Errorf("%d lost, %d duplicated", a.Lost, a.Duplicated)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ProxyURL, "proxy-url", "", "bench this running proxy instead of pushlab's in-process one")
	f.StringVar(&caFile, "ca-file", "", "PEM CA that verifies --proxy-url's certificate (default: the key set's CA)")
	f.StringVar(&cfg.KeysDir, "keys", "", "key set directory (pushlab keys init) the proxy at --proxy-url uses; default a fresh one in memory")
	f.StringVar(&cfg.APNsListen, "apns-listen", "", "mock APNs (production) address, for --proxy-url (default a free port)")
	f.StringVar(&cfg.APNsDevListen, "apns-dev-listen", "", "mock APNs (development) address, for --proxy-url")
	f.StringVar(&cfg.FCMListen, "fcm-listen", "", "mock FCM address, for --proxy-url")
	f.IntVar(&cfg.ProxyPID, "proxy-pid", 0, "process id of the proxy at --proxy-url: its CPU time is reported")
	f.StringVar(&cfg.Mode, "mode", bench.ModePipeline, "pipeline (server simulator signs and seals) or send_push (raw send_push calls)")
	f.IntVar(&cfg.Devices, "devices", 100, "simulated devices")
	f.Float64Var(&cfg.IOSShare, "ios", 0.5, "share of iOS devices, 0..1 (the rest Android)")
	f.StringVar(&cfg.Contents, "contents", "full", "push contents: generic, generic_no_channel, full, id_loaded")
	f.StringVar(&cfg.Profile, "profile", "hpns", "profile: hpns, eas (encrypt), tpns (plaintext)")
	f.Float64Var(&cfg.Rate, "rate", 0, "offer this many notifications a second (open loop); 0: closed loop")
	f.IntVar(&cfg.Concurrency, "concurrency", 32, "closed loop: senders, each sending when its last was answered")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to offer load")
	f.IntVar(&cfg.Total, "total", 0, "stop after this many notifications (0: by --duration)")
	f.StringVar(&cfg.Faults, "faults", "", `fault mix at both mocks, e.g. "1%:503,0.5%:Unregistered,0.1%:reset,1%:delay=20ms"`)
	f.DurationVar(&cfg.Drain, "drain", 10*time.Second, "wait this long for notifications in flight after the load; the rest are lost")
	f.BoolVar(&ramp, "ramp", false, "find the highest rate whose p99 end to end stays under --p99")
	f.DurationVar(&rampCfg.P99, "p99", 10*time.Millisecond, "ramp: the p99 end-to-end bound")
	f.Float64Var(&rampCfg.Start, "ramp-start", 500, "ramp: first rate")
	f.Float64Var(&rampCfg.Factor, "ramp-factor", 1.3, "ramp: each step's rate over the last")
	f.Float64Var(&rampCfg.Max, "ramp-max", 100_000, "ramp: highest rate tried")
	f.DurationVar(&rampCfg.Step, "ramp-step", 3*time.Second, "ramp: length of a step")
	f.BoolVar(&cfg.Baselines, "baselines", false, "measure the baselines in the same run and print the target ratios")
	f.DurationVar(&cfg.BaselineTime, "baseline-time", 2*time.Second, "length of each baseline")
	f.BoolVar(&cfg.NoProfile, "no-profile", false, "skip the CPU profile (no CPU split by actor)")
	f.StringVar(&prof, "cpuprofile", "", "write the load phase's CPU profile here (pprof; label actor=proxy|server|devices|mockapns|mockfcm)")
	f.StringVar(&mutexProf, "mutexprofile", "", "write where goroutines waited for locks during the load (pprof)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (schema "+bench.Schema+")")
	f.StringVar(&htmlFile, "html", "", "also write a self-contained HTML report with plots to this file")
	f.BoolVar(&failOnLoss, "fail-on-loss", false, "exit non-zero if a notification was lost or duplicated")
	return envPrefix(cmd, "BENCH_")
}

// progress shows the run on w: a progress bar when w is a terminal, a plain
// line every few seconds otherwise. It returns a function that ends it.
func progress(w io.Writer, cfg *bench.Config) func() {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		cfg.Progress = func(p bench.Progress) {
			if bar == nil {
				max := int64(-1)
				switch {
				case p.Total > 0:
					max = int64(p.Total)
				case p.Planned > 0:
					max = int64(p.Planned / time.Second)
				}
				bar = progressbar.NewOptions64(max, progressbar.OptionSetWriter(w), progressbar.OptionShowElapsedTimeOnFinish(),
					progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30),
					progressbar.OptionThrottle(200*time.Millisecond))
			}
			if p.Total > 0 {
				bar.Set(p.Sent)
			} else {
				bar.Set64(int64(p.Elapsed / time.Second))
			}
			bar.Describe(fmt.Sprintf("%s %6.0f/s  delivered %d  failed %d  in flight %d", p.Step, p.Rate, p.Delivered, p.Failed, p.InFlight))
		}
		return func() {
			if bar != nil {
				bar.Finish()
			}
		}
	}
	cfg.ProgressEvery = 5 * time.Second
	cfg.Progress = func(p bench.Progress) {
		fmt.Fprintf(w, "bench: %s%5.0fs  %6.0f/s  sent %d  delivered %d  failed %d  in flight %d\n",
			p.Step+" ", p.Elapsed.Seconds(), p.Rate, p.Sent, p.Delivered, p.Failed, p.InFlight)
	}
	return func() {}
}
