package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/web"
)

func TestWebCommandRefusesWhatItCannotDoSafely(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"web"}, "--collect"},
		{[]string{"web", "--collect", "http://127.0.0.1:1/events"}, "ws://"},
		{[]string{"web", "--collect", "ws://127.0.0.1:1/events", "--addr", "192.0.2.1:7300", "--token", ""}, "access token"},
		{[]string{"web", "--collect", "ws://127.0.0.1:1/events", "--addr", ":7300", "--token", ""}, "access token"},
		{[]string{"demo", "--web-addr", "0.0.0.0:7300", "--web-token", ""}, "access token"},
	} {
		out, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("pushlab %s: %v (%s), want an error about %s", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:7300": true, "[::1]:0": true, "localhost:80": true,
		"0.0.0.0:7300": false, ":7300": false, "192.0.2.1:1": false, "example.com:80": false, "nonsense": false} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// One token for the lab: with no view token of its own the view takes the
// actors' control token, prints it in its link and requires it.
func TestWebViewFallsBackToTheControlToken(t *testing.T) {
	g := &globals{controlToken: "lab-s3cret"}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	u, wait, err := startWebView(ctx, g, web.Config{Collect: []string{"ws://127.0.0.1:1/events"}, Logger: slog.New(slog.DiscardHandler)},
		webFlags{addr: "127.0.0.1:0"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); wait() }()
	if !strings.HasSuffix(u, "?token=lab-s3cret") {
		t.Fatalf("view link %q lacks the control token", u)
	}
	base, _, _ := strings.Cut(u, "?")
	for tok, want := range map[string]int{"": http.StatusUnauthorized, "lab-s3cret": http.StatusOK} {
		req, _ := http.NewRequest("GET", base+"api/state", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("token %q: %d, want %d", tok, res.StatusCode, want)
		}
	}
}
