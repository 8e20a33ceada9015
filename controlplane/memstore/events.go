package memstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/licensekit/licensekit/controlplane"
)

// AppendEvents stores audit events.
func (s *Store) AppendEvents(ctx context.Context, events ...controlplane.Event) error {
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.appendEvents(events)
	return nil
}

// ListEvents returns one page of audit events, newest first.
func (s *Store) ListEvents(ctx context.Context, f controlplane.EventFilter) ([]controlplane.Event, string, error) {
	var before int64
	if f.Cursor != "" {
		var err error
		if before, err = parseEventCursor(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	if err := s.lock(ctx); err != nil {
		return nil, "", err
	}
	defer s.mu.Unlock()
	n := limit(f.Page)
	f.Since = norm(f.Since)
	end := len(s.events)
	if before > 0 {
		end = sort.Search(len(s.events), func(i int) bool { return s.events[i].Seq >= before })
	}
	var out []controlplane.Event
	for i := end - 1; i >= 0; i-- {
		e := s.events[i]
		if (f.Action != "" && e.Action != f.Action) ||
			(f.Target != "" && e.Target != f.Target) ||
			(f.Actor != "" && e.Actor != f.Actor) ||
			(f.TenantID != "" && e.TenantID != f.TenantID) ||
			(!f.Since.IsZero() && e.Time.Before(f.Since)) {
			continue
		}
		if len(out) == n {
			return out, strconv.FormatInt(out[n-1].Seq, 10), nil
		}
		out = append(out, copyEvent(e))
	}
	return out, "", nil
}

// GetSettings returns the stored settings.
func (s *Store) GetSettings(ctx context.Context) (controlplane.Settings, error) {
	if err := s.lock(ctx); err != nil {
		return controlplane.Settings{}, err
	}
	defer s.mu.Unlock()
	if s.settings == nil {
		return controlplane.Settings{}, fmt.Errorf("memstore: settings: %w", controlplane.ErrNotFound)
	}
	return copySettings(*s.settings), nil
}

// PutSettings stores the settings and the events.
func (s *Store) PutSettings(ctx context.Context, st controlplane.Settings, events ...controlplane.Event) error {
	if err := checkTimes(st.UpdatedAt); err != nil {
		return err
	}
	if err := checkEvents(events); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	c := copySettings(st)
	s.settings = &c
	s.appendEvents(events)
	return nil
}
