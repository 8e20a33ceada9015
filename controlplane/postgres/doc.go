// Package postgres is the [controlplane.Store] on PostgreSQL 13 or newer,
// through github.com/jackc/pgx/v5 and its connection pool, for a control
// plane of several server processes behind a load balancer: every state
// lives in the database, and the database decides every race.
//
// # Races
//
// No lock of this process guards the data; several processes on one
// database behave as one:
//
//   - UpdateLicense (an activation, a revoke) locks the licence row with
//     SELECT … FOR UPDATE, and its machines in fingerprint order, then
//     writes and commits: updates of one licence queue on the row lock,
//     and each one reads the result of the one before, so concurrent
//     activations never bind more than the licence's maximum.
//   - Names of API keys, licence IDs and idempotency entries are primary
//     keys or unique constraints; the loser of a race gets
//     [controlplane.ErrAlreadyExists]. A partial unique index keeps one
//     active signing key; signing-key changes take a transaction-level
//     advisory lock, so they run one after another.
//   - Sweep takes a transaction-level advisory lock, then expires
//     licences and marks machines dead with their events in the same
//     statements: two sweeps at once give the result of one, audited once.
//   - Statements lock machine rows in (licence, fingerprint) order, the
//     same order everywhere, so heartbeat bookkeeping, updates and sweeps
//     do not deadlock one another. A deadlock or a serialisation failure
//     the database reports nonetheless is [controlplane.ErrConflict], which
//     the caller may retry.
//   - Every connection runs at read committed, whatever the database's
//     default_transaction_isolation: the rules above are written for it.
//     A database whose default is repeatable read passes the conformance
//     suite too.
//
// # Round trips
//
// Writes are sent as pgx batches: the statements of a batch go in one
// round trip and run as one implicit transaction, all or nothing.
// CreateLicense, RecordBeats (a whole batch of beats, in one statement),
// Sweep, PutSettings, AppendEvents and every read take one round trip;
// UpdateLicense takes two (lock and read; write, read back and commit);
// the rarer signing-key and API-key changes take a few.
//
// # Failures
//
// Every connection runs with a statement timeout (default 5 s, see
// [StatementTimeout]) and the same limit on a transaction left idle, so a
// slow query or a stuck process cannot hold a connection or a lock for
// longer. Driver errors are mapped to the sentinels of controlplane: a
// unique violation is ErrAlreadyExists, a deadlock or serialisation
// failure ErrConflict, a value the database refuses ErrInvalid, and a
// refused, reset or closed connection, a server shutting down or a
// statement timeout ErrUnavailable, which the server answers with 503 and
// the SDK retries. The pool replaces broken connections by itself
// (a connection idle for a second is pinged before use), so after
// PostgreSQL restarts, calls succeed again without reopening the store.
//
// A commit is acknowledged by PostgreSQL once its WAL is flushed (with
// the default synchronous_commit=on): an acknowledged change survives a
// crash of the server process and of PostgreSQL.
//
// # Schema
//
// The schema is versioned: the migrations in migrations/ are embedded in
// the binary and numbered; table schema_version holds the number applied.
// [Open] applies the missing ones in one transaction under an advisory
// lock, so that servers starting together migrate once, and refuses a
// database whose version is newer than this binary knows
// ([controlplane.ErrSchemaTooNew]). Identifiers are stored COLLATE "C" and
// so sort byte by byte, as in the other stores; times are timestamptz, to
// the microsecond. PostgreSQL indexes an entry of at most about 2.7 KB
// once compressed: an identifier longer than that (the server takes none
// over 256 characters) is refused with [controlplane.ErrInvalid].
package postgres
