package grace

import (
	"fmt"
	"time"
)

// DefaultTolerance is how far the wall clock may go back below the
// high-water mark before [ErrClockTampered]: enough for NTP steps, DST
// mistakes and a hand-set clock, not enough to matter against a two-week
// window.
const DefaultTolerance = time.Hour

// Policy judges a [State] at a point in time. Its zero value is the default:
// one hour of clock tolerance, grace exactly as long as the lease allows.
// Policy is a plain value; [Policy.Check] is a pure function.
type Policy struct {
	// Tolerance is how far the clock may be below the high-water mark
	// before it counts as set back. Zero means [DefaultTolerance]; a
	// negative value means no tolerance at all.
	Tolerance time.Duration
	// MaxGrace, when positive, ends grace that long after the lease was
	// issued if that comes before the lease's exp. It can only shorten the
	// window the signed lease allows, never extend it. Zero means the
	// lease's exp alone; a negative value allows no offline grace at all.
	MaxGrace time.Duration
}

// Window is the offline grace a [State] allows at a point in time.
type Window struct {
	// Deadline is the last instant at which use is allowed: the earliest
	// of the lease's exp, ReceivedAt + (exp − iat), and the window's start
	// (ReceivedAt, or IssuedAt when unknown) + MaxGrace.
	Deadline time.Time
	// Remaining is Deadline minus the effective now (never negative). The
	// effective now is the later of now and the high-water mark, so a
	// tolerated step back of the clock never adds time.
	Remaining time.Duration
}

// tolerance returns the effective tolerance.
func (p Policy) tolerance() time.Duration {
	switch {
	case p.Tolerance == 0:
		return DefaultTolerance
	case p.Tolerance < 0:
		return 0
	}
	return p.Tolerance
}

// Check reports whether st allows running offline at now, and for how long.
// It is pure: it reads nothing but its arguments, and all comparisons are
// between instants (epoch time), so time zones and daylight saving do not
// matter. In order, it returns:
//
//   - [ErrRevoked] if st.Revoked is set or the lease says "revoked";
//   - [ErrClockTampered] if st.ClockTampered is set, or if now is more than
//     the tolerance before the high-water mark (st.HighWater, or the lease's
//     ReceivedAt if later);
//   - [ErrSuspended] if st.Suspended is set;
//   - [ErrNoLease] if st.Lease is nil or its status is unknown;
//   - [ErrSuspended] if the lease says "suspended";
//   - [ErrGraceExpired] if now is after the deadline (at the deadline
//     itself use is still allowed), with the Window still filled in;
//   - nil and the Window otherwise.
func (p Policy) Check(st State, now time.Time) (Window, error) {
	now = wall(now)
	l := st.Lease
	if st.Revoked || (l != nil && l.Status == StatusRevoked) {
		return Window{}, ErrRevoked
	}
	hw := wall(st.HighWater)
	if l != nil {
		hw = later(hw, wall(l.ReceivedAt))
	}
	if st.ClockTampered {
		return Window{}, ErrClockTampered
	}
	if !hw.IsZero() && now.Before(hw.Add(-p.tolerance())) {
		return Window{}, fmt.Errorf("%w: clock reads %s, %s below the high-water mark",
			ErrClockTampered, now.Format(time.RFC3339), hw.Sub(now).Round(time.Second))
	}
	if st.Suspended {
		return Window{}, ErrSuspended
	}
	if l == nil {
		return Window{}, ErrNoLease
	}
	switch l.Status {
	case StatusActive:
	case StatusSuspended:
		return Window{}, ErrSuspended
	default:
		return Window{}, fmt.Errorf("%w: lease status %q not understood", ErrNoLease, l.Status)
	}
	deadline, start := wall(l.ExpiresAt), wall(l.IssuedAt)
	if !l.ReceivedAt.IsZero() {
		// The lease's length, measured on the local clock from receipt.
		start = wall(l.ReceivedAt)
		if d := start.Add(wall(l.ExpiresAt).Sub(wall(l.IssuedAt))); d.Before(deadline) {
			deadline = d
		}
	}
	if p.MaxGrace != 0 {
		if d := start.Add(p.MaxGrace); d.Before(deadline) {
			deadline = d
		}
	}
	eff := later(now, hw)
	w := Window{Deadline: deadline}
	if eff.After(deadline) {
		return w, fmt.Errorf("%w: deadline was %s", ErrGraceExpired, deadline.Format(time.RFC3339))
	}
	w.Remaining = deadline.Sub(eff)
	return w, nil
}
