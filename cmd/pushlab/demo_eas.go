package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/verify"
	"github.com/pushlab/pushlab/web"
)

// easInputs finds what `demo --profile eas --keys DIR` runs on: the proxy's
// mattermost-push-proxy.json in DIR (whose file names are read relative to
// DIR), and the app builds beside it.
func easInputs(dir string) (verify.Config, error) {
	cfg := verify.Config{ConfigFile: filepath.Join(dir, "mattermost-push-proxy.json"), Live: true}
	if _, err := os.Stat(cfg.ConfigFile); err != nil {
		return cfg, fmt.Errorf("--keys %s: no mattermost-push-proxy.json there (the eas demo runs the proxy with your own configuration and the files it names)", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return cfg, fmt.Errorf("--keys: %w", err)
	}
	for _, e := range entries {
		name, p := e.Name(), filepath.Join(dir, e.Name())
		switch ext := strings.ToLower(filepath.Ext(name)); {
		case ext == ".ipa" || ext == ".app" || ext == ".xcarchive":
			cfg.IOS = append(cfg.IOS, p)
		case ext == ".apk":
			cfg.Android = append(cfg.Android, p)
		case ext == ".json" && strings.HasPrefix(name, "google-services"):
			cfg.GoogleServices = append(cfg.GoogleServices, p)
		}
	}
	if len(cfg.IOS)+len(cfg.Android)+len(cfg.GoogleServices) == 0 {
		return cfg, fmt.Errorf("--keys %s: no app build there: add your .ipa/.app/.xcarchive, google-services.json or .apk", dir)
	}
	return cfg, nil
}

// runEASDemo is the eas profile on the user's own files: verify checks them
// and sends one notification per app build; only when nothing failed does
// the demo go on, with the proxy, mocks and phones of that round trip.
func runEASDemo(cmd *cobra.Command, g *globals, profile serversim.Profile, dir string, once, noWeb bool, wf webFlags) error {
	if profile != serversim.ProfileEAS {
		return fmt.Errorf("demo: --keys runs your own credentials, which is the eas profile: add --profile eas")
	}
	out := cmd.OutOrStdout()
	cfg, err := easInputs(dir)
	if err != nil {
		return &exitError{code: verify.ExitUnreadable, msg: err.Error()}
	}
	cfg.Logger = g.logger()
	fmt.Fprintf(out, "pushlab demo (eas): verifying your files in %s, then one notification per app build…\n\n", dir)
	ctx := cmd.Context()
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	lab, rep := verify.StartLab(startCtx, cfg)
	cancel()
	if lab != nil {
		defer lab.Close()
	}
	if err := rep.WriteTable(out, verify.TableOptions{Color: colorTerminal(out)}); err != nil {
		return err
	}
	if code := rep.ExitCode(); code != verify.ExitOK || lab == nil {
		if code == verify.ExitOK {
			code = verify.ExitFailed
		}
		return &exitError{code: code, msg: "demo: verify did not pass on " + dir + ": fix what the table says, then run again"}
	}
	fmt.Fprintln(out)
	for _, u := range lab.URLs() {
		fmt.Fprintf(out, "  %-24s %s\n", u[0], u[1])
	}
	fmt.Fprintf(out, "  %-24s %s\n\n", "phones", strings.Join(lab.Phones(), "; "))
	if once {
		return nil
	}
	if !noWeb {
		webURL, waitWeb, err := startWebView(ctx, g, web.Config{Lab: lab.Actors(), Logger: g.logger()}, wf, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Every hop of every notification is in the live view: %s\nSend, inject faults and switch devices there. Ctrl-C to stop.\n", webURL)
		return waitWeb()
	}
	fmt.Fprintln(out, "Running until Ctrl-C; each line you type is sent to every phone.")
	hops := lab.Hops(ctx)
	lines := make(chan string)
	go readLines(cmd.InOrStdin(), lines)
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\nstopping.")
			return nil
		case h, ok := <-hops:
			if !ok {
				return nil
			}
			trace := h.TraceID
			if len(trace) > 8 {
				trace = trace[:8]
			}
			fmt.Fprintf(out, "%s %-8s %-16s %-22s %-14s %s\n", h.At.Format("15:04:05.000"), trace, h.Actor, h.Hop, h.Status, h.Detail)
		case text, ok := <-lines:
			if !ok {
				lines = nil // stdin closed: keep streaming until Ctrl-C
				continue
			}
			if text = strings.TrimSpace(text); text == "" {
				continue
			}
			for _, c := range lab.Send(ctx, text) {
				if c.Status == verify.Fail {
					fmt.Fprintf(out, "  %s %s: %s\n", strings.ToUpper(string(c.Status)), c.Subject, c.Summary)
				}
			}
		}
	}
}

// readLines sends each line of r, and closes lines at its end.
func readLines(r io.Reader, lines chan<- string) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines <- sc.Text()
	}
}
