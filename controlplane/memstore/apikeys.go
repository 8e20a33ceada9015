package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// CreateAPIKey stores a new API key; its name is unique in its tenant.
func (s *Store) CreateAPIKey(ctx context.Context, k controlplane.APIKey, events ...controlplane.Event) error {
	if err := checkTimes(k.CreatedAt, k.ExpiresAt, k.RevokedAt); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.apiKeys[k.ID]; ok {
		return fmt.Errorf("memstore: API key %.40q: %w", k.ID, controlplane.ErrAlreadyExists)
	}
	for _, o := range s.apiKeys {
		if o.TenantID == k.TenantID && o.Name == k.Name {
			return fmt.Errorf("memstore: API key name %.40q: %w", k.Name, controlplane.ErrAlreadyExists)
		}
	}
	s.apiKeys[k.ID] = copyAPIKey(k)
	s.keyIDs = insertSorted(s.keyIDs, k.ID)
	s.appendEvents(events)
	return nil
}

// GetAPIKey returns a key by ID.
func (s *Store) GetAPIKey(ctx context.Context, id string) (controlplane.APIKey, error) {
	if err := s.lock(ctx); err != nil {
		return controlplane.APIKey{}, err
	}
	defer s.mu.Unlock()
	k, ok := s.apiKeys[id]
	if !ok {
		return controlplane.APIKey{}, fmt.Errorf("memstore: API key %.40q: %w", id, controlplane.ErrNotFound)
	}
	return copyAPIKey(k), nil
}

// ListAPIKeys returns one page of a tenant's keys in ascending ID order.
func (s *Store) ListAPIKeys(ctx context.Context, f controlplane.APIKeyFilter) ([]controlplane.APIKey, string, error) {
	if err := s.lock(ctx); err != nil {
		return nil, "", err
	}
	defer s.mu.Unlock()
	n := limit(f.Page)
	start := 0
	if f.Cursor != "" {
		start, _ = slices.BinarySearch(s.keyIDs, f.Cursor)
		if start < len(s.keyIDs) && s.keyIDs[start] == f.Cursor {
			start++
		}
	}
	var out []controlplane.APIKey
	for _, id := range s.keyIDs[start:] {
		k := s.apiKeys[id]
		if f.TenantID != controlplane.AllTenants && k.TenantID != f.TenantID {
			continue
		}
		if len(out) == n {
			return out, out[n-1].ID, nil
		}
		out = append(out, copyAPIKey(k))
	}
	return out, "", nil
}

// RevokeAPIKey sets the key's RevokedAt.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time, events ...controlplane.Event) error {
	if err := checkTimes(at); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	k, ok := s.apiKeys[id]
	if !ok {
		return fmt.Errorf("memstore: API key %.40q: %w", id, controlplane.ErrNotFound)
	}
	if !k.RevokedAt.IsZero() {
		return fmt.Errorf("memstore: API key %.40q is revoked already: %w", id, controlplane.ErrConflict)
	}
	k.RevokedAt = norm(at)
	s.apiKeys[id] = k
	s.appendEvents(events)
	return nil
}
