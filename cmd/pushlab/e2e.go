package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/pushlabtc"
)

type e2eFlags struct {
	topologies   []string
	image        string
	proxyImage   string
	proxyConfig  string
	proxyCmd     string
	proxyEnv     []string
	proxyPort    string
	proxyURL     string
	scenario     string
	junit        string
	jsonOut      bool
	artifacts    string
	parallel     int
	short        bool
	listOnly     bool
	startTimeout time.Duration
}

func newE2ECmd(g *globals) *cobra.Command {
	var f e2eFlags
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Run the scenario library against a push proxy, in process or in containers, for CI",
		Long: `e2e plays pushlab's scenarios (delivery in every contents mode, removals, wrong
identities, provider errors and retries, timeouts, resets, forged and replayed
pushes, a thousand devices…) through a push proxy and checks, on the event
spine, what happened to every notification: each send_push accounted OK,
FAIL or REMOVE, sent = delivered + held + reported failures, nothing
delivered twice, nothing lost silently.

--topology containers puts any proxy image under test: the mocks run under
Apple's and Google's host names on a private network, and the proxy
container gets a fresh upstream-format mattermost-push-proxy.json (at
--proxy-config), its key files under /etc/pushlab/keys and pushlab's CA as
SSL_CERT_FILE. Without --proxy-image, pushlab's own proxy is the image under
test, started with nothing but that file and SSL_CERT_FILE. The server
simulators and the phones run in containers of their own on that network too
(pushlab server, pushlab devices; one pair per contents mode and profile),
driven over their control APIs; with --proxy-url they stay in this process.

Exit status 1 if any scenario fails. Containers and the network are removed
at the end, also on failure or Ctrl-C.`,
		Example: `  pushlab e2e
  pushlab e2e --topology containers --junit e2e.xml --artifacts e2e-artifacts
  pushlab e2e --topology containers --proxy-image mattermost/mattermost-push-proxy:6.2 --junit e2e.xml
  pushlab e2e --scenario 'deliver/*,retry/*' --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runE2E(cmd, f, g.logLevel) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.topologies, "topology", []string{"inprocess"}, "inprocess, containers, or both (comma-separated)")
	fl.StringVar(&f.image, "image", "", "pushlab image for the mocks (default: built from this binary, which must be static: make build)")
	fl.StringVar(&f.proxyImage, "proxy-image", "", "proxy image under test (default: pushlab's proxy from --image)")
	fl.StringVar(&f.proxyConfig, "proxy-config", pushlabtc.DefaultProxyConfigPath, "where the proxy image reads mattermost-push-proxy.json")
	fl.StringVar(&f.proxyCmd, "proxy-cmd", "", "command for the proxy container, space-separated (default: the image's own)")
	fl.StringArrayVar(&f.proxyEnv, "proxy-env", nil, "K=V environment for the proxy container (repeatable)")
	fl.StringVar(&f.proxyPort, "proxy-port", "8066", "port the proxy listens on in its container")
	fl.StringVar(&f.proxyURL, "proxy-url", "", "a proxy already running where the mocks can be reached from: start no proxy container")
	fl.StringVar(&f.scenario, "scenario", "", "run only the scenarios matching this glob (comma-separated globs; e.g. 'retry/*')")
	fl.StringVar(&f.junit, "junit", "", "write JUnit XML here (one testcase per scenario and topology)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the results as JSON instead of the table")
	fl.StringVar(&f.artifacts, "artifacts", "", "on failure, save each failing scenario's timeline and events and every container log here")
	fl.IntVar(&f.parallel, "parallel", 4, "independent scenarios run at once")
	fl.BoolVar(&f.short, "short", false, "skip the heavy scenarios (1,000 devices)")
	fl.BoolVar(&f.listOnly, "list", false, "list the scenarios and exit")
	fl.DurationVar(&f.startTimeout, "startup-timeout", 2*time.Minute, "how long each container may take to become healthy")
	return envPrefix(cmd, "E2E_")
}

func runE2E(cmd *cobra.Command, f e2eFlags, logLevel string) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	scenarios, err := e2e.Select(e2e.Scenarios(), f.scenario)
	if err != nil {
		return err
	}
	if f.listOnly {
		for _, s := range scenarios {
			only := ""
			if s.Only != "" {
				only = " (" + string(s.Only) + " only)"
			}
			fmt.Fprintf(out, "%-40s %s%s\n", s.Name, s.Doc, only)
		}
		return nil
	}
	env := map[string]string{}
	for _, kv := range f.proxyEnv {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--proxy-env %q: want K=V", kv)
		}
		env[k] = v
	}
	ctx := cmd.Context()
	progress := func(r e2e.Result) { fmt.Fprintln(errOut, e2e.ProgressLine(r)) }
	var results []e2e.Result
	logs := map[string]string{}
	timelines := map[e2e.Topology][]events.Event{}
	seen := map[string]bool{}
	for _, t := range f.topologies {
		if t = strings.TrimSpace(t); seen[t] {
			continue
		}
		seen[t] = true
		start := time.Now()
		dep, err := startTopology(ctx, e2e.Topology(t), f, env, logLevel, errOut)
		if err != nil {
			return err
		}
		fmt.Fprintf(errOut, "%s topology up in %v; %d scenario(s)\n", t, time.Since(start).Round(time.Millisecond), len(scenarios))
		if ep, ok := dep.(interface{ Endpoints() [][2]string }); ok && f.proxyURL != "" {
			fmt.Fprintf(errOut, "the proxy at %s must reach the mocks as Apple and Google, trusting the key set's ca.pem:\n", f.proxyURL)
			for _, e := range ep.Endpoints() {
				fmt.Fprintf(errOut, "  %-55s %s\n", e[0], e[1])
			}
		}
		rs := e2e.Run(ctx, dep, scenarios, e2e.RunOptions{Parallel: f.parallel, Short: f.short, Progress: progress})
		results = append(results, rs...)
		if f.artifacts != "" && failed(rs) > 0 {
			timelines[dep.Topology()] = dep.Bus().History()
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			for name, l := range dep.Logs(lctx) {
				logs[t+"-"+name] = l
			}
			cancel()
		}
		if err := dep.Close(); err != nil {
			fmt.Fprintf(errOut, "pushlab e2e: cleaning up the %s topology: %v\n", t, err)
		}
		fmt.Fprintf(errOut, "%s topology: %v\n", t, time.Since(start).Round(time.Millisecond))
		if ctx.Err() != nil {
			break
		}
	}
	if f.junit != "" {
		if err := writeFile(f.junit, func(w io.Writer) error { return e2e.WriteJUnit(w, results) }); err != nil {
			return err
		}
	}
	if f.artifacts != "" && failed(results) > 0 {
		if err := e2e.WriteArtifacts(f.artifacts, results, logs, timelines); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "artifacts in %s\n", f.artifacts)
	}
	if f.jsonOut {
		if err := e2e.WriteJSON(out, results); err != nil {
			return err
		}
	} else {
		e2e.WriteSummary(out, results)
		for _, r := range results {
			if !r.Passed {
				fmt.Fprintf(out, "\n=== FAIL %s [%s]\n%s", r.Scenario, r.Topology, r.Failure())
			}
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if n := failed(results); n > 0 {
		return fmt.Errorf("%d scenario(s) failed", n)
	}
	return nil
}

func failed(rs []e2e.Result) int {
	n := 0
	for _, r := range rs {
		if !r.Passed {
			n++
		}
	}
	return n
}

func startTopology(ctx context.Context, t e2e.Topology, f e2eFlags, env map[string]string, logLevel string, errOut io.Writer) (e2e.Deployment, error) {
	switch t {
	case e2e.InProcess:
		if f.proxyImage != "" {
			return nil, fmt.Errorf("--proxy-image needs --topology containers")
		}
		return e2e.StartInProcess(ctx, e2e.InProcessOptions{ProxyURL: f.proxyURL})
	case e2e.Containers:
		// testcontainers narrates every container; the progress lines say
		// what matters. --log-level debug keeps its narration.
		if logLevel != "debug" {
			tclog.SetDefault(tclog.NewNoopLogger())
		}
		image := f.image
		if image == "" {
			exe, err := os.Executable()
			if err != nil {
				return nil, err
			}
			fmt.Fprintln(errOut, "building the pushlab image from", exe)
			if image, err = pushlabtc.BuildImage(ctx, pushlabtc.BuildOptions{Binary: exe, Tag: "pushlab:e2e"}); err != nil {
				return nil, fmt.Errorf("%w (or pass --image, e.g. the pushlab:dev of make image)", err)
			}
		}
		opts := pushlabtc.Options{Image: image, ProxyImage: f.proxyImage, ProxyConfigPath: f.proxyConfig, ProxyEnv: env,
			ProxyPort: f.proxyPort, StartupTimeout: f.startTimeout}
		if f.proxyCmd != "" {
			opts.ProxyCmd = strings.Fields(f.proxyCmd)
		}
		return e2e.StartContainers(ctx, e2e.ContainerOptions{Options: opts, ProxyURL: f.proxyURL})
	}
	return nil, fmt.Errorf("--topology %q: want inprocess or containers", t)
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
