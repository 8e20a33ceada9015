package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/licensekit/licensekit/controlplane"
)

// ErrOpen: the URL is not usable or the database cannot be reached or
// migrated at start. Open's errors wrap it, or
// [controlplane.ErrSchemaTooNew]; a database that does not answer wraps
// [controlplane.ErrUnavailable] too.
var ErrOpen = errors.New("postgres: cannot open the database")

// sentinels are the errors that pass through fail unchanged.
var sentinels = []error{
	controlplane.ErrNotFound, controlplane.ErrAlreadyExists, controlplane.ErrConflict,
	controlplane.ErrInvalid, controlplane.ErrUnavailable, controlplane.ErrSchemaTooNew,
}

// fail maps err, from the driver or from this package, to a sentinel of
// controlplane. The driver's error is kept as text, never as a value to
// branch on.
func fail(ctx context.Context, what string, err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("postgres: %s: %w: %w", what, controlplane.ErrUnavailable, cerr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres: %s: %w: %w", what, controlplane.ErrUnavailable, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", what, controlplane.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("postgres: %s: %w: %s (SQLSTATE %s)", what, sentinelOf(pe.Code), pe.Message, pe.Code)
	}
	// Anything else is the connection: refused, reset, closed by a server
	// that shut down, a pool that was closed.
	return fmt.Errorf("postgres: %s: %w: %v", what, controlplane.ErrUnavailable, err)
}

// sentinelOf maps an SQLSTATE to what it means for the caller.
func sentinelOf(code string) error {
	switch code {
	case "23505": // unique_violation
		return controlplane.ErrAlreadyExists
	case "40001", "40P01", "55P03": // serialization_failure, deadlock_detected, lock_not_available
		return controlplane.ErrConflict
	case "57014": // query_canceled: the statement timeout
		return controlplane.ErrUnavailable
	}
	switch {
	case strings.HasPrefix(code, "22"), // data exception: a value the database refuses
		strings.HasPrefix(code, "54"): // program limit: an index entry over ~2.7 KB
		return controlplane.ErrInvalid
	default:
		// 08 connection, 53 resources, 57 shutdown, 58 system, and the
		// rest: the store cannot answer now.
		return controlplane.ErrUnavailable
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("postgres: "+format+": %w", append(args, controlplane.ErrInvalid)...)
}

// unreachable reports whether err says that the database does not answer
// (now), rather than that it refused what it was asked.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return true
	}
	switch pe.Code[:2] {
	case "08", "53", "57", "58":
		return true
	}
	return false
}
