package e2e

import (
	"context"
	"testing"
	"time"
)

// The scenario library in the in-process topology: every scenario passes its
// expectations and the accounting invariant.
func TestScenariosInProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dep, err := StartInProcess(ctx, InProcessOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dep.Close()
	report(t, Run(ctx, dep, Scenarios(), RunOptions{Short: testing.Short()}))
}

// report turns results into subtests, so `go test -run` and CI see one test
// per scenario and topology.
func report(t *testing.T, results []Result) {
	t.Helper()
	for _, r := range results {
		t.Run(r.Scenario, func(t *testing.T) {
			if r.Skipped != "" {
				t.Skip(r.Skipped)
			}
			if !r.Passed {
				t.Errorf("%s in %s:\n%s", r.Scenario, r.Topology, r.Failure())
			}
			t.Logf("%s: sent %d, OK %d, FAIL %d, REMOVE %d, delivered %d in %v", r.Scenario, r.Accounting.Sent,
				r.Accounting.OK, r.Accounting.Fail, r.Accounting.Remove, r.Accounting.Delivered, r.Duration.Round(time.Millisecond))
		})
	}
}
