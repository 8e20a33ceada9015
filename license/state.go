package license

import "time"

// State is where a licence stands on this machine.
type State uint8

// The states of a [Manager]. Only [StateActive] and [StateGrace] allow use.
const (
	// StateUnlicensed: no valid licence key.
	StateUnlicensed State = iota
	// StateInactive: a valid key, but this machine must activate it first
	// (online mode), or the control plane bound it to another machine.
	StateInactive
	// StateActive: a valid key; online, a recent activation or heartbeat succeeded.
	StateActive
	// StateGrace: online mode, the control plane is unreachable, and the
	// newest lease has not yet expired.
	StateGrace
	// StateSuspended: the control plane says the subscription is invalid;
	// restoring it reactivates.
	StateSuspended
	// StateLocked: revoked, the lease ran out offline, or the clock was set
	// back; sticky across restarts until the control plane clears it.
	StateLocked
	// StateExpired: past the licence's exp.
	StateExpired
)

var stateNames = [...]string{"unlicensed", "inactive", "active", "grace", "suspended", "locked", "expired"}

// String returns the state's stable name, e.g. "grace".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Allowed reports whether the state allows the product to be used.
func (s State) Allowed() bool { return s == StateActive || s == StateGrace }

// Status is a snapshot of a [Manager]'s view of the licence. It is a value:
// later changes do not alter a Status already returned.
type Status struct {
	// State is the licence's state.
	State State
	// License is the verified licence, or nil when there is none.
	License *License
	// Err says why use is not allowed; it wraps one of the package's
	// sentinels (ErrExpired, ErrRevoked, ErrGraceExpired, …). Nil while
	// State allows use.
	Err error
	// LastError is the last failure to reach the control plane (network
	// errors, timeouts, 5xx), kept for diagnostics; such failures never
	// change State by themselves. Nil after a successful contact.
	LastError error
	// Online is true when the manager has a control plane.
	Online bool
	// LastContact is when the control plane last answered; zero if never
	// during this process.
	LastContact time.Time
	// GraceDeadline is the last instant the current lease allows use
	// without reaching the control plane; zero without a lease.
	GraceDeadline time.Time
	// LeaseID is the jti of the current lease, or "".
	LeaseID string
}

// GraceLeft returns how much offline grace is left at now; zero when
// there is none (offline mode has no grace window: see GraceDeadline).
func (s Status) GraceLeft(now time.Time) time.Duration {
	if s.GraceDeadline.IsZero() || now.After(s.GraceDeadline) {
		return 0
	}
	return s.GraceDeadline.Sub(now)
}
