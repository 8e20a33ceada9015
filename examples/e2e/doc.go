// Package e2e holds the end-to-end test of licensekit: it builds the
// reference control plane (examples/server) and the sample product
// (examples/product) as binaries, runs both on loopback ports with
// temporary directories, and drives a licence's whole life through the
// product's /v1/license API and the control plane's admin API, and shows a
// reset key reaching the running product at its next heartbeat. It has no
// code of its own; run it with
//
//	go test ./examples/e2e
package e2e
