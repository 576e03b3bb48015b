package serversim

// growStack grows the calling goroutine's stack to 16 KiB (a 12 KiB frame),
// near the top of the goroutine, where copying the stack is cheap. A
// handler goroutine of net/http starts on the smallest stack; left alone,
// it grows it two or three times on the way down through JSON and the
// forward to the proxy, each time copying and adjusting every frame below
// (over a third of the ack handler's CPU). CockroachDB's growstack does
// the same.
//
//go:noinline
func growStack() {
	var buf [12 << 10]byte
	keepFrame(buf[:]) // buf must exist, so the frame has its size
}

// keepFrame uses nothing of b; not inlined, it keeps b from being optimised
// away (and, not storing it, keeps it on the stack, with no shared write for
// concurrent handlers to race on).
//
//go:noinline
func keepFrame(b []byte) {}
