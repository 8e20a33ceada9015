package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

func copySession(s controlplane.Session) controlplane.Session {
	s.CreatedAt, s.SeenAt, s.ExpiresAt = norm(s.CreatedAt), norm(s.SeenAt), norm(s.ExpiresAt)
	return s
}

// CreateSession stores a new console session and the events.
func (s *Store) CreateSession(ctx context.Context, sess controlplane.Session, events ...controlplane.Event) error {
	if err := checkTimes(sess.CreatedAt, sess.SeenAt, sess.ExpiresAt); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess.ID]; ok {
		return fmt.Errorf("memstore: session: %w", controlplane.ErrAlreadyExists)
	}
	s.sessions[sess.ID] = copySession(sess)
	s.appendEvents(events)
	return nil
}

// GetSession returns a session by ID.
func (s *Store) GetSession(ctx context.Context, id string) (controlplane.Session, error) {
	if err := s.lock(ctx); err != nil {
		return controlplane.Session{}, err
	}
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return controlplane.Session{}, fmt.Errorf("memstore: session: %w", controlplane.ErrNotFound)
	}
	return copySession(sess), nil
}

// TouchSession moves the session's SeenAt forward to at.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	if err := checkTimes(at); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return fmt.Errorf("memstore: session: %w", controlplane.ErrNotFound)
	}
	if at = norm(at); at.After(sess.SeenAt) {
		sess.SeenAt = at
		s.sessions[id] = sess
	}
	return nil
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.sessions[id]; !ok {
		return fmt.Errorf("memstore: session: %w", controlplane.ErrNotFound)
	}
	delete(s.sessions, id)
	return nil
}

// DeleteExpiredSessions removes the sessions past their end or idle.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, seenBefore time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	now, seenBefore = norm(now), norm(seenBefore)
	n := 0
	for id, sess := range s.sessions {
		if !sess.ExpiresAt.After(now) || sess.SeenAt.Before(seenBefore) {
			delete(s.sessions, id)
			n++
		}
	}
	return n, nil
}
