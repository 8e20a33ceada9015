package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	schema "github.com/licensekit/licensekit/controlplane/internal/migration"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	ms, err := schema.Read(migrationFS, "migrations", "sqlite")
	out := make([]migration, len(ms))
	for i, m := range ms {
		out[i] = migration{m.Version, m.Name, m.SQL}
	}
	return out, err
}

// SchemaVersion is the schema version this binary migrates to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrateWhenFree is migrate, tried again while the database is busy, for
// up to busy. Stores opening one new file together can be refused with
// SQLITE_BUSY at once, without SQLite's busy handler, while one of them
// turns the file to WAL mode; a moment later the file is free.
func migrateWhenFree(ctx context.Context, db *sql.DB, busy time.Duration) error {
	deadline := time.Now().Add(busy)
	for {
		err := migrate(ctx, db)
		if !errors.Is(err, errBusy) || !time.Now().Before(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrOpen, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// errBusy marks a migration refused because the database was busy.
var errBusy = errors.New("database busy")

// openErr is a failure of migrate: ErrOpen, and errBusy too when the
// database was busy; the driver's error is kept as text.
func openErr(what string, err error) error {
	if isBusy(err) {
		return fmt.Errorf("%w: %s: %w: %v", ErrOpen, what, errBusy, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrOpen, what, err)
}

// migrate brings the database to the newest schema, under the write lock.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOpen, err)
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return openErr("begin", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT`); err != nil {
		return openErr("schema version table", err)
	}
	var have int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&have); err {
	case nil, sql.ErrNoRows:
	default:
		return openErr("schema version", err)
	}
	if have > len(ms) {
		return fmt.Errorf("sqlite: database at schema %d, this binary knows %d: %w", have, len(ms), controlplane.ErrSchemaTooNew)
	}
	if have == len(ms) {
		return nil
	}
	for _, m := range ms[have:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("%w: migration %s: %v", ErrOpen, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (id, version) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version`, len(ms)); err != nil {
		return openErr("schema version", err)
	}
	if err := tx.Commit(); err != nil {
		return openErr("commit", err)
	}
	return nil
}
