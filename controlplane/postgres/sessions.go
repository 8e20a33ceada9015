package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

const sessionCols = `id, key_id, secret_tag, csrf, created_at, seen_at, expires_at`

func sessionNotFound(id string) error {
	return fmt.Errorf("postgres: session %.12q…: %w", id, controlplane.ErrNotFound)
}

// CreateSession stores a new session and its events in one round trip;
// the primary key decides a clash of ids.
func (s *Store) CreateSession(ctx context.Context, ss controlplane.Session, events ...controlplane.Event) error {
	var e enc
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.str(ss.ID), e.str(ss.KeyID), e.str(ss.SecretTag), e.str(ss.CSRF),
		e.time(ss.CreatedAt), e.time(ss.SeenAt), e.time(ss.ExpiresAt))
	queueEvents(&e, b, events)
	if e.err != nil {
		return e.err
	}
	return s.batch(ctx, "create session", b, nil)
}

// GetSession returns a session by ID.
func (s *Store) GetSession(ctx context.Context, id string) (controlplane.Session, error) {
	if err := s.check(ctx); err != nil {
		return controlplane.Session{}, err
	}
	if !storable(id) {
		return controlplane.Session{}, sessionNotFound(id)
	}
	var ss controlplane.Session
	b := &pgx.Batch{}
	b.Queue(`SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id)
	err := s.batch(ctx, "get session", b, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&ss.ID, &ss.KeyID, &ss.SecretTag, &ss.CSRF, &ss.CreatedAt, &ss.SeenAt, &ss.ExpiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return sessionNotFound(id)
		}
		return err
	})
	if err != nil {
		return controlplane.Session{}, err
	}
	utc(&ss.CreatedAt, &ss.SeenAt, &ss.ExpiresAt)
	return ss, nil
}

// TouchSession moves SeenAt forward, never back.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	var e enc
	when := e.time(at)
	if e.err != nil {
		return e.err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if !storable(id) {
		return sessionNotFound(id)
	}
	var found bool
	b := &pgx.Batch{}
	// One statement that both finds the row and moves it only forward:
	// the row is returned whether or not seen_at changed.
	b.Queue(`UPDATE sessions SET seen_at = GREATEST(seen_at, $2) WHERE id = $1 RETURNING true`, id, when)
	err := s.batch(ctx, "touch session", b, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return sessionNotFound(id)
		}
		return err
	})
	return err
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if !storable(id) {
		return sessionNotFound(id)
	}
	var n int64
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM sessions WHERE id = $1`, id)
	err := s.batch(ctx, "delete session", b, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return sessionNotFound(id)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions past either limit.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, seenBefore time.Time) (int, error) {
	var e enc
	n1, s1 := e.time(now), e.time(seenBefore)
	if e.err != nil {
		return 0, e.err
	}
	var n int64
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM sessions WHERE expires_at <= $1 OR seen_at < $2`, n1, s1)
	err := s.batch(ctx, "delete expired sessions", b, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
