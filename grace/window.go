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

// DefaultMaxBehind is how far the local clock may be behind the control
// plane's when a lease arrives (its iat minus its receipt time) and the
// lease still count: enough for a clock left on another time zone's
// local time (at most eleven hours behind UTC where people live) and
// drift, not enough for a clock set back to bank days.
const DefaultMaxBehind = 12 * time.Hour

// Policy judges a [State] at a point in time. Its zero value is the default:
// one hour of clock tolerance, grace exactly as long as the lease allows.
// Policy is a plain value; [Policy.Check] is a pure function.
type Policy struct {
	// Tolerance is how far the clock may be below the high-water mark
	// before it counts as set back. Zero means [DefaultTolerance]; a
	// negative value means no tolerance at all.
	Tolerance time.Duration
	// MaxGrace, when positive, ends grace that long after the lease was
	// received if that comes before the lease's exp. It can only shorten the
	// window the signed lease allows, never extend it. Zero means the
	// lease's exp alone; a negative value allows no offline grace at all.
	MaxGrace time.Duration
	// MaxBehind is how far the local clock may have been behind the
	// lease's iat when the lease arrived. A lease received on a clock
	// further behind grants nothing ([ErrClockTampered]) until a lease
	// arrives on a corrected clock, as one received on a clock ahead by
	// more than its length does. Zero means [DefaultMaxBehind]; a
	// negative value allows none.
	MaxBehind time.Duration
}

// maxBehind returns the effective MaxBehind.
func (p Policy) maxBehind() time.Duration {
	switch {
	case p.MaxBehind == 0:
		return DefaultMaxBehind
	case p.MaxBehind < 0:
		return 0
	}
	return p.MaxBehind
}

// Window is the offline grace a [State] allows at a point in time.
type Window struct {
	// Deadline is the last instant at which use is allowed: the earliest
	// of the lease's exp, ReceivedAt + (exp − iat), and ReceivedAt +
	// MaxGrace.
	Deadline time.Time
	// Remaining is Deadline minus the effective now (never negative). The
	// effective now is the later of now and the high-water mark plus
	// [State.Charged], so a tolerated step back of the clock never adds
	// time, and neither does a process killed before it wrote the mark.
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
//   - [ErrNoLease] if st.Lease is nil, its status is unknown, or it has no
//     receipt time (a lease whose arrival on this clock is unknown grants
//     nothing);
//   - [ErrSuspended] if the lease says "suspended";
//   - [ErrClockTampered] if the lease arrived on a clock more than
//     MaxBehind behind its iat;
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
	if l.ReceivedAt.IsZero() {
		// Without its receipt time the window would fall back on exp read
		// off a clock that may have been set back before the lease came.
		return Window{}, fmt.Errorf("%w: lease has no receipt time", ErrNoLease)
	}
	start := wall(l.ReceivedAt)
	if behind := wall(l.IssuedAt).Sub(start); behind > p.maxBehind() {
		return Window{}, fmt.Errorf("%w: the clock was %s behind the control plane's when the lease arrived; correct the clock",
			ErrClockTampered, behind.Round(time.Second))
	}
	// The lease's length, measured on the local clock from receipt, and
	// never past its signed exp.
	deadline := wall(l.ExpiresAt)
	if d := start.Add(wall(l.ExpiresAt).Sub(wall(l.IssuedAt))); d.Before(deadline) {
		deadline = d
	}
	if p.MaxGrace != 0 {
		if d := start.Add(p.MaxGrace); d.Before(deadline) {
			deadline = d
		}
	}
	eff := later(now, hw.Add(st.Charged))
	w := Window{Deadline: deadline}
	if eff.After(deadline) {
		return w, fmt.Errorf("%w: deadline was %s", ErrGraceExpired, deadline.Format(time.RFC3339))
	}
	w.Remaining = deadline.Sub(eff)
	return w, nil
}
