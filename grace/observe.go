package grace

import (
	"errors"
	"time"
)

// Observe records that the wall clock reads now, and returns the state as
// this process now knows it, ready for [Policy.Check].
//
// It moves the high-water mark forward to the latest of: the mark in the
// file, now, and — when now and the previous observation both carry
// monotonic clock readings, as values from [time.Now] do — the previous
// mark plus the monotonic time elapsed since. So while a process runs, the
// mark follows real time even if the wall clock is stepped back bit by bit
// within the tolerance, and the steps add up to [ErrClockTampered]. Pass
// [time.Now] as it is: t.UTC(), t.Round(0) and friends strip the monotonic
// reading, and without it only the wall clock counts.
//
// If now is more than the tolerance below the mark, Observe sets the
// sticky ClockTampered flag and writes it at once. Otherwise it writes the
// mark only when it has moved [Options.WriteEvery] past the one on disk
// (and when the file is missing), so calling Observe on every request does
// not write the disk; call [Store.Flush] before exiting to keep the rest.
//
// Whatever the error, the returned State is safe to pass to [Policy.Check]:
// it never grants more grace than the truth. With a read error other than
// [ErrNoState] it is no lease, only the mark and the sticky facts this
// process has seen, and nothing is written (a damaged file is never
// repaired into time); with [ErrLeaseRejected] it lacks the lease;
// with a failed write ([ErrWrite], [ErrLocked]) it is what Observe
// computed, and the write is retried on the next call.
func (s *Store) Observe(now time.Time) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// What this process knows comes first, so a file that cannot be read
	// does not hide a step back of the clock.
	w := wall(now)
	hw := later(s.obsHW, w)
	if !s.obsAt.IsZero() {
		if el, ok := s.elapsed(s.obsAt, now); ok && el > 0 {
			hw = later(hw, s.obsHW.Add(el))
		}
	}
	tol := s.policy.tolerance()
	if w.Before(hw.Add(-tol)) {
		s.tampered = true
	}
	s.obsHW, s.obsAt, s.lastWall = hw, now, w

	st, missing, readErr := s.current()
	if readErr != nil && !missing && !errors.Is(readErr, ErrLeaseRejected) {
		return State{HighWater: s.obsHW, ClockTampered: s.tampered, Revoked: s.revoked, Charged: s.charged}, readErr
	}
	if s.obsAt.IsZero() {
		// Another process stored a newer lease with a lower mark (see
		// load): start again from it.
		hw, s.obsAt = w, now
	}
	if w.Before(st.HighWater.Add(-tol)) {
		s.tampered = true
	}
	s.obsHW = later(hw, st.HighWater)
	st.HighWater = s.obsHW
	st.ClockTampered = st.ClockTampered || s.tampered
	st.Revoked = st.Revoked || s.revoked
	st.Charged = max(st.Charged, s.charged)
	if !s.due(st, missing) {
		return st, readErr
	}
	if err := s.persist(); err != nil {
		if errors.Is(err, ErrWrite) || errors.Is(err, ErrLocked) {
			return st, err
		}
		return State{}, err // the file went bad since current()
	}
	st = s.known.clone()
	return st, s.knownErr
}

// Flush writes the high-water mark and clock-tampering flag this process
// has observed, if the file lags behind them, and marks the file as left
// by a clean stop. Call it before exiting: a start after a process that
// did not flush is charged twice [Options.WriteEvery] (see
// [State.Charged]).
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, missing, readErr := s.current()
	if readErr != nil && !missing && !errors.Is(readErr, ErrLeaseRejected) {
		return readErr
	}
	st.HighWater = later(st.HighWater, s.obsHW)
	st.ClockTampered = st.ClockTampered || s.tampered
	st.Revoked = st.Revoked || s.revoked
	st.Charged = max(st.Charged, s.charged)
	if !missing && !st.HighWater.After(s.persistedHW) && st.Charged <= s.persistedCharged &&
		st.ClockTampered == s.known.ClockTampered && st.Revoked == s.known.Revoked && !s.known.running {
		return nil
	}
	// This write says the process stopped cleanly: the next start charges
	// nothing. (Another instance's next write sets the marker again.)
	s.flushing = true
	defer func() { s.flushing = false }()
	return s.persist()
}

// current returns the known state if the file has not changed since it
// was read or written (one Lstat), and reads the file otherwise. If the
// file is missing it returns the sticky facts known so far, and missing.
// Callers hold mu.
func (s *Store) current() (st State, missing bool, err error) {
	if s.unchanged() {
		return s.known.clone(), false, s.knownErr
	}
	unlock, err := s.lock()
	if err != nil {
		return State{}, false, err
	}
	defer unlock()
	prev := s.known
	st, err = s.load()
	if errors.Is(err, ErrNoState) {
		return prev.carried(), true, err
	}
	return st, false, err
}

// due reports whether Observe must write st.
func (s *Store) due(st State, missing bool) bool {
	switch {
	case missing:
		return true
	case st.ClockTampered && !s.known.ClockTampered, st.Revoked && !s.known.Revoked:
		return true
	case st.Charged > s.persistedCharged:
		return true // a charge for an unclean stop must survive the next one
	case !st.HighWater.After(s.persistedHW):
		return false
	case s.writeEvery < 0:
		return true
	}
	return st.HighWater.Sub(s.persistedHW) >= s.writeEvery
}

// persist merges the observed mark and tampering into the file under the
// lock, re-reading it first so other processes' changes are kept.
// Callers hold mu.
func (s *Store) persist() error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadForUpdate()
	if err != nil {
		return err
	}
	return s.write(st, true)
}

// monotonicElapsed returns now − prev by the monotonic clock, if both
// carry a monotonic reading (t.Round(0) strips it, so it differs from t
// exactly when there is one).
func monotonicElapsed(prev, now time.Time) (time.Duration, bool) {
	if prev == prev.Round(0) || now == now.Round(0) {
		return 0, false
	}
	return now.Sub(prev), true
}
