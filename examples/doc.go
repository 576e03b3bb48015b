// Package examples is pushlab used from another Go module, through its public
// API only: the real sideshow/apns2 client against mockapns, the real firebase
// v4 Admin SDK against mockfcm, and a whole lab (mocks, push proxy, server
// simulator and devices). Its tests are the examples; `make test` runs them.
package examples
