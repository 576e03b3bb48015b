// Package mockkit is what mockapns and mockfcm share, so that both providers
// behave alike where Apple and Google do and tests drive them the same way:
//
//   - Hub: the push channel to devices (in-process receivers, or one multiplexed
//     websocket per devicesim process via Gateway) with each provider's
//     offline-storage rules (StoragePolicy);
//   - Registry: device tokens issued to simulated apps, installed or not; a
//     hub that Tracks it keeps its tokens' online state on their entries;
//   - Faults: scripted, seeded fault injection, including the cases where
//     the provider has the push and the client cannot know it (accept_reset,
//     accept_late, delay_accept); a faulted request is still recorded;
//   - Recorder: the requests a mock received, for inspection;
//   - Clock: a settable clock (offset from the wall clock or Config.Now), at
//     /control/clock, so that expiry tests take milliseconds;
//   - Control: one HTTP control API over all of the above, plus /events.
//
// The values all of these deal in (Delivery, Receiver, Registration, Fault,
// Request) are package pushtest's, defined once for the mocks, the phones
// and users in other modules; the mocks re-export them (mockapns.Fault =
// pushtest.Fault). A JSON-only form (httpjson.Duration) stays at the control
// API's edge.
package mockkit
