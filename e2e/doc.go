// Package e2e is pushlab's CI harness: one scenario library, played in two
// topologies, judged on the event spine.
//
// A Scenario is data — the devices it installs, the mock faults it scripts
// (scoped to its own device tokens), the messages it sends and, for each, an
// Expect: the proxy's verdict, the provider's reason, the hops that must and
// must not appear, how often the device got it — plus code (Run) where data
// cannot say it (replays, a proxy restart, a thousand devices). Scenarios()
// is the library; expectations are today's documented behaviour and live in
// the data, so a change of behaviour is a one-line change in library.go.
//
// Every scenario also passes Account, the invariant over all of its
// notifications: each send_push is answered OK, FAIL or REMOVE; sent =
// delivered + held for an offline device + reported failures; nothing is
// delivered twice; nothing is lost silently (an OK the provider never
// accepted or never pushed on); every ack reaches the proxy. Only the server
// simulator's, the mocks' and the devices' events are needed, so a
// third-party proxy that reports nothing is judged as fully as pushlab's.
//
// The topologies are Deployments shared by the scenarios, each scenario on
// an Env of its own (server simulator and fleet):
//
//   - StartInProcess: a Lab, every actor in this process (seconds);
//   - StartContainers: pushlabtc — the mocks in containers under Apple's and
//     Google's host names on a private network, the proxy image under test
//     with a fresh key set, an upstream-format config and SSL_CERT_FILE; the
//     server simulators (`pushlab server`) and the phones (`pushlab devices`)
//     in containers of their own on that network, one pair per contents mode
//     and profile, started on first use; every actor's /events merged into
//     the harness's bus. Scenarios drive them through ServerDriver and Phone,
//     which are the same in process; a scenario whose phones must stay in
//     the harness says why (Scenario.LocalDevices).
//
// Run plays scenarios in parallel (Exclusive ones alone, after); Result
// carries the failures, the accounting and the failing notifications'
// timelines, which WriteJUnit, WriteJSON, WriteSummary and WriteArtifacts
// report. `pushlab e2e` is the command line over all of it.
//
// # A lab in a Go test
//
// Start runs every actor in this process over real TLS on 127.0.0.1:
//
//	l, err := e2e.Start(ctx, e2e.Options{Contents: serversim.ContentsFull})
//	defer l.Close()
//	phone, err := l.Fleet.Add(ctx, "phone", "alice", l.Android)
//	res, err := l.Server.Send(ctx, serversim.Message{UserID: "alice", Message: "hi"})
//	l.Fleet.Wait()
//	shown, _ := phone.Last() // verified, decrypted, displayed; acked to the proxy
//	hops := l.Bus.Trace(res[0].AckID) // every hop of that notification
package e2e
