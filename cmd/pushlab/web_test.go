package main

import (
	"strings"
	"testing"
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
