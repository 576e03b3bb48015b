package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/testpki"
)

func newMockFCMCmd(g *globals) *cobra.Command {
	var (
		keysDir, listen, controlListen string
		seed                           uint64
		deviceRate, projectQuota       int
		recordLimit                    int
		extraAccounts                  []string
	)
	cmd := &cobra.Command{
		Use:   "mockfcm",
		Short: "Run the mock FCM: HTTP v1 send API, OAuth2 token endpoint, IID topics, control API",
		Long: `mockfcm answers as fcm.googleapis.com, oauth2.googleapis.com and iid.googleapis.com
do, over TLS (h2 and http/1.1) on --listen, with the certificate of the key set in --keys
(valid for Google's names, so a proxy resolving them here and trusting the pushlab CA
needs no change). The key set's Firebase service account is registered; --service-account
adds others (the eas profile: your own file). The control API (faults, devices, recorded
requests, /events, the /push device gateway) is served over plain HTTP on --control-listen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := testpki.Load(keysDir)
			if err != nil {
				return fmt.Errorf("%w (make a key set with `pushlab keys init --dir %s`)", err, keysDir)
			}
			if err := access.Check(g.controlToken, map[string]string{"--listen": listen, "--control-listen": controlListen}); err != nil {
				return err
			}
			log := g.logger().With("actor", mockfcm.Actor)
			s, err := mockfcm.New(mockfcm.Config{ControlToken: g.controlToken, Cert: set.Mock.TLS(), Bus: events.NewBus(), Logger: log, Seed: seed, DeviceRatePerMinute: deviceRate,
				ProjectQuotaPerMinute: projectQuota, RecordLimit: recordLimit})
			if err != nil {
				return err
			}
			if err := s.RegisterServiceAccount(set.Firebase); err != nil {
				return err
			}
			for _, file := range extraAccounts {
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				sa, err := testpki.ParseServiceAccount(b)
				if err != nil {
					return err
				}
				if err := s.RegisterServiceAccount(sa); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			cln, err := net.Listen("tcp", controlListen)
			if err != nil {
				ln.Close()
				return err
			}
			log.Info("mockfcm: serving", "fcm", "https://"+ln.Addr().String()+"/v1", "token_uri", "https://"+ln.Addr().String()+"/token",
				"control", "http://"+cln.Addr().String(), "project", set.Firebase.ProjectID, "tls", testpki.Fingerprint(set.Mock.Key.Public()))
			fmt.Fprintf(cmd.OutOrStdout(), "mockfcm: FCM https://%s/v1 (token_uri https://%s/token), control http://%s\n",
				ln.Addr(), ln.Addr(), cln.Addr())
			g, ctx := errgroup.WithContext(cmd.Context())
			g.Go(func() error { return s.Serve(ctx, ln) })
			g.Go(func() error { return s.ServeControl(ctx, cln) })
			g.Go(func() error { <-ctx.Done(); s.Close(); return nil })
			err = g.Wait()
			if err == nil || err == context.Canceled {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&keysDir, "keys", "keys", "directory of the key set written by 'pushlab keys init'")
	f.StringVar(&listen, "listen", "127.0.0.1:4443", "TLS address for FCM, OAuth2 and IID")
	f.StringVar(&controlListen, "control-listen", "127.0.0.1:4444", "plain-HTTP address of the control API")
	f.Uint64Var(&seed, "seed", 1, "seed for tokens, message ids and percentage faults")
	f.IntVar(&deviceRate, "device-rate", 0, "messages a minute one device may be sent before QUOTA_EXCEEDED (0: FCM's 240; negative: no limit)")
	f.IntVar(&projectQuota, "project-quota", 0, "messages a minute one project may send before QUOTA_EXCEEDED (0: FCM's 600,000; negative: no limit)")
	f.IntVar(&recordLimit, "record-limit", 1000, "requests kept for GET /control/requests (the oldest give way)")
	f.StringArrayVar(&extraAccounts, "service-account", nil, "another service-account JSON file to accept (repeatable)")
	envName(f, "keys", envKeys)
	envName(f, "control-listen", "PUSHLAB_MOCKFCM_CONTROL")
	envName(f, "seed", "PUSHLAB_SEED")
	return envPrefix(cmd, "MOCKFCM_")
}
