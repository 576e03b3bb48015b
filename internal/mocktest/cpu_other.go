//go:build !unix

package mocktest

import "time"

// CPUTime is 0 where getrusage is missing: ReportCPU reports nothing.
func CPUTime() time.Duration { return 0 }
