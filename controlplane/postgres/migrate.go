package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	schema "github.com/licensekit/licensekit/controlplane/internal/migration"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/licensekit/licensekit/controlplane"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// Keys of the advisory locks this package takes, within its database:
// one migrator, one sweep and one signing-key change at a time.
const (
	lockMigrate int64 = 0x6c6b_0001_6d69_6772
	lockSweep   int64 = 0x6c6b_0002_7377_6570
	lockSigning int64 = 0x6c6b_0003_7369_676e
)

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	ms, err := schema.Read(migrationFS, "migrations", "postgres")
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

// migrate brings the database to the newest schema in one transaction,
// under an advisory lock: servers starting together wait for the first
// one and find the work done. Its errors are the driver's, or
// [controlplane.ErrSchemaTooNew].
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, pool, txOptions, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockMigrate); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			id integer NOT NULL PRIMARY KEY CHECK (id = 1), version integer NOT NULL)`); err != nil {
			return err
		}
		var have int
		switch err := tx.QueryRow(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&have); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		}
		if have > len(ms) {
			return fmt.Errorf("postgres: database at schema %d, this binary knows %d: %w", have, len(ms), controlplane.ErrSchemaTooNew)
		}
		if have == len(ms) {
			return nil
		}
		for _, m := range ms[have:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_version (id, version) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version`, len(ms))
		return err
	})
}
