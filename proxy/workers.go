package proxy

import (
	"net/http"
	"time"
)

// workerLinger is how long an idle worker (internal/workers) waits for
// another function before it ends.
const workerLinger = 10 * time.Second

// sendPushOnWorker serves a send_push on a worker and waits for it: the
// whole of it, the body's decoding and the answer included. The request's
// handler goroutine is new for every request and starts on a small stack;
// the decoding, the provider layout's JSON encoding and the client
// library's send, at the bottom of deep stacks, grew it each time (with the
// sends on their own goroutines, stack growth was a fifth of the proxy's
// CPU). A panic goes back to the handler, with the worker's stack, for the
// recoverer.
func (s *Server) sendPushOnWorker(w http.ResponseWriter, r *http.Request) {
	s.workers.Do(func() { s.serveSendPush(w, r) })
}

// ackOnWorker serves an ack on a worker, for the same reason: its body's
// decoding, at the bottom of the handler's stack, grew each request's new
// stack (4 % of the proxy's CPU in the pipeline).
func (s *Server) ackOnWorker(w http.ResponseWriter, r *http.Request) {
	s.workers.Do(func() { s.handleAck(w, r) })
}
