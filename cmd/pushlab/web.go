package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/web"
	"github.com/spf13/cobra"
)

// defaultWebAddr is where the view listens unless told otherwise: loopback,
// a port a bookmark can keep (a busy one falls back to any free port).
const defaultWebAddr = "127.0.0.1:7300"

// webFlags are the flags the web command and demo share.
type webFlags struct {
	addr, token string
	open        bool
}

func (w *webFlags) register(cmd *cobra.Command, prefix string) {
	f := cmd.Flags()
	f.StringVar(&w.addr, prefix+"addr", defaultWebAddr, "where the live view listens; off loopback it needs --"+prefix+"token")
	f.StringVar(&w.token, prefix+"token", "", "access token for the view, required off loopback (unset: the --control-token)")
	envName(f, prefix+"token", web.TokenEnv)
	f.BoolVar(&w.open, "open", true, "open the view in a browser when this machine has a display (never fails without one)")
}

func newWebCmd(g *globals) *cobra.Command {
	var (
		wf      webFlags
		collect []string
		caFile  string
	)
	cmd := &cobra.Command{
		Use:   "web --collect URL...",
		Short: "Serve the live web view of actors running as separate processes or containers",
		Long: `web attaches to the GET /events streams of running actors (pushlab proxy,
mockapns, mockfcm, server, devices, or their containers), merges them into one
timeline ordered by time and serves the live view: every hop of every
notification, streamed to the browser over a websocket. A stream that drops is
reported on the page and dialled again, resuming where it stopped.

The controls (send, faults, devices) drive an in-process lab: use pushlab demo
for those. This view only watches.

  pushlab web --collect ws://127.0.0.1:8066/events --collect wss://127.0.0.1:8443/events --ca keys/ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(collect) == 0 {
				return errors.New("web: name at least one event stream with --collect ws://host:port/events")
			}
			// The actors' control token opens their /events streams.
			cfg := web.Config{Collect: collect, CollectToken: g.controlToken, Logger: g.logger()}
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return err
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return fmt.Errorf("web: %s holds no PEM certificate", caFile)
				}
				cfg.CollectTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
			ctx := cmd.Context()
			_, wait, err := startWebView(ctx, g, cfg, wf, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "collecting %s; Ctrl-C to stop.\n", strings.Join(collect, ", "))
			return wait()
		},
	}
	wf.register(cmd, "")
	cmd.Flags().StringArrayVar(&collect, "collect", nil, "an actor's events websocket (ws:// or wss://…/events); repeat for each")
	cmd.Flags().StringVar(&caFile, "ca", "", "CA (PEM) to trust for wss:// streams, e.g. keys/ca.pem")
	return envPrefix(cmd, "WEB_")
}

// startWebView serves the view until ctx ends and prints its address, boxed
// so that it is the first thing a reader sees. wait blocks until the view
// has stopped.
func startWebView(ctx context.Context, g *globals, cfg web.Config, wf webFlags, out io.Writer) (string, func() error, error) {
	if wf.token == "" {
		// One token for the whole lab: the actors' guards the view too.
		wf.token = g.controlToken
	}
	if wf.token == "" && !loopbackAddr(wf.addr) {
		return "", nil, fmt.Errorf("web: %s is not loopback: the view drives every actor, so give an access token (--token, %s, or the lab's --control-token / %s)", wf.addr, web.TokenEnv, access.EnvToken)
	}
	ln, err := net.Listen("tcp", wf.addr)
	if err != nil && wf.addr == defaultWebAddr {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // the usual port is taken: any will do
	}
	if err != nil {
		return "", nil, fmt.Errorf("web: listen on %s: %w", wf.addr, err)
	}
	cfg.Token = wf.token
	s, err := web.New(cfg)
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()

	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/"
	if wf.token != "" {
		u += "?token=" + url.QueryEscape(wf.token)
	}
	line := "live view: " + u
	bar := strings.Repeat("═", len([]rune(line))+4)
	fmt.Fprintf(out, "\n  ╔%s╗\n  ║  %s  ║\n  ╚%s╝\n\n", bar, line, bar)
	if wf.open {
		openBrowser(u, cfg.Logger)
	}
	return u, func() error {
		err := <-errc
		s.Close()
		return err
	}, nil
}

// loopbackAddr reports whether host:port names this machine only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && !web.NeedsToken(&net.TCPAddr{IP: ip})
}

// openBrowser tries the desktop's opener where there is a desktop; a
// headless machine or a missing opener is not an error.
func openBrowser(u string, log *slog.Logger) {
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		return
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return
		}
		name = "xdg-open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return
	}
	cmd := exec.Command(path, u)
	if err := cmd.Start(); err != nil {
		if log != nil {
			log.Debug("could not open a browser", "err", err)
		}
		return
	}
	go cmd.Wait()
}
