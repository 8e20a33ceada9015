package grace

import "errors"

// Errors reading the state file. [Store.Load] returns the zero [State] with
// each of them except [ErrLeaseRejected]; all of them mean "no lease": the
// product has no offline grace and must reach the control plane. None of
// them is ever "repaired" into more time: [Store.Update] and [Store.Observe]
// refuse to write over a file that fails with any but [ErrNoState] and
// [ErrLeaseRejected], so only a [Store.Save] made with a fresh answer from
// the control plane replaces it.
var (
	// ErrNoState: the state file is missing or empty (first run, or deleted).
	ErrNoState = errors.New("grace: no state file")
	// ErrCorrupt: the state file is truncated, oversized, malformed, or its seal does not verify (edited or bit-flipped).
	ErrCorrupt = errors.New("grace: state file corrupt")
	// ErrVersion: the state file has a format version this build does not read (e.g. written by a newer release).
	ErrVersion = errors.New("grace: unsupported state file version")
	// ErrWrongMachine: the state file is sealed with another key: copied from another machine, app or licence.
	ErrWrongMachine = errors.New("grace: state file sealed for another machine")
	// ErrNotRegular: the state path is a symlink, directory, device or other non-regular file.
	ErrNotRegular = errors.New("grace: state file is not a regular file")
	// ErrUnreadable: the state file exists but reading it failed (permissions, I/O error); the OS error is wrapped too.
	ErrUnreadable = errors.New("grace: state file unreadable")
	// ErrLeaseRejected: the stored lease failed re-verification or names another licence; the rest of the state is intact and returned, its Lease is nil.
	ErrLeaseRejected = errors.New("grace: stored lease rejected")
)

// Errors writing the state file.
var (
	// ErrWrite: writing the state failed (disk full, I/O error, …); unless the error says otherwise, the previous state is intact.
	ErrWrite = errors.New("grace: writing state failed")
	// ErrLocked: the inter-process lock could not be taken: another process held it longer than [Options.LockTimeout], or the lock file could not be opened.
	ErrLocked = errors.New("grace: state lock not acquired")
	// ErrInvalidState: [Store.Save] or [Store.Update] refused the value: a lease that fails [Options.VerifyLease] or names another licence, or a state too large to store.
	ErrInvalidState = errors.New("grace: invalid state")
	// ErrInvalidOptions: [Open] was given incomplete [Options] or no state directory could be found or created.
	ErrInvalidOptions = errors.New("grace: invalid options")
)

// Verdicts of [Policy.Check]: the product may not run on its offline grace.
var (
	// ErrNoLease: there is no usable lease (none stored, dropped, or of a status this build does not know); go online.
	ErrNoLease = errors.New("grace: no lease")
	// ErrGraceExpired: now is past the grace deadline: offline for longer than the window.
	ErrGraceExpired = errors.New("grace: offline grace period expired")
	// ErrClockTampered: the wall clock went back more than the tolerance below the high-water mark, now or before (sticky).
	ErrClockTampered = errors.New("grace: system clock was set back")
	// ErrRevoked: the licence is revoked: the sticky flag is set or the lease says so.
	ErrRevoked = errors.New("grace: revoked")
	// ErrSuspended: the newest lease says the subscription is suspended.
	ErrSuspended = errors.New("grace: suspended")
)
