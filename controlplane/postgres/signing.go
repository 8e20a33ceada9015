package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO signing_keys (kid, alg, state, public_jwk, sealed, created_at, activated_at, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.str(k.KID), e.str(k.Alg), k.State, nonNil(k.PublicJWK), nonNil(k.Sealed),
		e.time(k.CreatedAt), e.time(k.ActivatedAt), e.time(k.RetiredAt))
	queueEvents(&e, b, events)
	if e.err != nil {
		return e.err
	}
	return s.batch(ctx, "create signing key", b, nil)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListSigningKeys returns every signing key, oldest first (in the order
// they were stored, among keys created at one instant).
func (s *Store) ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error) {
	var out []controlplane.SigningKey
	b := &pgx.Batch{}
	b.Queue(`SELECT kid, alg, state, public_jwk, sealed, created_at, activated_at, retired_at
		FROM signing_keys ORDER BY created_at, seq`)
	err := s.batch(ctx, "list signing keys", b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k controlplane.SigningKey
			if err := rows.Scan(&k.KID, &k.Alg, &k.State, &k.PublicJWK, &k.Sealed, &k.CreatedAt, &k.ActivatedAt, &k.RetiredAt); err != nil {
				return err
			}
			utc(&k.CreatedAt, &k.ActivatedAt, &k.RetiredAt)
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeKey runs fn on kid's state in a transaction that holds the
// signing-key advisory lock: changes of signing keys, in any process, run
// one after another, so an activation never meets another one half done.
// The partial unique index on the active state holds the one active key
// even against a bug here.
func (s *Store) changeKey(ctx context.Context, what, kid string, fn func(tx pgx.Tx, state string) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if !storable(kid) {
		return fmt.Errorf("postgres: signing key %.40q: %w", kid, controlplane.ErrNotFound)
	}
	return s.tx(ctx, what, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockSigning); err != nil {
			return err
		}
		var st string
		err := tx.QueryRow(ctx, `SELECT state FROM signing_keys WHERE kid = $1`, kid).Scan(&st)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: signing key %.40q: %w", kid, controlplane.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return fn(tx, st)
	})
}

// execEvents inserts events inside tx.
func execEvents(ctx context.Context, tx pgx.Tx, events []controlplane.Event) error {
	var e enc
	b := &pgx.Batch{}
	queueEvents(&e, b, events)
	if e.err != nil || b.Len() == 0 {
		return e.err
	}
	return tx.SendBatch(ctx, b).Close()
}

// ActivateSigningKey makes kid the one active key.
func (s *Store) ActivateSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	return s.activate(ctx, kid, now, false, events)
}

// ActivateFirstSigningKey makes kid the active key while none is; the
// check runs under the signing-key advisory lock that every change of
// signing keys takes.
func (s *Store) ActivateFirstSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	return s.activate(ctx, kid, now, true, events)
}

func (s *Store) activate(ctx context.Context, kid string, now time.Time, first bool, events []controlplane.Event) error {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return e.err
	}
	return s.changeKey(ctx, "activate signing key", kid, func(tx pgx.Tx, st string) error {
		if first {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM signing_keys WHERE state = 'active'`).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("postgres: a signing key is active already: %w", controlplane.ErrConflict)
			}
		}
		switch st {
		case controlplane.SigningRetired:
			return fmt.Errorf("postgres: signing key %.40q is retired: %w", kid, controlplane.ErrConflict)
		case controlplane.SigningActive:
			return execEvents(ctx, tx, events)
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET state = 'inactive' WHERE state = 'active'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET state = 'active', activated_at = $1 WHERE kid = $2`, at, kid); err != nil {
			return err
		}
		return execEvents(ctx, tx, events)
	})
}

// RetireSigningKey retires kid, which must be neither active nor retired.
func (s *Store) RetireSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	var e enc
	at := e.time(now)
	if e.err != nil {
		return e.err
	}
	return s.changeKey(ctx, "retire signing key", kid, func(tx pgx.Tx, st string) error {
		switch st {
		case controlplane.SigningActive:
			return fmt.Errorf("postgres: signing key %.40q is active: %w", kid, controlplane.ErrConflict)
		case controlplane.SigningRetired:
			return fmt.Errorf("postgres: signing key %.40q is retired already: %w", kid, controlplane.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE kid = $2`, at, kid); err != nil {
			return err
		}
		return execEvents(ctx, tx, events)
	})
}
