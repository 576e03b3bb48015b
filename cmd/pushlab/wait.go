package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// defaultWait is how long an actor waits for the actors it dials at start.
const defaultWait = 60 * time.Second

// Backoff between tries while waiting: from waitFirst, doubling up to waitMax.
const (
	waitFirst = 100 * time.Millisecond
	waitMax   = 2 * time.Second
)

// waitFor calls try until it succeeds or wait has passed (0: one try),
// backing off between tries. It logs what it waits for when the first try
// fails, again every few seconds, and once it is reached, so a user who
// started the actors in any order sees why one has not started yet.
func waitFor(ctx context.Context, log *slog.Logger, wait time.Duration, what string, try func(context.Context) error) error {
	deadline := time.Now().Add(wait)
	backoff := waitFirst
	var lastLog time.Time
	for n := 1; ; n++ {
		err := try(ctx)
		if err == nil {
			if n > 1 {
				log.Info("reached "+what, "tries", n)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%s not reachable after %s (--wait): %w", what, wait.Round(time.Second), err)
		}
		if time.Since(lastLog) >= 5*time.Second {
			log.Info("waiting for "+what, "error", err.Error(), "gives_up_in", left.Round(time.Second))
			lastLog = time.Now()
		}
		t := time.NewTimer(min(backoff, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, waitMax)
	}
}

// httpReachable is a try for waitFor: any HTTP answer from url means the
// actor is up (a TLS or connection error means not yet).
func httpReachable(client *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}
