package grace

import (
	"errors"
	"fmt"
	"time"
)

// Load reads the state file afresh and reports what it says; [Store.Observe]
// reports what this process knows, which may be more. On success it returns the state, its
// lease re-verified through [Options.VerifyLease]. Otherwise it returns one
// of the read errors ([ErrNoState], [ErrCorrupt], [ErrVersion],
// [ErrWrongMachine], [ErrNotRegular], [ErrUnreadable]) with a State that
// holds nothing but the high-water mark, or [ErrLocked]; or
// [ErrLeaseRejected] with the state minus its lease. In every case the
// HighWater returned is at least the machine's mark as it was when the
// Store was opened (see the machine clock file in the package doc). In
// every case the returned State grants no more grace than the file's true
// content would: an unreadable file reads as "no lease", and since it may
// have hidden a sticky Revoked, the caller must go online — the control
// plane is the backstop.
func (s *Store) Load() (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock()
	if err != nil {
		return State{HighWater: s.openMark}, err
	}
	defer unlock()
	st, err := s.load()
	st = st.clone()
	if err != nil && !errors.Is(err, ErrLeaseRejected) {
		st = State{}
	}
	st.HighWater = later(st.HighWater, s.openMark)
	return st, err
}

// load reads and verifies the file. Callers hold mu and the file lock.
func (s *Store) load() (State, error) {
	s.knownFI, s.knownRaw, s.knownErr = nil, nil, nil
	first := !s.started // this process's first look at the file
	s.started = true
	b, fi, err := readStateFile(s.fs, s.path)
	if err != nil {
		return State{}, err
	}
	st, err := s.seal.decode(b)
	if err != nil {
		return State{}, err
	}
	s.persistedHW, s.persistedCharged = st.HighWater, st.Charged
	if first && st.running {
		// The last process to write the file did not stop cleanly: it may
		// have run past the mark it wrote. Assume the worst.
		st.Charged = min(st.Charged+s.crashCharge(), maxCharged*time.Second)
	}
	prev, hadPrev := s.known, s.knownValid
	if st.Lease != nil {
		l, verr := s.verifyLease(st.Lease.Token)
		if verr != nil {
			st.Lease, err = nil, fmt.Errorf("%w: %w", ErrLeaseRejected, verr)
		} else {
			l.ReceivedAt = st.Lease.ReceivedAt
			st.Lease = l
			st.HighWater = later(st.HighWater, l.ReceivedAt)
		}
	}
	s.known, s.knownErr, s.knownFI, s.knownRaw, s.knownValid = st, err, fi, b, true
	s.revoked = s.revoked || st.Revoked
	s.charged = max(s.charged, st.Charged)
	if hadPrev && st.Lease != nil && (prev.Lease == nil || st.Lease.IssuedAt.After(prev.Lease.IssuedAt)) {
		// Another process stored a newer lease: an answer from the control
		// plane, which may have cleared the sticky flags or lowered the
		// mark. An older file restored from a backup brings no newer lease,
		// so it cannot clear what this process has seen.
		s.tampered = s.tampered && st.ClockTampered
		s.revoked = st.Revoked
		s.charged = st.Charged
		if st.HighWater.Before(s.obsHW) {
			s.obsHW, s.obsAt = st.HighWater, time.Time{}
		}
	}
	return st.clone(), err
}

// verifyLease re-verifies token and checks it belongs to this licence.
func (s *Store) verifyLease(token string) (*Lease, error) {
	if token == "" {
		return nil, errors.New("empty lease token")
	}
	l, err := s.verify(token)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errors.New("VerifyLease returned no lease")
	}
	c := *l
	c.Token = token
	c.IssuedAt, c.ExpiresAt = wall(c.IssuedAt), wall(c.ExpiresAt)
	if c.LicenseID != s.licenseID {
		return nil, fmt.Errorf("lease is for licence %q, not %q", c.LicenseID, s.licenseID)
	}
	return &c, nil
}
