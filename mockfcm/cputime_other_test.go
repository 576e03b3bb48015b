//go:build !unix

package mockfcm_test

import "time"

// cpuTime is 0 where getrusage is missing: reportCPU reports nothing.
func cpuTime() time.Duration { return 0 }
