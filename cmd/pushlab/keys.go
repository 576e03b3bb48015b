package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pushlab/pushlab/proxy"
	"github.com/pushlab/pushlab/proxy/proxytest"
	"github.com/pushlab/pushlab/testpki"
	"github.com/spf13/cobra"
)

func newKeysInitCmd() *cobra.Command {
	var (
		dir                   string
		force                 bool
		opts                  testpki.Options
		proxyListen, proxyDir string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Generate a CA, mock TLS certs, an APNs .p8 key and .p12 certs, a Firebase service account and a proxy config",
		Long: `init writes a complete set of test credentials into --dir (see README.md for each file).
An existing set is kept unless --force: re-running is safe.
These are test credentials: never register them with Apple or Google.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if !force {
				if set, err := testpki.Load(dir); err == nil {
					fmt.Fprintf(out, "kept the existing key set in %s (use --force to replace it)\n", dir)
					if _, err := os.Stat(filepath.Join(dir, proxy.ConfigFile)); err != nil {
						if err := proxytest.WriteKeySetConfig(set, dir, proxyDir, proxyListen); err != nil {
							return err
						}
					}
					printSet(cmd, dir, set)
					return nil
				}
			}
			set, err := testpki.NewSet(opts)
			if err != nil {
				return err
			}
			if err := set.Write(dir, force); err != nil {
				if errors.Is(err, testpki.ErrExists) {
					return fmt.Errorf("%w, but it does not load; fix it or use --force", err)
				}
				return err
			}
			// The proxy's own config type writes upstream's file, so what the
			// proxy reads and what init writes cannot drift apart.
			if err := proxytest.WriteKeySetConfig(set, dir, proxyDir, proxyListen); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote a new key set to %s\n", dir)
			printSet(cmd, dir, set)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "keys", "directory to write into")
	f.BoolVar(&force, "force", false, "replace an existing key set")
	f.StringVar(&opts.TeamID, "team-id", "", "Apple team id (10 characters; random if empty)")
	f.StringVar(&opts.BundleID, "bundle-id", testpki.DefaultBundleID, `iOS bundle id of the token-auth app (proxy type "apple")`)
	f.StringVar(&opts.CertBundleID, "cert-bundle-id", testpki.DefaultCertBundleID, `iOS bundle id of the certificate-auth app (proxy type "apple_rn")`)
	f.StringVar(&opts.Package, "package", testpki.DefaultPackage, `Android package (proxy type "android")`)
	f.StringVar(&opts.RNPackage, "rn-package", testpki.DefaultRNPackage, `Android package (proxy type "android_rn")`)
	f.StringVar(&opts.ProjectID, "project-id", testpki.DefaultProjectID, "Firebase project id")
	f.StringVar(&opts.TokenURI, "token-uri", testpki.DefaultTokenURI, "token_uri of the service account: the mock OAuth2 endpoint")
	f.StringVar(&proxyListen, "proxy-listen", "127.0.0.1:8066", "ListenAddress written into mattermost-push-proxy.json")
	f.StringVar(&proxyDir, "proxy-keys-dir", "", "directory the proxy config's paths point into, if the proxy sees the files elsewhere (e.g. /keys in a container)")
	return cmd
}

func printSet(cmd *cobra.Command, dir string, set *testpki.Set) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "  team id %s, APNs key id %s, Firebase project %s (sender id %s)\n",
		set.TeamID, set.APNsKey.KeyID, set.Firebase.ProjectID, set.Firebase.ProjectNumber)
	for _, name := range append(set.Files(), proxy.ConfigFile) {
		fmt.Fprintf(out, "  %s\n", filepath.Join(dir, name))
	}
	fmt.Fprintln(out, "  fingerprints (public keys):")
	fp := set.Fingerprints()
	for _, k := range []string{"ca", "apns_auth_key", "apns_cert_dev", "apns_cert_prod", "firebase", "server_signing", "mock_tls", "proxy_tls"} {
		fmt.Fprintf(out, "    %-15s %s\n", k, fp[k])
	}
}
