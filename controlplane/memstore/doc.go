// Package memstore is the in-memory [controlplane.Store]: maps behind one
// mutex, for tests, for licensetest's control plane, and for a server
// that may forget everything when it stops.
//
// It keeps the same contract as the stores on disk and passes the same
// conformance suite (package storetest): values are deep copies in and
// out, times are kept to the microsecond in UTC, pages and cursors behave
// alike, and the sentinels are the same. It never reads the clock and
// starts no goroutine, so it works inside a testing/synctest bubble.
//
// Nothing is durable: a Store lives as long as its process.
package memstore
