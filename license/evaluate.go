package license

import (
	"errors"
	"time"

	"github.com/licensekit/licensekit/grace"
)

// evaluate recomputes the state from the licence, the grace state, the
// control plane's last answers and the clock, and publishes a new
// snapshot. It returns the published snapshot and whether the state
// changed. m.mu must be held.
func (m *Manager) evaluate() (*snapshot, bool) {
	now := m.now()
	state, reason := m.decide(now)
	st := Status{
		State:       state,
		License:     m.lic,
		Err:         reason,
		LastError:   m.lastErr,
		Online:      m.online(),
		LastContact: m.lastContact,
	}
	if l := m.st.Lease; l != nil && m.leaseRules() {
		st.LeaseID = l.ID
		st.GraceDeadline = m.window.Deadline
	}
	s := &snapshot{status: st, err: reason}
	if state.Allowed() {
		s.err = nil
	}
	prev := m.snap.Swap(s)
	changed := prev == nil || prev.status.State != state
	if changed && prev != nil {
		m.log.Info("licensekit: state changed", "from", prev.status.State.String(), "to", state.String(), "reason", errString(reason))
	}
	if changed && m.st.LastState != state.String() && m.store != nil {
		m.st.LastState = state.String()
		m.save()
	}
	return s, changed
}

// decide is the state machine of the package documentation. It also records a clock
// set back beyond tolerance as a sticky fact. m.mu must be held.
func (m *Manager) decide(now time.Time) (State, error) {
	if m.lic == nil {
		if errors.Is(m.licErr, ErrExpired) {
			return StateExpired, m.licErr
		}
		return StateUnlicensed, orUnlicensed(m.licErr)
	}
	if m.realTimeFloor(now).After(m.lic.ExpiresAt.Add(m.verifier().leeway)) {
		return StateExpired, fail(ErrExpired, "licence "+m.lic.ID+" expired at "+m.lic.ExpiresAt.Format(time.RFC3339))
	}
	if !m.leaseRules() {
		// Offline mode: the key alone decides, guarded by the clock's
		// high-water mark. With no control plane to clear it, a clock
		// lock lasts while the clock is behind, and no longer.
		if hw := m.st.HighWater; !hw.IsZero() && now.Before(hw.Add(-m.tolerance())) {
			return StateLocked, fail(ErrClockTampered, "clock reads "+now.UTC().Format(time.RFC3339)+
				", more than the tolerance below the high-water mark "+hw.UTC().Format(time.RFC3339))
		}
		return StateActive, nil
	}
	w, gerr := m.policy.Check(m.st, now)
	m.window = w
	if errors.Is(gerr, grace.ErrClockTampered) {
		if !m.st.ClockTampered {
			m.st.ClockTampered = true // sticky until the control plane answers
			m.save()
		}
		return StateLocked, wrapGrace(ErrClockTampered, gerr)
	}
	switch {
	case errors.Is(gerr, grace.ErrRevoked):
		return StateLocked, wrapGrace(ErrRevoked, gerr)
	case m.definitive != nil:
		return StateInactive, m.definitive
	case errors.Is(gerr, grace.ErrSuspended):
		return StateSuspended, wrapGrace(ErrSuspended, gerr)
	case errors.Is(gerr, grace.ErrNoLease):
		if m.cfg.ActivationOptional {
			return StateActive, nil
		}
		if !m.online() {
			msg := "licence " + m.lic.ID + " is not activated on this machine: import an offline activation response"
			if m.importErr != nil {
				msg += " (" + m.cfg.OfflineResponse + ": " + m.importErr.Error() + ")"
			}
			return StateInactive, fail(ErrNotActivated, msg)
		}
		return StateInactive, fail(ErrNotActivated, "licence "+m.lic.ID+" is not activated on this machine")
	case errors.Is(gerr, grace.ErrGraceExpired):
		if l := m.st.Lease; l != nil && l.ReceivedAt.After(l.ExpiresAt) {
			// Expired on arrival: the local clock is ahead of the control
			// plane's by more than the lease's length.
			return StateLocked, fail(ErrClockTampered, "the local clock ("+l.ReceivedAt.UTC().Format(time.RFC3339)+
				" when the lease arrived) is ahead of the control plane's by more than the lease's length; correct the clock")
		}
		return StateLocked, wrapGrace(ErrGraceExpired, gerr)
	case gerr != nil:
		return StateLocked, wrapGrace(ErrGraceExpired, gerr)
	}
	if m.unreachable {
		return StateGrace, nil
	}
	return StateActive, nil
}

// nextWake returns how long the watchdog may sleep before the state could
// change by the passage of time alone. m.mu must be held.
func (m *Manager) nextWake(now time.Time) time.Duration {
	wait := clockTick
	// Wake just after t, judged against the same reading of the clock as
	// the check it ends: use is still allowed at t itself.
	consider := func(t, from time.Time) {
		if d := t.Sub(from) + time.Nanosecond; !t.IsZero() && d > 0 && d < wait {
			wait = d
		}
	}
	if m.lic != nil {
		consider(m.lic.ExpiresAt.Add(m.verifier().leeway), m.realTimeFloor(now))
	}
	if m.leaseRules() && m.st.Lease != nil {
		// grace.Policy.Check counts from the later of the clock and its
		// high-water mark plus the charged time.
		consider(m.window.Deadline, m.localFloor(now))
	}
	return wait
}

// realTimeFloor is the latest of the local clock, its high-water mark
// (plus what unclean stops were charged), and what the newest lease says
// of real time: its iat is signed server time, and the local clock has run
// for at least (mark − ReceivedAt) since it arrived. So neither a
// tolerated step back of the clock nor a clock set back and then vouched
// for by the control plane (which restarts the mark) can stretch the
// licence's own exp. m.mu must be held.
func (m *Manager) realTimeFloor(now time.Time) time.Time {
	return later(m.localFloor(now), m.signedTimeFloor(now))
}

// localFloor is the later of now and the high-water mark plus the time
// charged for unclean stops: the effective now of grace.Policy.Check.
// m.mu must be held.
func (m *Manager) localFloor(now time.Time) time.Time {
	if hw := m.st.HighWater; !hw.IsZero() {
		return later(now, hw.Add(m.st.Charged))
	}
	return now
}

// signedTimeFloor is what signed leases alone say of real time: the
// newest iat this process has held, or the current lease's iat plus the
// local time elapsed since it arrived if that is later. Zero when no lease
// was ever held. m.mu must be held.
func (m *Manager) signedTimeFloor(now time.Time) time.Time {
	floor := m.newestLease
	eff := m.localFloor(now)
	if l := m.st.Lease; l != nil && !l.ReceivedAt.IsZero() && !eff.Before(l.ReceivedAt) {
		floor = later(floor, l.IssuedAt.Add(eff.Sub(l.ReceivedAt)))
	}
	return floor
}

// maxBehind is how far behind the control plane's clock the local clock
// may be when a lease arrives, as grace.Policy applies it.
func (m *Manager) maxBehind() time.Duration {
	switch t := m.policy.MaxBehind; {
	case t == 0:
		return grace.DefaultMaxBehind
	case t < 0:
		return 0
	default:
		return t
	}
}

// tolerance is the effective clock tolerance, as grace.Policy applies it.
func (m *Manager) tolerance() time.Duration {
	switch t := m.cfg.ClockTolerance; {
	case t == 0:
		return grace.DefaultTolerance
	case t < 0:
		return 0
	default:
		return t
	}
}

func orUnlicensed(err error) error {
	if err == nil {
		return ErrUnlicensed
	}
	return err
}

// wrapGrace turns a grace verdict into this package's sentinel, keeping
// grace's detail.
func wrapGrace(sentinel *Error, gerr error) error {
	return fail(sentinel, gerr.Error())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
