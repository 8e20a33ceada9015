package grace

import "time"

// Lease statuses, as a lease's status claim carries them. Only [StatusActive] grants offline grace.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
)

// Lease is an already-verified lease (the control plane's signed grant) plus its raw token. Package
// grace never verifies a signature itself: a Lease comes from the caller's
// verifier, both when it is saved and, through [Options.VerifyLease], each
// time it is read back from disk. Only Token and ReceivedAt are stored;
// the other fields are what the verifier returns.
type Lease struct {
	Token       string    // the raw compact JWS, re-verified on load
	ID          string    // lease jti
	LicenseID   string    // lease sub (the licence's jti)
	Status      string    // "active", "suspended" or "revoked"
	Fingerprint string    // fpr
	IssuedAt    time.Time // iat: server time at issue
	ExpiresAt   time.Time // exp: end of the offline grace this lease allows
	// ReceivedAt is this machine's wall clock when the lease arrived. The
	// offline window is measured on the local clock from here: it ends at
	// ReceivedAt + (ExpiresAt − IssuedAt), or at ExpiresAt if that is
	// earlier. So a local clock that runs behind the control plane's (a
	// slow RTC) neither shortens nor lengthens the real window, and only
	// jumps of the clock matter — which the high-water mark catches. A
	// clock ahead of the control plane's shortens the window by as much:
	// the signed exp stays the hard cap, because ReceivedAt is stored
	// under a seal that root can recompute. A clock behind by more than
	// [Policy.MaxBehind] makes the lease grant nothing. Zero means unknown:
	// such a lease grants nothing either ([ErrNoLease]).
	ReceivedAt time.Time
}

// State is what the state file holds. Its zero value is "nothing known":
// no lease, no high-water mark, no sticky facts.
type State struct {
	// Lease is the newest verified lease, or nil for none.
	Lease *Lease
	// HighWater is the highest wall-clock time seen on this machine (at
	// least the lease's ReceivedAt). It only moves forward, except when a
	// newer lease is saved (see [Store.Save]).
	HighWater time.Time
	// Charged is time charged against the window on top of HighWater for
	// stops the file cannot account for: a process that was killed
	// rather than stopped (no [Store.Flush]) may have run up to twice
	// [Options.WriteEvery] past the mark it last wrote, and the next
	// [Store] to read the file adds that much. It counts towards the
	// effective now of [Policy.Check] but not towards clock tampering, so
	// restarts cost grace, never a lock. Like the mark it only grows,
	// until a newer lease is saved with it reset.
	Charged time.Duration
	// Revoked is sticky: once set, only saving a newer lease clears it.
	Revoked bool
	// Suspended records an unsigned "suspended" answer of the control plane
	// (HTTP 403 SUSPENDED), which no lease carries. Sticky like Revoked:
	// only saving a newer lease clears it.
	Suspended bool
	// ClockTampered is sticky: once set, only saving a newer lease (an
	// answer from the control plane) clears it.
	ClockTampered bool
	// Floor is server time (one-second resolution) at or before which no
	// lease counts any more: a lease is newly stored, and clears the
	// sticky facts, only if its IssuedAt is after the Floor already stored
	// and after the stored lease's IssuedAt (leases are ordered by their
	// signed iat; one of the same second is not newer).
	// The licence manager raises it when the control plane refuses (to the
	// newest lease it had held, and the answer's Date): so a lease issued
	// before a revocation, a suspension or a rebind, which another
	// instance of the product receives later, cannot undo that refusal or
	// bring a dropped lease back. It only moves forward. Zero means none.
	Floor time.Time
	// LastState is the last known state name of the licence manager, e.g. "active".
	LastState string
	// ActivationKey is the idempotency key of an activation, persisted before
	// the first request is sent.
	ActivationKey string
	// LicenseKey is a licence token the control plane delivered for this
	// licence (after a reset or renewal), which the licence manager
	// presents in place of the customer's key file. Opaque here: the
	// manager verifies it each time it reads it. "" for none.
	LicenseKey string
	// OfflineNonce is the nonce of the pending offline activation request
	// of this machine, and OfflineRequestedAt when it was written: only a
	// response carrying that nonce is imported. "" for none.
	OfflineNonce       string
	OfflineRequestedAt time.Time

	running bool // the file's marker: written by a process that has not stopped cleanly
}

// carried is what outlives the state file: the sticky facts and the
// Floor, which a Store keeps in memory so that a lost or deleted file
// cannot clear them.
func (st State) carried() State {
	return State{Revoked: st.Revoked, Suspended: st.Suspended, ClockTampered: st.ClockTampered, Floor: st.Floor, Charged: st.Charged}
}

// clone returns a copy of st that shares no memory with it, without the
// file's marker (which only the Store reads).
func (st State) clone() State {
	st.running = false
	if st.Lease != nil {
		l := *st.Lease
		st.Lease = &l
	}
	return st
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// wall strips t of its monotonic clock reading and location, so that
// comparisons use the wall clock (epoch time) only.
func wall(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}
