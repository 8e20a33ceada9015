package grace

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Save replaces the state file with st, atomically and under the lock. It
// is how an answer from the control plane becomes the new truth. The lease
// is re-verified, and its verified fields are stored in place of the
// caller's.
//
// Unless st carries a fresh answer — a lease issued in a later second
// (by IssuedAt) than the one stored and than the stored [State.Floor] —
// Save keeps what is already known: the high-water mark and
// [State.Charged] are not lowered; Revoked, Suspended and ClockTampered
// are not cleared; and the lease is not replaced (a lease of the same
// second as the stored one, or older, or at or before the Floor, is not
// stored: the stored one, or none, stays). With a fresh
// answer it writes st as given, except that the mark is raised to the
// lease's ReceivedAt; that is how a mark pushed into the future by a
// mis-set clock is brought back once the control plane has answered. The
// Floor never moves back in either case. Server time (IssuedAt) is never
// taken for local time: the window is measured on the local clock from
// ReceivedAt (see [Lease]).
//
// On failure the previous file is intact unless the error says otherwise.
func (s *Store) Save(st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	_, _ = s.load() // what is stored, to keep it; an unreadable file is replaced
	return s.write(st, false)
}

// Update runs a read-modify-write under the lock, so that processes
// sharing the file do not lose each other's changes. fn sees the current
// state, with the high-water mark this process has observed merged in;
// if the file is missing, it sees the zero State plus the sticky facts
// and high-water mark this Store already knew. If fn returns an error,
// nothing is written; otherwise what fn leaves is written as [Store.Save]
// writes it. If the file cannot be read for any other reason than
// [ErrNoState] or [ErrLeaseRejected], Update returns that error without
// calling fn: a damaged file is never silently repaired; write the
// control plane's answer with [Store.Save] instead. fn runs under the
// store's locks and must not call its methods.
func (s *Store) Update(fn func(*State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadForUpdate()
	if err != nil {
		return err
	}
	if err := fn(&st); err != nil {
		return err
	}
	return s.write(st, false)
}

// loadForUpdate loads the state to modify. Callers hold mu and the lock.
func (s *Store) loadForUpdate() (State, error) {
	prev := s.known
	st, err := s.load()
	switch {
	case errors.Is(err, ErrNoState):
		st = prev.carried()
	case err != nil && !errors.Is(err, ErrLeaseRejected):
		return State{}, err
	}
	st.HighWater = later(st.HighWater, s.obsHW)
	st.ClockTampered = st.ClockTampered || s.tampered
	st.Revoked = st.Revoked || s.revoked
	st.Charged = max(st.Charged, s.charged)
	return st, nil
}

// write verifies, seals and atomically writes st. Callers hold mu and the
// lock. observed says the write comes from Observe, which keeps its
// monotonic anchor; any other write merges in what is known (see Save)
// and re-anchors the observations on what was written.
func (s *Store) write(st State, observed bool) error {
	st = st.clone()
	st.HighWater = wall(st.HighWater)
	st.Floor = wall(st.Floor)
	if st.Lease != nil {
		l, err := s.verifyLease(st.Lease.Token)
		if err != nil {
			return fmt.Errorf("%w: lease: %w", ErrInvalidState, err)
		}
		l.ReceivedAt = wall(st.Lease.ReceivedAt)
		st.Lease = l
	}
	fresh := false // st stores a newer lease: an answer of the control plane
	if !observed {
		cur := s.known // just loaded, or the last state known if the file is unreadable
		// A lease issued at or before the stored Floor predates a refusal
		// of the control plane: it is stale, whatever it says.
		// Leases are ordered by their signed iat alone: one is newer only
		// if issued in a later second than the stored one and than the
		// Floor. Another lease of the same second (two beats answered at
		// once) is not: the order within a second is unknown, and taking
		// either would let a recorded twin undo what the other brought.
		stale := st.Lease != nil && !st.Lease.IssuedAt.After(cur.Floor)
		newer := st.Lease != nil && !stale && (cur.Lease == nil || st.Lease.IssuedAt.After(cur.Lease.IssuedAt))
		fresh = newer
		if !newer {
			if st.Lease != nil && (cur.Lease == nil || cur.Lease.ID != st.Lease.ID) {
				// A lease that is not newer never replaces the stored one,
				// and a stale one is never stored anew (a lease dropped
				// after a rebind does not come back from another
				// instance's memory). Dropping the lease, st.Lease == nil,
				// stays possible: that follows a definitive answer.
				st.Lease = cur.Lease
			}
			st.HighWater = later(st.HighWater, later(cur.HighWater, s.obsHW))
			st.Charged = max(st.Charged, cur.Charged, s.charged)
			st.Revoked = st.Revoked || cur.Revoked || s.revoked
			st.Suspended = st.Suspended || cur.Suspended
			st.ClockTampered = st.ClockTampered || cur.ClockTampered || s.tampered
		}
		st.Floor = later(st.Floor, cur.Floor)
	}
	if st.Lease != nil {
		st.HighWater = later(st.HighWater, st.Lease.ReceivedAt)
	}
	st.Charged = min(max(st.Charged, 0), maxCharged*time.Second)
	st.running = !s.flushing
	b, err := s.seal.encode(st)
	if err != nil {
		return err
	}
	if s.knownFI == nil || !bytes.Equal(b, s.knownRaw) || !s.unchanged() {
		if err := writeAtomic(s.fs, s.dir, s.path, s.tmpPrefix+"*", b); err != nil {
			s.knownFI = nil // the file may be the new one; read it next time
			return err
		}
	}
	fi, err := s.fs.Lstat(s.path)
	if err != nil {
		fi = nil
	}
	s.known, s.knownErr, s.knownFI, s.knownRaw, s.knownValid = st, nil, fi, b, true
	s.persistedHW, s.persistedCharged = st.HighWater, st.Charged
	s.started = true // a file this process wrote is not a crash to charge
	if fresh {
		// An answer of the control plane vouches for the clock: the
		// machine's mark is re-anchored as this licence's is, on the local
		// clock, but never below the lease's signed iat less
		// Policy.MaxBehind (a clock further behind gets no grace from the
		// lease anyway), so clocks set back before answers cannot walk
		// the mark down.
		s.raiseMark(later(st.HighWater, st.Lease.IssuedAt.Add(-s.policy.maxBehind())), true)
	} else if !s.lastWall.IsZero() {
		// Any other write raises it at most to the clock as last read: a
		// mark this process carries from a clock once set ahead (and
		// since corrected, which leaves its own licence locked) does not
		// lock the product's other licences, nor undo their answers.
		hw := st.HighWater
		if hw.After(s.lastWall) {
			hw = s.lastWall
		}
		s.raiseMark(hw, false)
	}
	if !observed {
		s.obsHW, s.obsAt = st.HighWater, time.Time{}
		s.tampered, s.revoked, s.charged = st.ClockTampered, st.Revoked, st.Charged
	}
	return nil
}

// unchanged reports whether the file is still the one known came from.
func (s *Store) unchanged() bool {
	if s.knownFI == nil {
		return false
	}
	fi, err := s.fs.Lstat(s.path)
	return err == nil && sameFile(fi, s.knownFI)
}

func sameFile(a, b fs.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
