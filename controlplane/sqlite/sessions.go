package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

const sessionCols = `id, key_id, secret_tag, csrf, created_at, seen_at, expires_at`

// CreateSession stores a new console session and the events.
func (s *Store) CreateSession(ctx context.Context, sess controlplane.Session, events ...controlplane.Event) error {
	var e enc
	args := []any{sess.ID, sess.KeyID, sess.SecretTag, sess.CSRF, e.time(sess.CreatedAt), e.time(sess.SeenAt), e.time(sess.ExpiresAt)}
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "create session", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?,?,?,?,?,?,?)`, args...); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

// GetSession returns a session by ID.
func (s *Store) GetSession(ctx context.Context, id string) (controlplane.Session, error) {
	var sess controlplane.Session
	err := s.read(ctx, "get session", func(tx *sql.Tx) error {
		var c, seen, x int64
		err := tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id).
			Scan(&sess.ID, &sess.KeyID, &sess.SecretTag, &sess.CSRF, &c, &seen, &x)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: session: %w", controlplane.ErrNotFound)
		}
		sess.CreatedAt, sess.SeenAt, sess.ExpiresAt = decTime(c), decTime(seen), decTime(x)
		return err
	})
	return sess, err
}

// TouchSession moves the session's SeenAt forward to at.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	var e enc
	when := e.time(at)
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "touch session", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		var seen int64
		err := tx.QueryRowContext(ctx, `SELECT seen_at FROM sessions WHERE id = ?`, id).Scan(&seen)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: session: %w", controlplane.ErrNotFound)
		}
		if err != nil || when <= seen {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET seen_at = ? WHERE id = ?`, when, id)
		return err
	})
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, "delete session", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = fmt.Errorf("sqlite: session: %w", controlplane.ErrNotFound)
			}
			return err
		}
		return nil
	})
}

// DeleteExpiredSessions removes the sessions past their end or idle.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, seenBefore time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired sessions", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR seen_at < ?`, filterTime(now), filterTime(seenBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
