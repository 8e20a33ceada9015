package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

const apiKeyCols = `id, tenant_id, name, role, scopes, hash, hint, created_at, created_by, expires_at, revoked_at`

func scanAPIKey(row scanner) (controlplane.APIKey, error) {
	var k controlplane.APIKey
	var scopes string
	var c, x, r int64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Role, &scopes, &k.Hash, &k.Hint, &c, &k.CreatedBy, &x, &r); err != nil {
		return k, err
	}
	var d dec
	d.json(scopes, &k.Scopes)
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = decTime(c), decTime(x), decTime(r)
	return k, d.err
}

// CreateAPIKey stores a new API key; the unique index on (tenant_id, name)
// decides a race between two keys of one name.
func (s *Store) CreateAPIKey(ctx context.Context, k controlplane.APIKey, events ...controlplane.Event) error {
	var e enc
	args := []any{k.ID, k.TenantID, k.Name, k.Role, e.json(k.Scopes), nonNil(k.Hash), k.Hint,
		e.time(k.CreatedAt), k.CreatedBy, e.time(k.ExpiresAt), e.time(k.RevokedAt)}
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "create API key", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, args...); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

// GetAPIKey returns a key by ID.
func (s *Store) GetAPIKey(ctx context.Context, id string) (controlplane.APIKey, error) {
	var k controlplane.APIKey
	err := s.read(ctx, "get API key", func(tx *sql.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: API key %.40q: %w", id, controlplane.ErrNotFound)
		}
		return err
	})
	return k, err
}

// ListAPIKeys returns one page of a tenant's keys in ascending ID order.
func (s *Store) ListAPIKeys(ctx context.Context, f controlplane.APIKeyFilter) ([]controlplane.APIKey, string, error) {
	n := limit(f.Page)
	q := `SELECT ` + apiKeyCols + ` FROM api_keys WHERE id > ?`
	args := []any{f.Cursor}
	if f.TenantID != controlplane.AllTenants {
		q += ` AND tenant_id = ?`
		args = append(args, f.TenantID)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, n+1)
	var out []controlplane.APIKey
	err := s.read(ctx, "list API keys", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
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

// RevokeAPIKey sets the key's RevokedAt, once.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time, events ...controlplane.Event) error {
	var e enc
	when := e.time(at)
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "revoke API key", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		var revoked int64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM api_keys WHERE id = ?`, id).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: API key %.40q: %w", id, controlplane.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if revoked != zeroMicro {
			return fmt.Errorf("sqlite: API key %.40q is revoked already: %w", id, controlplane.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, when, id); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}
