// Package controlplane is licensekit's reference control plane: the
// vendor's server that issues licences, binds them to machines, answers
// their heartbeats with signed leases, and suspends, revokes and rebinds
// them.
//
// A [Server] is an http.Handler built by [New] over a [Store]:
//
//	cp, err := controlplane.New(ctx, controlplane.Config{Store: st, Issuer: "acme", SecretKey: key})
//	defer cp.Close()
//	http.ListenAndServe(addr, cp)
//
// The state lives behind the [Store] interface, which has an in-memory
// implementation (package memstore), a SQLite one (package sqlite) and a
// PostgreSQL one, and one conformance suite (package storetest) that every
// implementation passes.
//
// # Who may do what
//
// Every call is one row of a route table that names what it needs: nothing
// (the JWKS, the health check, the OpenAPI document), a device (activate,
// heartbeat, deactivate: the licence token is the credential), any API key
// (validate), or one permission. A request no row matches does not exist.
// An API key's permissions are those its role grants that its scopes grant
// too; the defaults grant nothing. A key never creates or revokes a key with
// a permission, a role or a tenant it lacks, nor creates one that outlives
// it (left out, a new key's expiry is its creator's). A tenant's key sees only its
// tenant: another tenant's licences and keys are not found (404), never
// forbidden. Signing keys and settings belong to no tenant, so only a key of
// no tenant manages them.
//
// API-key secrets have the shape lk_<key id>_<random><check>: the check, a
// MAC under a subkey of the server's secret key, refuses a forged secret
// before the store is asked; the id finds the record, and the secret is
// compared, as an HMAC-SHA256 keyed by another subkey, in constant time. Private signing keys are kept
// sealed with AES-256-GCM under another subkey. A [Secret] prints as
// [redacted] everywhere but in the answer that creates a key.
//
// # Devices and leases
//
// A machine activates with a current licence token and its fingerprint; up
// to max_machines machines are bound, decided inside one store transaction
// per licence. Each activation and heartbeat answers a lease signed by the
// active signing key, whose status says active, suspended or revoked.
// Successive leases to one machine have strictly increasing iat (now, or the
// previous iat plus one second, but never more than ten seconds ahead of
// now: a machine asking faster gets its newest lease again, or 429 when
// that lease no longer tells its status). A lease pushed ahead like
// that has its bookkeeping written before it is answered, and a Server
// starts its leases after the second it started in, so a restart after a
// crash never repeats an iat. A machine that deactivates itself releases
// its binding, but its seat stays held until the newest lease it was given
// runs out, since that lease lets it run offline until then, and at least
// grace past the deactivation, which covers a lease whose bookkeeping this
// process never saw; an admin's rebind frees the seat at once.
//
// # Field operations
//
// An air-gapped machine's offline activation request is answered, by an
// API key with license.issue, with a lease marked offline that lasts until
// the licence expires or the offline lease TTL runs out, signed by the key
// that signed the request's licence token (which the air-gapped machine
// trusts, whatever rotation it missed); the machine is
// bound like an activation and its seat is held until that lease ends. A
// bound machine presenting a key replaced by a reset or a renewal is handed
// the current one (license_key) with its lease; a machine not bound gets
// nothing. Every change of the published signing keys comes with a keyset
// statement, signed by the key active before the change and stored in the
// same Store call as an audit event; the newest is handed to every device
// with its lease, so products trusting only the old key learn the new one.
//
// Heartbeat bookkeeping (last beat, newest lease) is written behind, in
// batches, at least every second and on Close; every state change is written
// before it is answered, with its audit event in the same store call.
package controlplane
