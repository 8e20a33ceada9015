package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/licensekit/licensekit/controlplane"
)

// bindMachines copies l's machines in, owned by l, and refuses a
// fingerprint listed twice.
func bindMachines(l *controlplane.License) error {
	seen := make(map[string]bool, len(l.Machines))
	for i := range l.Machines {
		m := &l.Machines[i]
		if seen[m.Fingerprint] {
			return fmt.Errorf("memstore: licence %.40q: fingerprint %.40q listed twice: %w",
				l.ID, m.Fingerprint, controlplane.ErrInvalid)
		}
		seen[m.Fingerprint] = true
		m.LicenseID, m.TenantID = l.ID, l.TenantID
	}
	return nil
}

// CreateLicense stores a new licence, its idempotency entry and events.
func (s *Store) CreateLicense(ctx context.Context, l controlplane.License, idem *controlplane.Idempotency, events ...controlplane.Event) error {
	if err := checkLicense(&l); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if idem != nil {
		if err := checkTimes(idem.CreatedAt); err != nil {
			return err
		}
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.licenses[l.ID]; ok {
		return fmt.Errorf("memstore: licence %.40q: %w", l.ID, controlplane.ErrAlreadyExists)
	}
	if idem != nil {
		if _, ok := s.idem[idemKey{idem.Actor, idem.Key}]; ok {
			return fmt.Errorf("memstore: idempotency key of %.40q: %w", idem.Actor, controlplane.ErrAlreadyExists)
		}
	}
	c := copyLicense(l)
	if err := bindMachines(&c); err != nil {
		return err
	}
	s.licenses[c.ID] = &c
	s.ids = insertSorted(s.ids, c.ID)
	if idem != nil {
		s.idem[idemKey{idem.Actor, idem.Key}] = copyIdempotency(*idem)
	}
	s.appendEvents(events)
	return nil
}

// GetLicense returns a copy of a licence with its machines.
func (s *Store) GetLicense(ctx context.Context, id string) (controlplane.License, error) {
	if err := s.lock(ctx); err != nil {
		return controlplane.License{}, err
	}
	defer s.mu.Unlock()
	l, ok := s.licenses[id]
	if !ok {
		return controlplane.License{}, fmt.Errorf("memstore: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	return copyLicense(*l), nil
}

func (f *licenseMatcher) match(l *controlplane.License) bool {
	return (f.TenantID == "" || l.TenantID == f.TenantID) &&
		(f.Status == "" || l.Status == f.Status) &&
		(f.Plan == "" || l.Plan == f.Plan) &&
		(f.ExpiresBefore.IsZero() || l.ExpiresAt.Before(f.ExpiresBefore)) &&
		strings.HasPrefix(l.ID, f.IDPrefix)
}

type licenseMatcher struct{ controlplane.LicenseFilter }

// ListLicenses returns one page of licences in ascending ID order.
func (s *Store) ListLicenses(ctx context.Context, f controlplane.LicenseFilter) ([]controlplane.License, string, error) {
	if err := s.lock(ctx); err != nil {
		return nil, "", err
	}
	defer s.mu.Unlock()
	n := limit(f.Page)
	start := 0
	if f.Cursor != "" {
		start, _ = slices.BinarySearch(s.ids, f.Cursor)
		if start < len(s.ids) && s.ids[start] == f.Cursor {
			start++
		}
	}
	f.ExpiresBefore = norm(f.ExpiresBefore)
	m := licenseMatcher{f}
	var out []controlplane.License
	for _, id := range s.ids[start:] {
		l := s.licenses[id]
		if !m.match(l) {
			continue
		}
		if len(out) == n {
			return out, out[n-1].ID, nil
		}
		out = append(out, copyLicense(*l))
	}
	return out, "", nil
}

// UpdateLicense applies fn to a copy of the licence and stores the result
// with fn's events. fn runs with the store's mutex held.
func (s *Store) UpdateLicense(ctx context.Context, id string, fn func(l *controlplane.License) ([]controlplane.Event, error)) (controlplane.License, error) {
	if err := s.lock(ctx); err != nil {
		return controlplane.License{}, err
	}
	defer s.mu.Unlock()
	stored, ok := s.licenses[id]
	if !ok {
		return controlplane.License{}, fmt.Errorf("memstore: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	work := copyLicense(*stored)
	events, err := fn(&work)
	if err != nil {
		return controlplane.License{}, err
	}
	c := copyLicense(work)
	c.ID = id
	if err := bindMachines(&c); err != nil {
		return controlplane.License{}, err
	}
	if err := checkLicense(&c); err != nil {
		return controlplane.License{}, err
	}
	if err := checkEvents(events); err != nil {
		return controlplane.License{}, err
	}
	s.licenses[id] = &c
	s.appendEvents(events)
	return copyLicense(c), nil
}

// LookupIdempotency returns the entry for (actor, key).
func (s *Store) LookupIdempotency(ctx context.Context, actor, key string) (controlplane.Idempotency, error) {
	if err := s.lock(ctx); err != nil {
		return controlplane.Idempotency{}, err
	}
	defer s.mu.Unlock()
	e, ok := s.idem[idemKey{actor, key}]
	if !ok {
		return controlplane.Idempotency{}, fmt.Errorf("memstore: idempotency key of %.40q: %w", actor, controlplane.ErrNotFound)
	}
	return copyIdempotency(e), nil
}
