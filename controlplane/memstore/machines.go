package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// RecordBeats applies heartbeat bookkeeping to existing, unreleased
// bindings, in order, each only if it is newer than the stored beat.
func (s *Store) RecordBeats(ctx context.Context, beats []controlplane.Beat) error {
	for _, b := range beats {
		if err := checkTimes(b.At, b.DueAt, b.LeaseIssuedAt, b.LeaseExpiresAt); err != nil {
			return err
		}
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, b := range beats {
		l, ok := s.licenses[b.LicenseID]
		if !ok {
			continue
		}
		i := slices.IndexFunc(l.Machines, func(m controlplane.Machine) bool { return m.Fingerprint == b.Fingerprint })
		if i < 0 {
			continue
		}
		m := &l.Machines[i]
		at := norm(b.At)
		if !m.ReleasedAt.IsZero() || !at.After(m.LastHeartbeatAt) {
			continue
		}
		m.LastHeartbeatAt = at
		m.DueAt = norm(b.DueAt)
		m.LeaseIssuedAt = norm(b.LeaseIssuedAt)
		m.LeaseExpiresAt = norm(b.LeaseExpiresAt)
		m.KeySlot, m.KeyDigest = b.KeySlot, b.KeyDigest
		m.Dead = false
	}
	return nil
}

// sortedMachines returns l's bindings in ascending fingerprint order.
func sortedMachines(l *controlplane.License) []controlplane.Machine {
	ms := slices.Clone(l.Machines)
	slices.SortFunc(ms, func(a, b controlplane.Machine) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	return ms
}

func validState(f controlplane.MachineFilter) error {
	if f.State == "" {
		return nil
	}
	switch f.State {
	case controlplane.MachineAlive, controlplane.MachineOverdue, controlplane.MachineDead:
	default:
		return fmt.Errorf("memstore: machine state %.20q: %w", f.State, controlplane.ErrInvalid)
	}
	if f.Now.IsZero() {
		return fmt.Errorf("memstore: machine state filter without a time: %w", controlplane.ErrInvalid)
	}
	return nil
}

// ListMachines returns one page of bindings in ascending (LicenseID,
// Fingerprint) order.
func (s *Store) ListMachines(ctx context.Context, f controlplane.MachineFilter) ([]controlplane.Machine, string, error) {
	if err := validState(f); err != nil {
		return nil, "", err
	}
	var afterLic, afterFP string
	if f.Cursor != "" {
		var err error
		if afterLic, afterFP, err = parseMachineCursor(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	if err := s.lock(ctx); err != nil {
		return nil, "", err
	}
	defer s.mu.Unlock()
	n := limit(f.Page)
	f.Now = norm(f.Now)
	ids := s.ids
	if f.Cursor != "" {
		i, _ := slices.BinarySearch(ids, afterLic)
		ids = ids[i:]
	}
	var out []controlplane.Machine
	for _, id := range ids {
		if f.LicenseID != "" && id != f.LicenseID {
			continue
		}
		l := s.licenses[id]
		if f.TenantID != "" && l.TenantID != f.TenantID {
			continue
		}
		for _, m := range sortedMachines(l) {
			if f.Cursor != "" && id == afterLic && m.Fingerprint <= afterFP {
				continue
			}
			if f.State != "" && controlplane.MachineState(m, f.Now) != f.State {
				continue
			}
			if len(out) == n {
				last := out[n-1]
				return out, machineCursor(last.LicenseID, last.Fingerprint), nil
			}
			out = append(out, copyMachine(m))
		}
	}
	return out, "", nil
}

// Sweep expires licences and marks machines dead at now, auditing each
// change once.
func (s *Store) Sweep(ctx context.Context, now time.Time, actor, requestID string) (controlplane.SweepResult, error) {
	if err := checkTimes(now); err != nil {
		return controlplane.SweepResult{}, err
	}
	if err := s.lock(ctx); err != nil {
		return controlplane.SweepResult{}, err
	}
	defer s.mu.Unlock()
	now = norm(now)
	var res controlplane.SweepResult
	var events []controlplane.Event
	for _, id := range s.ids {
		l := s.licenses[id]
		if (l.Status == controlplane.StatusActive || l.Status == controlplane.StatusSuspended) && l.ExpiresAt.Before(now) {
			events = append(events, controlplane.Event{
				Time: now, Actor: actor, Action: "license.sweep", Target: l.ID, TenantID: l.TenantID,
				RequestID: requestID, Details: map[string]string{"from": l.Status},
			})
			l.Status = controlplane.StatusExpired
			l.UpdatedAt = now
			res.Expired = append(res.Expired, l.ID)
		}
	}
	for _, id := range s.ids {
		l := s.licenses[id]
		var dead []string
		for i := range l.Machines {
			m := &l.Machines[i]
			if !m.Dead && m.LeaseExpiresAt.Before(now) {
				m.Dead = true
				dead = append(dead, m.Fingerprint)
			}
		}
		slices.Sort(dead)
		for _, fp := range dead {
			i := slices.IndexFunc(l.Machines, func(m controlplane.Machine) bool { return m.Fingerprint == fp })
			res.Dead = append(res.Dead, copyMachine(l.Machines[i]))
			events = append(events, controlplane.Event{
				Time: now, Actor: actor, Action: "machine.dead", Target: l.ID, TenantID: l.TenantID,
				RequestID: requestID, Details: map[string]string{"fingerprint": fp},
			})
		}
	}
	s.appendEvents(events)
	return res, nil
}
