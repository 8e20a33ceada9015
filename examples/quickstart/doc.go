// Command quickstart walks through licensekit in one process, with nothing
// to set up and nothing left behind:
//
//	go run ./examples/quickstart
//
// It starts the reference control plane (package controlplane over a
// SQLite database in a temporary directory, served on a loopback port),
// then plays both sides of a licence's life:
//
//   - the vendor, over the control plane's admin API as examples/server
//     serves it, issues a licence, downloads its key file and the public
//     keys (JWKS), and later suspends, restores, resets and revokes it.
//     Every call is printed as the curl command that makes it, with the
//     admin key as $ADMIN_KEY, so the walk doubles as an API tour;
//   - anyone with the public keys verifies the key file offline
//     (license.ParseKeyring, license.NewVerifier, VerifyKeyFile);
//   - the product opens its licence manager (license.Open with ServerURL
//     set), activates, heartbeats, checks capabilities with Require, runs
//     through a network outage on its lease's offline grace, locks when
//     the grace is over, is vouched for again by the control plane, is
//     suspended and restored, keeps running through a reset of its primary
//     key, and stays locked once revoked, even offline.
//
// The product side is exactly what a real product runs, with three things
// injected so the story fits in a second: a fixed machine id (containers
// often have none), a clock the walk can move (to live through fourteen
// days of outage at once), and an HTTP transport the walk can switch off
// (the outage: the control plane itself keeps running). Each step restarts
// the product, whose first call to the control plane goes out at once,
// instead of waiting for the next heartbeat, an hour later by default.
//
// Each step prints the state the product reaches ("→ state: grace"), and
// the walk fails, with a non-zero exit, if a step does not reach the state
// it narrates. The narration tells what the SDK and the control plane
// really do, including two things a vendor should know: a clock put right
// after running ahead still locks the product (it looks like a clock set
// back) until the control plane answers; and after a reset of the primary
// key the licence's bound machine keeps working, and is handed the current
// key, while any other machine presenting the replaced key gets nothing.
package main
