package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pushlab/pushlab/devicesim"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/internal/access"
	"github.com/pushlab/pushlab/testpki"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

func newDevicesCmd(g *globals) *cobra.Command {
	var (
		keysDir, serverURL, apnsControl, fcmControl, listen, user, certEnv, gateways string
		ios, iosCert, android, androidRN                                             int
		parallel                                                                     int
		liveActivities                                                               bool
		wait                                                                         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Run simulated iOS and Android phones against running mocks and a server simulator",
		Long: `devices runs simulated phones in one process. Each gets a token from the mock APNs or
FCM (through its control API; pushes arrive over one multiplexed gateway websocket per
mock), attaches to --user's session on the server with its content key, and then
verifies, decrypts, shows and acks every push. The apps are the key set's: an iOS app on
token auth (production), an iOS app on certificate auth (--cert-env), and the two
Android apps. The control API on --listen lists devices (GET /devices), drives them
(POST /devices/{name}/online|offline|uninstall|reinstall, PUT /devices/{name}/skew),
shows their Live Activities (GET /devices/{name}/activities, with --live-activities)
and streams their events (GET /events). POST /devices {"name":…,"user":…,"app":…}
installs one more phone (app: ios, ios-cert, android, android-rn; "identity" replaces
the app's build identity, as devicesim.App) and GET /devices/idle
answers once no push is being handled (--gateways apns,fcm dials a push gateway that no
phone needs at start, for phones added later).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			set, err := testpki.Load(keysDir)
			if err != nil {
				return fmt.Errorf("%w (make a key set with `pushlab keys init --dir %s`)", err, keysDir)
			}
			if err := access.Check(g.controlToken, map[string]string{"--listen": listen}); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := g.logger()
			bus := events.NewBus()
			tlsCfg := &tls.Config{RootCAs: set.CA.Pool(), MinVersion: tls.VersionTLS12}
			cfg := devicesim.FleetConfig{
				Server: devicesim.RemoteServer(serverURL, trustingClient(set)),
				Pinned: devicesim.PinnedKeys(set), Bus: bus, Logger: log,
				Capacity: ios + iosCert + android + androidRN,
			}
			// Whatever order the actors were started in: wait for the server
			// and the mocks' push gateways before registering anything.
			if err := waitFor(ctx, log, wait, "the server simulator at "+serverURL,
				httpReachable(trustingClient(set), serverURL+"/api/v4/system/ping")); err != nil {
				return err
			}
			dial := func(name, url string) (*devicesim.Remote, error) {
				var r *devicesim.Remote
				err := waitFor(ctx, log, wait, name+" push gateway at "+url, func(ctx context.Context) error {
					dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					var err error
					r, err = devicesim.DialRemote(dctx, url, tlsCfg, devicesim.WithControlToken(g.controlToken))
					return err
				})
				return r, err
			}
			want := map[string]bool{}
			for _, g := range strings.Split(gateways, ",") {
				switch g = strings.TrimSpace(g); g {
				case "":
				case "apns", "fcm":
					want[g] = true
				default:
					return fmt.Errorf("--gateways: unknown push service %q (apns, fcm)", g)
				}
			}
			if ios+iosCert > 0 || want["apns"] {
				r, err := dial("the mock APNs", apnsControl)
				if err != nil {
					return err
				}
				defer r.Close()
				cfg.APNs = r
			}
			if android+androidRN > 0 || want["fcm"] {
				r, err := dial("the mock FCM", fcmControl)
				if err != nil {
					return err
				}
				defer r.Close()
				cfg.FCM = r
			}
			fleet, err := devicesim.NewFleet(cfg)
			if err != nil {
				return err
			}
			defer fleet.Close()
			// A failed start leaves no token registered at the mocks.
			defer func() {
				if err != nil {
					uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
					defer cancel()
					for _, d := range fleet.Devices() {
						if uerr := d.Uninstall(uctx); uerr != nil {
							log.Warn("devices: could not remove a token after the failed start", "device", d.Name, "err", uerr)
						}
					}
				}
			}()
			certApp := devicesim.IOSCertApp(set)
			certApp.Environment = testpki.Environment(certEnv)
			tokenApp := devicesim.IOSTokenApp(set)
			tokenApp.LiveActivities = liveActivities
			groups := []struct {
				prefix string
				n      int
				app    devicesim.App
			}{
				{"ios", ios, tokenApp}, {"ios-cert", iosCert, certApp},
				{"android", android, devicesim.AndroidApp(set)}, {"android-rn", androidRN, devicesim.AndroidRNApp(set)},
			}
			apps := map[string]devicesim.App{}
			for _, g := range groups {
				apps[g.prefix] = g.app
			}
			out := cmd.OutOrStdout()
			for _, g := range groups {
				added, err := addPhones(ctx, fleet, g.prefix, g.n, user, g.app, parallel)
				if err != nil {
					return err
				}
				for _, d := range added {
					st := d.State()
					fmt.Fprintf(out, "devices: %-14s %-15s %-24s token %s session %s\n", d.Name, g.app.Name, g.app.ID(), st.Token, st.Session)
				}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "devices: %d phone(s) of user %q; control API http://%s\n", fleet.Len(), user, ln.Addr())
			srv := &http.Server{Handler: access.Guard(g.controlToken, fleetAPI(fleet, apps, cfg), "/devices", "/events"), ReadHeaderTimeout: 10 * time.Second}
			go func() {
				select {
				case <-ctx.Done():
				case <-remoteDone(cfg.APNs):
					log.Error("devices: the mock APNs push gateway closed")
				case <-remoteDone(cfg.FCM):
					log.Error("devices: the mock FCM push gateway closed")
				}
				srv.Close()
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			if ctx.Err() == nil {
				return errors.New("devices: a push gateway closed; phones are offline")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keysDir, "keys", "keys", "key set directory written by pushlab keys init")
	f.StringVar(&serverURL, "server", "https://localhost:8065", "server simulator URL")
	f.StringVar(&apnsControl, "apns-control", "http://localhost:8197", "mock APNs control URL")
	f.StringVar(&fcmControl, "fcm-control", "http://localhost:4444", "mock FCM control URL")
	f.StringVar(&listen, "listen", "127.0.0.1:8070", "control API address")
	f.StringVar(&user, "user", "alice", "the user every phone is logged in as")
	f.StringVar(&certEnv, "cert-env", string(testpki.Development), "aps-environment of the certificate-auth iOS app (development, production)")
	f.DurationVar(&wait, "wait", defaultWait, "how long to wait for the server and the mocks at start, retrying with backoff (0: fail at once)")
	f.IntVar(&ios, "ios", 1, "iOS phones with the token-auth app")
	f.IntVar(&iosCert, "ios-cert", 1, "iOS phones with the certificate-auth app")
	f.IntVar(&android, "android", 1, "Android phones with the \"android\" app")
	f.IntVar(&androidRN, "android-rn", 0, "Android phones with the \"android_rn\" app")
	f.StringVar(&gateways, "gateways", "", "push gateways to dial even with no phone of theirs at start, for phones added over the control API: apns, fcm, or apns,fcm")
	f.IntVar(&parallel, "parallel", 8, "phones installed at once at start (each draws a key pair, registers with its mock and attaches to the server: CPU and round trips that overlap)")
	f.BoolVar(&liveActivities, "live-activities", false, "the token-auth iOS app runs Live Activities (a push-to-start token per phone)")
	for flag, env := range map[string]string{"keys": envKeys, "server": "PUSHLAB_SERVER_URL",
		"apns-control": "PUSHLAB_APNS_CONTROL", "fcm-control": "PUSHLAB_FCM_CONTROL"} {
		envName(f, flag, env)
	}
	return envPrefix(cmd, "DEVICES_")
}

// addPhones installs n phones of app named prefix-1 … prefix-n, up to
// parallel at once, and returns them in name order; on the first error the
// rest are not started.
func addPhones(ctx context.Context, fleet *devicesim.Fleet, prefix string, n int, user string, app devicesim.App, parallel int) ([]*devicesim.Device, error) {
	added := make([]*devicesim.Device, n)
	grp, gctx := errgroup.WithContext(ctx)
	grp.SetLimit(max(parallel, 1))
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		grp.Go(func() error {
			d, err := fleet.Add(gctx, fmt.Sprintf("%s-%d", prefix, i+1), user, app)
			added[i] = d
			return err
		})
	}
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	return added, ctx.Err()
}

// fleetAPI is the fleet's control API plus what a harness that adds phones
// as it goes needs: POST /devices installs one, GET /devices/idle waits
// until no push is being handled.
func fleetAPI(fleet *devicesim.Fleet, apps map[string]devicesim.App, cfg devicesim.FleetConfig) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", fleet.Handler())
	mux.HandleFunc("POST /devices", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name, User, App string
			// Identity replaces the app's build identity (a rebranded
			// bundle id, another Firebase project…).
			Identity *devicesim.App
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, "devices: body: "+err.Error(), http.StatusBadRequest)
			return
		}
		app, ok := apps[req.App]
		if req.Identity != nil {
			app, ok = *req.Identity, true
		}
		switch {
		case !ok:
			http.Error(w, fmt.Sprintf("devices: unknown app %q (ios, ios-cert, android, android-rn)", req.App), http.StatusBadRequest)
			return
		case req.Name == "" || req.User == "":
			http.Error(w, "devices: name and user are required", http.StatusBadRequest)
			return
		case app.Platform == devicesim.IOS && cfg.APNs == nil, app.Platform == devicesim.Android && cfg.FCM == nil:
			http.Error(w, fmt.Sprintf("devices: no push gateway for %s phones (start with --gateways)", app.Platform), http.StatusConflict)
			return
		}
		if _, exists := fleet.Device(req.Name); exists {
			http.Error(w, fmt.Sprintf("devices: %q exists", req.Name), http.StatusConflict)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		d, err := fleet.Add(ctx, req.Name, req.User, app)
		if err != nil {
			http.Error(w, "devices: "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(d.State())
	})
	mux.HandleFunc("GET /devices/idle", func(w http.ResponseWriter, _ *http.Request) {
		fleet.Wait()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func remoteDone(p devicesim.Provider) <-chan struct{} {
	if r, ok := p.(*devicesim.Remote); ok && r != nil {
		return r.Done()
	}
	return nil
}
