package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/proxy"
)

// Every listener binds 127.0.0.1 unless told otherwise.
func TestListenersDefaultToLoopback(t *testing.T) {
	n := 0
	for _, c := range allCommands(newRootCmd()) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(f.Name, "listen") || f.DefValue == "" {
				return
			}
			n++
			if !access.Loopback(f.DefValue) {
				t.Errorf("pushlab %s --%s defaults to %q, not loopback", c.CommandPath(), f.Name, f.DefValue)
			}
		})
	}
	if n < 7 {
		t.Fatalf("checked only %d listen flags", n)
	}
	if a := proxy.DefaultConfig().ListenAddress; !access.Loopback(a) {
		t.Errorf("the proxy's default ListenAddress is %q", a)
	}
}

// Binding a control plane to every interface needs the access token.
func TestNonLoopbackNeedsToken(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, "keys", "init", "--dir", dir); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"mockapns", "--keys", dir, "--listen", "127.0.0.1:0", "--control-listen", "0.0.0.0:0"},
		{"mockfcm", "--keys", dir, "--listen", ":0", "--control-listen", "127.0.0.1:0"},
		{"server", "--keys", dir, "--listen", "0.0.0.0:0", "--wait", "0"},
		{"devices", "--keys", dir, "--listen", ":0", "--wait", "0"},
	} {
		_, err := run(t, append(args, "--control-token", "")...)
		if err == nil || !strings.Contains(err.Error(), "--control-token") {
			t.Errorf("pushlab %s: %v, want a refusal naming --control-token", strings.Join(args, " "), err)
		}
	}
}

// An unknown log level is an error, not a silent "info".
func TestInvalidLogLevel(t *testing.T) {
	_, err := run(t, "version", "--log-level", "verbose")
	if err == nil || !strings.Contains(err.Error(), "verbose") {
		t.Fatalf("err %v", err)
	}
}

// --help shows each flag's type, not a phrase quoted in its usage.
func TestHelpShowsFlagTypes(t *testing.T) {
	for _, c := range allCommands(newRootCmd()) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, "`") {
				t.Errorf("pushlab %s --%s: a backtick in its usage replaces its type in --help: %q", c.Name(), f.Name, f.Usage)
			}
		})
	}
}

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		out = append(out, allCommands(sub)...)
	}
	return out
}
