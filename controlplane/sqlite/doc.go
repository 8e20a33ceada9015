// Package sqlite is the [controlplane.Store] on one SQLite file, through
// the pure-Go driver modernc.org/sqlite (no cgo, so the server stays one
// static binary that cross-compiles).
//
// The database runs in WAL mode with foreign keys on and a busy timeout.
// Every write is a transaction begun with BEGIN IMMEDIATE, which takes
// SQLite's write lock at once: concurrent writers, in this process or in
// another one on the same file, queue on the database's lock rather than
// on a lock of this process, and a read-modify-write such as UpdateLicense
// never reads a state that another writer is about to change. A writer
// that cannot get the lock within the busy timeout fails with
// [controlplane.ErrConflict] from UpdateLicense (the caller may retry) and
// [controlplane.ErrUnavailable] elsewhere. In the process, one connection
// writes and a pool of connections reads: in WAL mode readers never wait
// for the writer.
//
// # Durability
//
// With synchronous=NORMAL, the default, a commit is written to the WAL
// file before the call returns, and is fsynced at the next checkpoint: an
// acknowledged change survives a kill -9 of the process (the operating
// system has the bytes) but the last commits before a power loss or a
// kernel crash may be lost — never half of one, and the file stays
// consistent. [SyncFull] fsyncs the WAL at every commit and survives power
// loss too, at the price of one fsync per write.
//
// # Schema
//
// The schema is versioned: the migrations in migrations/ are embedded in
// the binary and numbered; table schema_version holds the number applied.
// [Open] applies the missing ones inside one BEGIN IMMEDIATE transaction,
// so that two processes starting together migrate once, and refuses a
// database whose version is newer than this binary knows
// ([controlplane.ErrSchemaTooNew]).
package sqlite
