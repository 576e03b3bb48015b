// Command pushlab runs the actors of a push-notification path — push proxy,
// mock APNs and FCM, simulated server and devices — and the tools around them.
// Each subcommand lives in its own file and registers itself in init.
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

var rootCmd = &cobra.Command{
	Use:   "pushlab",
	Short: "Test mobile push notifications end to end: server → proxy → APNs/FCM → device",
	Long: `pushlab simulates the whole path of a mobile push notification on one machine:
a Mattermost-like server signs and encrypts, a real push proxy forwards with the
real apns2 and firebase clients, mock APNs and FCM answer as Apple and Google do,
and simulated phones verify, decrypt, display and acknowledge.`,
	SilenceUsage:  true,
	SilenceErrors: true,
	// An unknown --log-level is an error, not a silent "info".
	PersistentPreRunE: func(*cobra.Command, []string) error {
		var level slog.Level
		if err := level.UnmarshalText([]byte(logLevel)); err != nil {
			return fmt.Errorf("--log-level (or PUSHLAB_LOG_LEVEL) %q: want debug, info, warn or error", logLevel)
		}
		return nil
	},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pushlab:", err)
		var coded interface{ ExitCode() int } // a command with its own exit status (verify)
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(1)
	}
}

// logger is the process logger: text to stderr, level from --log-level
// (checked before any command runs).
func logger() *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(logLevel))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

var logLevel, controlToken string

func init() {
	rootCmd.PersistentFlags().StringVar(&logLevel, "log-level", envOr("PUSHLAB_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env PUSHLAB_LOG_LEVEL)")
	rootCmd.PersistentFlags().StringVar(&controlToken, "control-token", os.Getenv(access.EnvToken),
		"access token the control APIs and /events require; needed to bind a listener outside 127.0.0.1 (env "+access.EnvToken+")")
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
