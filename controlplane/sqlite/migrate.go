package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	schema "github.com/licensekit/licensekit/controlplane/internal/migration"

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

// migrate brings the database to the newest schema, under the write lock.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOpen, err)
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOpen, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("%w: %v", ErrOpen, err)
	}
	var have int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&have); err {
	case nil, sql.ErrNoRows:
	default:
		return fmt.Errorf("%w: %v", ErrOpen, err)
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
		return fmt.Errorf("%w: %v", ErrOpen, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %v", ErrOpen, err)
	}
	return nil
}
