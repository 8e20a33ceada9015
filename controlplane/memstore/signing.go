package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// CreateSigningKey stores a new, pending signing key.
func (s *Store) CreateSigningKey(ctx context.Context, k controlplane.SigningKey, events ...controlplane.Event) error {
	if k.State == "" {
		k.State = controlplane.SigningPending
	}
	if k.State != controlplane.SigningPending {
		return fmt.Errorf("memstore: signing key %.40q created %.20q, not pending: %w", k.KID, k.State, controlplane.ErrInvalid)
	}
	if err := checkTimes(k.CreatedAt, k.ActivatedAt, k.RetiredAt); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.signingIndex(k.KID) >= 0 {
		return fmt.Errorf("memstore: signing key %.40q: %w", k.KID, controlplane.ErrAlreadyExists)
	}
	s.signing = append(s.signing, copySigningKey(k))
	s.appendEvents(events)
	return nil
}

func (s *Store) signingIndex(kid string) int {
	return slices.IndexFunc(s.signing, func(k controlplane.SigningKey) bool { return k.KID == kid })
}

// ListSigningKeys returns every signing key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]controlplane.SigningKey, len(s.signing))
	for i, k := range s.signing {
		out[i] = copySigningKey(k)
	}
	slices.SortStableFunc(out, func(a, b controlplane.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// ActivateSigningKey makes kid the one active key.
func (s *Store) ActivateSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	return s.activate(ctx, kid, now, false, events)
}

// ActivateFirstSigningKey makes kid the active key while none is.
func (s *Store) ActivateFirstSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	return s.activate(ctx, kid, now, true, events)
}

func (s *Store) activate(ctx context.Context, kid string, now time.Time, first bool, events []controlplane.Event) error {
	if err := checkTimes(now); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	i := s.signingIndex(kid)
	if i < 0 {
		return fmt.Errorf("memstore: signing key %.40q: %w", kid, controlplane.ErrNotFound)
	}
	if first && slices.ContainsFunc(s.signing, func(k controlplane.SigningKey) bool { return k.State == controlplane.SigningActive }) {
		return fmt.Errorf("memstore: a signing key is active already: %w", controlplane.ErrConflict)
	}
	switch s.signing[i].State {
	case controlplane.SigningRetired:
		return fmt.Errorf("memstore: signing key %.40q is retired: %w", kid, controlplane.ErrConflict)
	case controlplane.SigningActive:
		s.appendEvents(events)
		return nil
	}
	for j := range s.signing {
		if s.signing[j].State == controlplane.SigningActive {
			s.signing[j].State = controlplane.SigningInactive
		}
	}
	s.signing[i].State = controlplane.SigningActive
	s.signing[i].ActivatedAt = norm(now)
	s.appendEvents(events)
	return nil
}

// RetireSigningKey retires kid, which must not be the active key.
func (s *Store) RetireSigningKey(ctx context.Context, kid string, now time.Time, events ...controlplane.Event) error {
	if err := checkTimes(now); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	i := s.signingIndex(kid)
	if i < 0 {
		return fmt.Errorf("memstore: signing key %.40q: %w", kid, controlplane.ErrNotFound)
	}
	switch s.signing[i].State {
	case controlplane.SigningActive:
		return fmt.Errorf("memstore: signing key %.40q is active: %w", kid, controlplane.ErrConflict)
	case controlplane.SigningRetired:
		return fmt.Errorf("memstore: signing key %.40q is retired already: %w", kid, controlplane.ErrConflict)
	}
	s.signing[i].State = controlplane.SigningRetired
	s.signing[i].RetiredAt = norm(now)
	s.appendEvents(events)
	return nil
}
