package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/serversim"
	"github.com/pushlab/pushlab/testpki"
	"github.com/spf13/cobra"
)

func newServerCmd(g *globals) *cobra.Command {
	var (
		keysDir, listen, proxyURL, contents, profile, serverID, envelope, hosts, serverVersion string
		wait                                                                                   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the server simulator: a Mattermost-like server that signs, seals and posts pushes to the proxy",
		Long: `server behaves like a Mattermost server towards the push proxy. Devices attach
their push token and content key to a user's session (PUT /api/v4/users/sessions/device)
and ack pushes (POST /api/v4/notifications/ack); the server signs every push with the key
set's signing key, seals the contents to the device key (not in the tpns profile), posts to
--proxy over HTTPS, deletes a session the proxy answers REMOVE for, and forwards acks to
the proxy. Send with POST /control/send {"user_id":…,"message":…,"channel_name":…}
(or "device":<name> / "session_id":… for one device;
"type": clear, update_badge, test too; "transport":"voip","sub_type":"calls" for a call
to an iOS device; "signature":"none" to send it unsigned); change the admin's push contents with
PUT /control/contents. Serves TLS with a certificate from the key set's CA for --hosts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := testpki.Load(keysDir)
			if err != nil {
				return fmt.Errorf("%w (make a key set with `pushlab keys init --dir %s`)", err, keysDir)
			}
			c, err := serversim.ParseContents(contents)
			if err != nil {
				return err
			}
			p, err := serversim.ParseProfile(profile)
			if err != nil {
				return err
			}
			leaf, err := set.CA.IssueServer(strings.Split(hosts, ",")...)
			if err != nil {
				return err
			}
			if err := access.Check(g.controlToken, map[string]string{"--listen": listen}); err != nil {
				return err
			}
			log := g.logger()
			if wait > 0 {
				if err := waitFor(cmd.Context(), log, wait, "the push proxy at "+proxyURL,
					httpReachable(trustingClient(set), strings.TrimRight(proxyURL, "/")+mmpush.PathVersion)); err != nil {
					return err
				}
			}
			s, err := serversim.New(serversim.Config{
				ID: serverID, ProxyURL: proxyURL, ProxyClient: trustingClient(set),
				SigningKey: set.Signing, SigningKeyID: set.SigningKeyID,
				Contents: c, Profile: p, EnvelopeField: envelope, Version: serverVersion, ControlToken: g.controlToken,
				TLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS()}, MinVersion: tls.VersionTLS12},
				Bus: events.NewBus(), Logger: log,
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "server: https://%s (server_id %s, proxy %s, contents %s, profile %s, signing key %s %s)\n",
				ln.Addr(), s.ID(), proxyURL, c, p, set.SigningKeyID, testpki.Fingerprint(set.Signing.Public()))
			if !p.Encrypts() {
				fmt.Fprintf(cmd.OutOrStdout(), "server: WARNING profile %s: push contents travel in PLAINTEXT\n", p)
			}
			return s.Serve(cmd.Context(), ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keysDir, "keys", "keys", "key set directory written by pushlab keys init")
	f.StringVar(&listen, "listen", "127.0.0.1:8065", "TLS address")
	f.StringVar(&proxyURL, "proxy", "https://localhost:8066", "push proxy URL")
	f.StringVar(&contents, "contents", string(serversim.ContentsGeneric), "push contents: generic, generic_no_channel, full, id_loaded")
	f.StringVar(&profile, "profile", string(serversim.ProfileHPNS), "profile: hpns, eas (contents sealed), tpns (plaintext), mattermost (exactly what a real Mattermost server sends: plaintext, signed)")
	f.StringVar(&serverID, "server-id", "", "server_id put in every push (random if empty)")
	f.StringVar(&envelope, "envelope", serversim.EnvelopeInMessage, `where sealed contents travel: "message" (any proxy carries it) or "encrypted" (a proxy that passes that field)`)
	f.StringVar(&serverVersion, "server-version", serversim.DefaultVersion,
		"Mattermost release the server claims; one older than 9.8.0, 9.7.3, 9.6.3, 9.5.5 or 8.1.14 (of its line) does not sign pushes")
	f.DurationVar(&wait, "wait", defaultWait, "how long to wait at start for the push proxy, retrying with backoff (0: do not wait)")
	f.StringVar(&hosts, "hosts", "server,localhost,127.0.0.1", "names the server's TLS certificate is valid for, comma-separated")
	for flag, env := range map[string]string{"keys": envKeys, "proxy": "PUSHLAB_PROXY_URL", "contents": "PUSHLAB_CONTENTS",
		"profile": "PUSHLAB_PROFILE", "server-id": "PUSHLAB_SERVER_ID", "server-version": "PUSHLAB_SERVER_VERSION"} {
		envName(f, flag, env)
	}
	return envPrefix(cmd, "SERVER_")
}

// trustingClient trusts the system roots and the key set's CA (the proxy's
// and the mocks' certificates come from it).
func trustingClient(set *testpki.Set) *http.Client {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AddCert(set.CA.Cert)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
	}}
}
