// Package loadtest measures the control plane's hot path, the heartbeat,
// on loopback, against a floor measured in the same run.
//
// [Run] starts the control plane in this process, as examples/server runs
// it over a fresh SQLite file, issues licences through its API and
// activates each from its own machine fingerprint. Then it drives the
// heartbeats of all of them from many concurrent clients for a fixed time,
// twice: once against the floor, a bare net/http handler that only decodes
// the same request body and signs a lease with Ed25519 through
// license/mint, and once against the control plane. Both are driven by the
// same client code (the SDK's heartbeat.Client) over the same HTTP
// transport, and share the machine with the clients in the same way, so
// their ratio says what the control plane costs beyond the work no server
// can avoid.
//
// With Config.DB, a postgres:// URL, the control plane runs on
// PostgreSQL, in a database the run creates and drops; with Config.Servers
// 2 it measures one server and then two on that database, each with its
// own store and listener, the clients spread over them. After the runs it
// checks in the database that every machine's newest lease has its
// bookkeeping stored (nothing acknowledged was lost), and counts, through
// a TCP proxy in front of PostgreSQL and a row trigger on every table,
// the round trips and rows written of one activation and one heartbeat.
//
// The control plane's rate limits are turned off for the run: a licence
// beating many times a second would otherwise be answered 429 by design,
// and the figure would be the limiter's.
//
// It is a program with a bounded duration that prints its figures
// (examples/server/loadtest); nothing asserts on them.
package loadtest
