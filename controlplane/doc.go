// Package controlplane is licensekit's reference control plane: the
// vendor's server that issues licences, binds them to machines, answers
// their heartbeats with signed leases, and suspends, revokes and rebinds
// them.
//
// The state lives behind the [Store] interface, which has an in-memory
// implementation (package memstore), a SQLite one (package sqlite) and a
// PostgreSQL one, and one conformance suite (package storetest) that every
// implementation passes.
package controlplane
