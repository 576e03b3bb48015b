// Command pushlab runs the actors of a push-notification path — push proxy,
// mock APNs and FCM, simulated server and devices — and the tools around them.
// Each subcommand lives in its own file; newRootCmd builds the tree.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pushlab/pushlab/internal/access"
)

// Set at build time: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pushlab:", err)
		var coded interface{ ExitCode() int } // a command with its own exit status (verify)
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(1)
	}
}

// globals are the root command's flags, which every command reads.
type globals struct {
	logLevel     string
	controlToken string
}

// logger is the process logger: text to stderr, level from --log-level
// (checked before any command runs).
func (g *globals) logger() *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(g.logLevel))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// quietUnlessAsked lowers the log level to level unless --log-level or
// PUSHLAB_LOG_LEVEL chose one: for commands whose own output the actors'
// logs would bury.
func (g *globals) quietUnlessAsked(cmd *cobra.Command, level string) {
	if !cmd.Flags().Changed("log-level") {
		g.logLevel = level
	}
}

// newRootCmd builds pushlab's command tree, every flag bound to its
// PUSHLAB_* variable (bind.go).
func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "pushlab",
		Short: "Test mobile push notifications end to end: server → proxy → APNs/FCM → device",
		Long: `pushlab simulates the whole path of a mobile push notification on one machine:
a Mattermost-like server signs and encrypts, a real push proxy forwards with the
real apns2 and firebase clients, mock APNs and FCM answer as Apple and Google do,
and simulated phones verify, decrypt, display and acknowledge.

Every flag can also be set by the PUSHLAB_* variable its --help line names;
a flag on the command line wins over the variable.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), os.LookupEnv); err != nil {
				return err
			}
			// An unknown --log-level is an error, not a silent "info".
			var level slog.Level
			if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
				return fmt.Errorf("--log-level (or PUSHLAB_LOG_LEVEL) %q: want debug, info, warn or error", g.logLevel)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.controlToken, "control-token", "",
		"access token the control APIs and /events require; needed to bind a listener outside 127.0.0.1")
	envName(pf, "control-token", access.EnvToken)

	keys := envPrefix(&cobra.Command{Use: "keys", Short: "Write a set of test credentials for every actor (keys init)"}, "KEYS_")
	keys.AddCommand(newKeysInitCmd())
	root.AddCommand(
		newProxyCmd(g), newMockAPNsCmd(g), newMockFCMCmd(g), newServerCmd(g), newDevicesCmd(g),
		keys, newDemoCmd(g), newWebCmd(g), newE2ECmd(g), newBenchCmd(g), newVerifyCmd(g), newVersionCmd(),
	)
	bindTree(root)
	return root
}
