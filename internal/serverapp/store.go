package serverapp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

// MaxSharedLicenseCache is the longest --license-cache a server on
// PostgreSQL accepts: other processes may change a licence there, and this
// one sees their change only once its cached copy is this old. Its default
// on PostgreSQL is 0 (off), so that every heartbeat reads the licence.
const MaxSharedLicenseCache = 5 * time.Second

// IsPostgres reports whether db, the --db value, names a PostgreSQL
// database (a postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// checkPostgresURL parses a --db URL as the store will, without
// connecting, so that a URL that cannot work is a usage error (exit 2).
// The password never appears in the error.
func checkPostgresURL(db string) error {
	u, err := url.Parse(db)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password and all
		}
		return fmt.Errorf("%w: --db: not a usable postgres:// URL: %v", ErrUsage, err)
	}
	if _, err := pgxpool.ParseConfig(db); err != nil {
		return fmt.Errorf("%w: --db %s: not a usable postgres:// URL: %s", ErrUsage, u.Redacted(), parseCause(err))
	}
	return nil
}

// parseCause is what pgx says is wrong with a URL, without the URL.
func parseCause(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "cannot parse `") { // "cannot parse `URL`: why"
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			return msg[i+3:]
		}
		return "cannot parse it"
	}
	return msg
}

// redactedDB is --db fit for a log line: a URL without its password.
func redactedDB(db string) string {
	if !IsPostgres(db) {
		return db
	}
	if u, err := url.Parse(db); err == nil {
		return u.Redacted()
	}
	return "postgres://…"
}

// openStore opens the database --db names.
func openStore(ctx context.Context, db string) (controlplane.Store, error) {
	if IsPostgres(db) {
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("serverapp: opening the database: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("serverapp: opening the database: %w", err)
	}
	return st, nil
}

// loadSharedSecretKey reads the secret key file of a server on
// PostgreSQL, or creates it when the database holds no signing key yet
// (its first start). A database that has signing keys and a key file that
// is missing is refused: the key must be the file the other servers of
// this database use, and a new one could not open their signing keys.
func loadSharedSecretKey(ctx context.Context, st controlplane.Store, path string) ([]byte, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		keys, err := st.ListSigningKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("serverapp: reading the signing keys: %w", err)
		}
		if len(keys) > 0 {
			return nil, fmt.Errorf("serverapp: the database holds signing keys but the secret key file %s does not exist; "+
				"copy the file every server of this database uses (or restore it from its backup): %w",
				path, controlplane.ErrSecretKey)
		}
	}
	key, err := controlplane.LoadOrCreateSecretKey(path)
	if err != nil {
		return nil, fmt.Errorf("serverapp: --secret-key-file: %w", err)
	}
	return key, nil
}
