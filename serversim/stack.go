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
	stackSink = buf[stackIndex] // keeps buf, so the frame has its size
}

var stackSink, stackIndex = byte(0), 0
