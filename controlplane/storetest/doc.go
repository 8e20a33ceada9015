// Package storetest is the conformance suite of [controlplane.Store]:
// every implementation calls [Run] from its own tests, so a new backend is
// a new implementation and nothing else.
//
// The suite checks each sentence of the Store contract: the sentinels
// (not found, already exists, conflict, invalid, unavailable), copies in
// and out, microsecond times in UTC, paging and cursors, the atomicity of
// UpdateLicense with its events, races decided by the store (concurrent
// bindings under a max_machines check never bind more than the maximum;
// concurrent sweeps change and audit once), heartbeat bookkeeping, the
// signing-key life cycle, API-key name uniqueness and revocation, the audit
// log's order, filters and tenant scoping, and Ping and Close.
//
// It gives the store every time it stores and never depends on the
// store's clock. It imports only the standard library and controlplane.
package storetest
