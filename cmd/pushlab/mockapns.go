package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/testpki"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

func newMockAPNsCmd(g *globals) *cobra.Command {
	var keys, listen, devListen, controlListen, env, channelsListen, devChannelsListen string
	var (
		seed        uint64
		maxBad      int
		idle        time.Duration
		recordLimit int
	)
	cmd := &cobra.Command{
		Use:   "mockapns",
		Short: "Run the mock APNs provider API (HTTP/2 + TLS) and its control API",
		Long: `mockapns answers as api.push.apple.com and api.sandbox.push.apple.com do.
--listen serves requests naming no Apple host as --env (production by default);
--dev-listen, if set, serves them as development. The Apple host names, by
:authority or SNI, pick the environment on any listener. It trusts the key
set's APNs key (team-wide, both environments) and its CA for client
certificates. The control API (devices, faults, requests, /events, /push) is
plain HTTP on --control-listen. Broadcast channel management (iOS 18) listens on
--channels-listen (production, Apple's port 2196) and --dev-channels-listen (sandbox,
2195); broadcasts go to POST /4/broadcasts/apps/{bundle-id} on --listen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := testpki.Load(keys)
			if err != nil {
				return fmt.Errorf("--keys %s: %w (run pushlab keys init)", keys, err)
			}
			if err := access.Check(g.controlToken, map[string]string{"--listen": listen, "--dev-listen": devListen, "--control-listen": controlListen,
				"--channels-listen": channelsListen, "--dev-channels-listen": devChannelsListen}); err != nil {
				return err
			}
			log := g.logger()
			s, err := mockapns.New(mockapns.Config{ControlToken: g.controlToken, Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool(), Bus: events.NewBus(),
				Logger: log, Seed: seed, Environment: testpki.Environment(env), MaxBadRequests: maxBad, IdleTimeout: idle,
				RecordLimit: recordLimit})
			if err != nil {
				return err
			}
			if err := s.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
				return err
			}
			ctx := cmd.Context()
			g, ctx := errgroup.WithContext(ctx)
			serve := func(addr, what string, run func(context.Context, net.Listener) error) error {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				log.Info("listening", "what", what, "addr", ln.Addr().String())
				g.Go(func() error { return run(ctx, ln) })
				return nil
			}
			if err := serve(listen, "apns", s.Serve); err != nil {
				return err
			}
			if devListen != "" {
				if err := serve(devListen, "apns-development", func(ctx context.Context, ln net.Listener) error {
					return s.ServeEnv(ctx, ln, testpki.Development)
				}); err != nil {
					return err
				}
			}
			if err := serve(controlListen, "control", s.ServeControl); err != nil {
				return err
			}
			for _, c := range []struct {
				addr string
				env  testpki.Environment
			}{{channelsListen, testpki.Production}, {devChannelsListen, testpki.Development}} {
				if c.addr == "" {
					continue
				}
				if err := serve(c.addr, "channels-"+string(c.env), func(ctx context.Context, ln net.Listener) error {
					return s.ServeChannels(ctx, ln, c.env)
				}); err != nil {
					return err
				}
			}
			err = g.Wait()
			s.Close()
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&keys, "keys", "keys", "key set directory written by pushlab keys init")
	f.StringVar(&listen, "listen", "127.0.0.1:2197", "APNs listener (TLS, HTTP/2 only)")
	f.StringVar(&devListen, "dev-listen", "", "APNs listener whose default environment is development (optional)")
	f.StringVar(&controlListen, "control-listen", "127.0.0.1:8197", "control API listener (plain HTTP)")
	f.StringVar(&env, "env", "production", "environment of --listen for requests naming no Apple host: production or development")
	f.StringVar(&channelsListen, "channels-listen", "127.0.0.1:2196", "broadcast channel management, production (api-manage-broadcast.push.apple.com:2196; \"\" = off)")
	f.StringVar(&devChannelsListen, "dev-channels-listen", "127.0.0.1:2195", "broadcast channel management, sandbox (api-manage-broadcast.sandbox.push.apple.com:2195; \"\" = off)")
	f.Uint64Var(&seed, "seed", 1, "fault generator seed")
	f.IntVar(&maxBad, "max-bad-requests", 0, "close a connection with GOAWAY after this many BadDeviceToken answers in a row (other 400s count half; 0 = never, as Apple documents)")
	f.DurationVar(&idle, "idle-timeout", 0, "close idle connections with GOAWAY after this long (0 = never)")
	f.IntVar(&recordLimit, "record-limit", 1000, "requests kept for GET /control/requests (the oldest give way)")
	envName(f, "keys", envKeys)
	return envPrefix(cmd, "APNS_")
}
