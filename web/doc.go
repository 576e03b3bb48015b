// Package web is pushlab's live view: every hop of every notification,
// streamed to a browser over a websocket, with the controls of a push console.
//
//	s, err := web.New(web.Config{Lab: lab})             // an in-process lab (pushlab demo)
//	s, err := web.New(web.Config{Collect: []string{     // or running actors' event streams
//		"ws://127.0.0.1:8066/events", "wss://127.0.0.1:8443/events"}})
//	go s.Serve(ctx, ln)                                  // ln on 127.0.0.1 unless Config.Token is set
//	defer s.Close()
//
// # Sources
//
// The view reads the event spine: a Lab's bus (history first, then live) and
// any number of remote GET /events websockets. Several sources are merged into
// one timeline ordered by time (each event waits Config.MergeWindow for a
// late one from another actor). A remote stream that ends is reported on the
// page ("source down") and dialled again with backoff, resuming after the last
// sequence number it delivered (?since=N), so a short outage loses nothing.
// Whatever is lost anyway — a source that skipped sequence numbers because its
// reader fell behind, or an actor that no longer holds what a resume asks
// for — becomes a gap marker on the page, with how many events and where.
//
// # The hub
//
// The hub numbers the merged timeline with its own sequence, keeps the last
// Config.History frames, and fans each one out to every browser. Each browser
// has a bounded queue (Config.ClientQueue): publishing never waits for a
// browser, and one whose queue is full is evicted, closed with websocket code
// 4000, and reconnects. A browser connects with GET /ws?since=N: N = 0 gets
// a snapshot (the devices, then the last Config.Snapshot notifications with
// all their hops); N > 0 gets exactly the frames after N (no hole, no
// overlap), or a gap marker and a fresh snapshot when the history no longer
// reaches back to N. Frames waiting for one browser are coalesced into one
// websocket message (a JSON array), and state frames (devices, stats) are
// collapsed to the newest. Pings every 15 s keep the connection and notice a
// dead peer.
//
// # The page
//
// Plain ES modules embedded with go:embed; nothing is loaded from elsewhere
// (the Content-Security-Policy says so). One store fed by the websocket, one
// module per view (list, waterfall, inspector, devices, controls, chart),
// DOM updates batched per animation frame, at most 3000 notifications kept
// (the rest come back with "load older", GET /api/older). Every value is set
// as text, never as markup: a message body "<script>" shows as <script>.
//
// # Controls
//
// The REST controls are thin: decode strictly (unknown fields are errors),
// validate, answer a clear 4xx with {"error": …} and change nothing on bad
// input, else call the same Go APIs the CLI and the tests use:
//
//	GET    /api/state                         devices, contents mode, profile, users, faults, sources
//	GET    /api/older?before=SEQ&n=100        older notifications' frames
//	POST   /api/send                          SendRequest {type, user_id | device, message, badge…}
//	PUT    /api/contents                      {"contents": "generic|generic_no_channel|full|id_loaded"}
//	POST   /api/devices/{name}/{online|offline|uninstall|reinstall}
//	GET    /api/requests?trace=ACK[&id=ID]    what the mocks received for a notification: headers,
//	                                          the credential as they verified it, body (tokens shortened)
//	GET    /api/faults                        the mocks' active faults
//	POST   /api/faults                        FaultRequest {provider, device, status, reason, retry_after, latency, action, percent, count}
//	DELETE /api/faults                        clear every fault
//	DELETE /api/faults/{provider}/{id}
//
// They need a Lab; a view that only collects answers them 503.
//
// # Security
//
// Serve refuses a listener off loopback unless Config.Token is set. The token
// is then required on every request — the page, its assets, the REST
// controls and the websocket — as Authorization: Bearer, the HttpOnly
// SameSite=Strict cookie the page sets when opened once with ?token=, or
// ?token= itself. Requests that change state and websocket upgrades from
// another origin are refused (403). The page shows redacted tokens and key
// fingerprints only; the actors never put key material on the spine.
// Config.CollectToken is sent (Authorization: Bearer) to Collect sources
// whose /events are guarded by the actors' control token.
package web
