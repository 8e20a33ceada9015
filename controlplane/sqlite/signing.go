package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// CreateSigningKey stores a new, pending signing key.
func (s *Store) CreateSigningKey(ctx context.Context, k controlplane.SigningKey, events ...controlplane.Event) error {
	if k.State == "" {
		k.State = controlplane.SigningPending
	}
	if k.State != controlplane.SigningPending {
		return invalid("signing key %.40q created %.20q, not pending", k.KID, k.State)
	}
	var e enc
	args := []any{k.KID, k.Alg, k.State, nonNil(k.PublicJWK), nonNil(k.Sealed), e.time(k.CreatedAt), e.time(k.ActivatedAt), e.time(k.RetiredAt)}
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "create signing key", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, state, public_jwk, sealed, created_at, activated_at, retired_at)
			VALUES (?,?,?,?,?,?,?,?)`, args...); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListSigningKeys returns every signing key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error) {
	var out []controlplane.SigningKey
	err := s.read(ctx, "list signing keys", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT kid, alg, state, public_jwk, sealed, created_at, activated_at, retired_at
			FROM signing_keys ORDER BY created_at, rowid`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k controlplane.SigningKey
			var c, a, r int64
			if err := rows.Scan(&k.KID, &k.Alg, &k.State, &k.PublicJWK, &k.Sealed, &c, &a, &r); err != nil {
				return err
			}
			k.CreatedAt, k.ActivatedAt, k.RetiredAt = decTime(c), decTime(a), decTime(r)
			out = append(out, k)
		}
		return rows.Err()
	})
	return out, err
}

func signingState(ctx context.Context, tx *sql.Tx, kid string) (string, error) {
	var st string
	err := tx.QueryRowContext(ctx, `SELECT state FROM signing_keys WHERE kid = ?`, kid).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: signing key %.40q: %w", kid, controlplane.ErrNotFound)
	}
	return st, err
}

// ActivateSigningKey makes kid the one active key; the partial unique
// index on the active state holds that even against a bug here.
func (s *Store) ActivateSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	return s.activate(ctx, kid, now, false, events)
}

// ActivateFirstSigningKey makes kid the active key while none is; the
// check runs in the write transaction, which SQLite runs one at a time.
func (s *Store) ActivateFirstSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	return s.activate(ctx, kid, now, true, events)
}

func (s *Store) activate(ctx context.Context, kid string, now time.Time, first bool, events []controlplane.Event) error {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "activate signing key", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		st, err := signingState(ctx, tx, kid)
		if err != nil {
			return err
		}
		if first {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM signing_keys WHERE state = 'active'`).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("sqlite: a signing key is active already: %w", controlplane.ErrConflict)
			}
		}
		switch st {
		case controlplane.SigningRetired:
			return fmt.Errorf("sqlite: signing key %.40q is retired: %w", kid, controlplane.ErrConflict)
		case controlplane.SigningActive:
			return insertEvents(ctx, tx, events)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET state = 'inactive' WHERE state = 'active'`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET state = 'active', activated_at = ? WHERE kid = ?`, at, kid); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

// RetireSigningKey retires kid, which must be neither active nor retired.
func (s *Store) RetireSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "retire signing key", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		st, err := signingState(ctx, tx, kid)
		if err != nil {
			return err
		}
		switch st {
		case controlplane.SigningActive:
			return fmt.Errorf("sqlite: signing key %.40q is active: %w", kid, controlplane.ErrConflict)
		case controlplane.SigningRetired:
			return fmt.Errorf("sqlite: signing key %.40q is retired already: %w", kid, controlplane.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE kid = ?`, at, kid); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}
