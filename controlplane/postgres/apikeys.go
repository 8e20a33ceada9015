package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

const apiKeyCols = `id, tenant_id, name, role, scopes, hash, hint, created_at, created_by, expires_at, revoked_at`

func scanAPIKey(row pgx.Row) (controlplane.APIKey, error) {
	var k controlplane.APIKey
	var scopes []byte
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Role, &scopes, &k.Hash, &k.Hint, &k.CreatedAt, &k.CreatedBy, &k.ExpiresAt, &k.RevokedAt); err != nil {
		return k, err
	}
	var d dec
	d.json(scopes, &k.Scopes)
	utc(&k.CreatedAt, &k.ExpiresAt, &k.RevokedAt)
	return k, d.err
}

// CreateAPIKey stores a new API key; the unique constraint on (tenant_id,
// name) decides a race between two keys of one name.
func (s *Store) CreateAPIKey(ctx context.Context, k controlplane.APIKey, events ...controlplane.Event) error {
	var e enc
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.str(k.ID), e.str(k.TenantID), e.str(k.Name), e.str(k.Role), e.json(k.Scopes), nonNil(k.Hash), e.str(k.Hint),
		e.time(k.CreatedAt), e.str(k.CreatedBy), e.time(k.ExpiresAt), e.time(k.RevokedAt))
	queueEvents(&e, b, events)
	if e.err != nil {
		return e.err
	}
	return s.batch(ctx, "create API key", b, nil)
}

// GetAPIKey returns a key by ID.
func (s *Store) GetAPIKey(ctx context.Context, id string) (controlplane.APIKey, error) {
	if err := s.check(ctx); err != nil {
		return controlplane.APIKey{}, err
	}
	notFound := fmt.Errorf("postgres: API key %.40q: %w", id, controlplane.ErrNotFound)
	if !storable(id) {
		return controlplane.APIKey{}, notFound
	}
	var k controlplane.APIKey
	b := &pgx.Batch{}
	b.Queue(`SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1`, id)
	err := s.batch(ctx, "get API key", b, func(br pgx.BatchResults) error {
		var err error
		k, err = scanAPIKey(br.QueryRow())
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		return err
	})
	if err != nil {
		return controlplane.APIKey{}, err
	}
	return k, nil
}

// ListAPIKeys returns one page of a tenant's keys in ascending ID order.
func (s *Store) ListAPIKeys(ctx context.Context, f controlplane.APIKeyFilter) ([]controlplane.APIKey, string, error) {
	cursor, err := idCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	n := limit(f.Page)
	q := `SELECT ` + apiKeyCols + ` FROM api_keys WHERE id > $1`
	args := []any{cursor}
	if f.TenantID != controlplane.AllTenants {
		if !storable(f.TenantID) {
			return nil, "", s.check(ctx) // nothing stored can match
		}
		q += ` AND tenant_id = $2 ORDER BY id LIMIT $3`
		args = append(args, f.TenantID, n+1)
	} else {
		q += ` ORDER BY id LIMIT $2`
		args = append(args, n+1)
	}
	var out []controlplane.APIKey
	b := &pgx.Batch{}
	b.Queue(q, args...)
	err = s.batch(ctx, "list API keys", b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > n {
		out = out[:n]
		return out, out[n-1].ID, nil
	}
	return out, "", nil
}

// RevokeAPIKey sets the key's RevokedAt, once; the row lock serialises
// two revocations of one key.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time, events ...controlplane.Event) error {
	var e enc
	when := e.time(at)
	if e.err != nil {
		return e.err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if !storable(id) {
		return fmt.Errorf("postgres: API key %.40q: %w", id, controlplane.ErrNotFound)
	}
	return s.tx(ctx, "revoke API key", func(tx pgx.Tx) error {
		var revoked time.Time
		err := tx.QueryRow(ctx, `SELECT revoked_at FROM api_keys WHERE id = $1 FOR UPDATE`, id).Scan(&revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: API key %.40q: %w", id, controlplane.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !revoked.IsZero() {
			return fmt.Errorf("postgres: API key %.40q is revoked already: %w", id, controlplane.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2`, when, id); err != nil {
			return err
		}
		return execEvents(ctx, tx, events)
	})
}
