package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/licensekit/licensekit/controlplane"
)

// Store is an in-memory [controlplane.Store]. The zero value is not ready;
// use [New]. It is safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	closed bool

	licenses map[string]*controlplane.License // stored copies, machines included
	ids      []string                         // licence ids, ascending
	idem     map[idemKey]controlplane.Idempotency
	settings *controlplane.Settings
	signing  []controlplane.SigningKey // in creation order
	apiKeys  map[string]controlplane.APIKey
	keyIDs   []string             // API key ids, ascending
	events   []controlplane.Event // ascending Seq
	seq      int64
	sessions map[string]controlplane.Session
}

type idemKey struct{ actor, key string }

var _ controlplane.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		licenses: make(map[string]*controlplane.License),
		idem:     make(map[idemKey]controlplane.Idempotency),
		apiKeys:  make(map[string]controlplane.APIKey),
		sessions: make(map[string]controlplane.Session),
	}
}

// lock takes the mutex and reports whether the store can answer; on an
// error the mutex is not held.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %w: %w", controlplane.ErrUnavailable, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("memstore: closed: %w", controlplane.ErrUnavailable)
	}
	return nil
}

// appendEvents assigns Seq and stores copies; the mutex is held.
func (s *Store) appendEvents(events []controlplane.Event) {
	for _, e := range events {
		s.seq++
		e = copyEvent(e)
		e.Seq = s.seq
		s.events = append(s.events, e)
	}
}

// insertSorted adds id to an ascending slice.
func insertSorted(ids []string, id string) []string {
	i, _ := slices.BinarySearch(ids, id)
	return slices.Insert(ids, i, id)
}

// Ping reports whether the store answers: it does until Close.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Close drops the store's state; every later call but Close returns
// [controlplane.ErrUnavailable].
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.licenses, s.ids, s.idem, s.settings = nil, nil, nil, nil
	s.signing, s.apiKeys, s.keyIDs, s.events = nil, nil, nil, nil
	s.sessions = nil
	return nil
}
