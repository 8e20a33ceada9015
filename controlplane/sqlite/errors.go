package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/licensekit/licensekit/controlplane"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrOpen: the database file cannot be opened or is not a database of
// this store. Open's errors wrap it, or [controlplane.ErrSchemaTooNew].
var ErrOpen = errors.New("sqlite: cannot open the database")

// sentinels are the errors that pass through fail unchanged.
var sentinels = []error{
	controlplane.ErrNotFound, controlplane.ErrAlreadyExists, controlplane.ErrConflict,
	controlplane.ErrInvalid, controlplane.ErrUnavailable, controlplane.ErrSchemaTooNew,
}

// fail maps err, from the driver or from this package, to a sentinel of
// controlplane. busy is what a locked database means for the caller. The
// driver's error is kept as text, never as a value to branch on.
func fail(ctx context.Context, what string, err error, busy error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("sqlite: %s: %w: %w", what, controlplane.ErrUnavailable, cerr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlite: %s: %w: %w", what, controlplane.ErrUnavailable, err)
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w", what, controlplane.ErrAlreadyExists)
		}
		if isBusy(err) {
			return fmt.Errorf("sqlite: %s: database busy: %w", what, busy)
		}
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("sqlite: %s: %w: %v", what, controlplane.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w: %v", what, controlplane.ErrUnavailable, err)
}

// isBusy reports whether err is the driver's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("sqlite: "+format+": %w", append(args, controlplane.ErrInvalid)...)
}
