// Command quickstart walks through licensekit in one process, with nothing
// to set up: a vendor mints a licence, a control plane runs on loopback,
// and a product opens its licence manager and lives through an outage, a
// clock set back, a suspension and a revocation.
//
//	go run ./examples/quickstart
//
// The vendor's keys come from licensetest, and the control plane is the
// reference one (package controlplane over its memory store) as licensetest
// runs it, the same a product's own tests use; the product side is exactly
// what a real product runs. Each scene restarts the product, which contacts the
// control plane at once, so the walk-through takes seconds instead of the
// hour a heartbeat interval lasts.
package main
