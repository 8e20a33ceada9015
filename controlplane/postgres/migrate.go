package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

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

// migrations returns the embedded migrations in order. Their names start
// with their version, 0001_…, counting up from 1 without a gap.
func migrations() ([]migration, error) {
	entries, err := migrationFS.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: migration %q has no version", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, e.Name(), string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migration %q out of sequence", m.name)
		}
	}
	return out, nil
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
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
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
