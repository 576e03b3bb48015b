package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushlab/pushlab/proxy"
)

// A deliberately broken proxy fails the scenarios, and the failure says what
// is wrong in words a CI log reader acts on.
func TestBrokenProxiesAreCaught(t *testing.T) {
	deliver, err := Select(Scenarios(), "deliver/full")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// front misbehaves in front of a correct proxy (nil: none).
		front func(w http.ResponseWriter, r *http.Request, next http.Handler)
		// config breaks the proxy's own configuration (nil: none).
		config func(*proxy.Config)
		want   string
	}{
		{
			name:   "wrong topic",
			config: func(c *proxy.Config) { c.ApplePushSettings[0].ApplePushTopic = "com.example.not.the.app" },
			want:   `provider said DeviceTokenNotForTopic`,
		},
		{
			name:  "drops acks",
			front: answersOKWithoutForwarding("/api/v1/ack"),
			want:  "ack lost: the device acked 1 time(s), the proxy recorded 0",
		},
		{
			name:  "answers OK without sending",
			front: answersOKWithoutForwarding("/api/v1/send_push"),
			want:  "lost silently: the proxy answered OK but the provider never accepted the push",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			opts := InProcessOptions{ProxyConfig: tt.config}
			var target atomic.Pointer[httputil.ReverseProxy]
			if tt.front != nil {
				front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tt.front(w, r, target.Load())
				}))
				defer front.Close()
				opts.ProxyURL, opts.ProxyClient = front.URL, front.Client()
			}
			dep, err := StartInProcess(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer dep.Close()
			lab := dep.(*inProcess).lab
			u, _ := url.Parse(lab.ProxyURL)
			rp := httputil.NewSingleHostReverseProxy(u)
			rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: lab.Set.CA.Pool()}}
			target.Store(rp)

			r := Run(ctx, dep, deliver, RunOptions{})[0]
			if r.Passed {
				t.Fatalf("a proxy that %s passed %s", tt.name, r.Scenario)
			}
			text := r.Failure()
			if !strings.Contains(text, tt.want) {
				t.Fatalf("the failure does not say %q:\n%s", tt.want, text)
			}
			if !strings.Contains(text, "timeline of ") || !strings.Contains(text, "server.sent") {
				t.Errorf("the failure carries no timeline of the failing notification:\n%s", text)
			}
		})
	}
}

// answersOKWithoutForwarding is a broken front for a proxy: requests to path
// get {"status":"OK"} and never reach it; the rest pass through.
func answersOKWithoutForwarding(path string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path != path {
			next.ServeHTTP(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"OK"}`)
	}
}
