// Package grace keeps a licensed product's offline grace state — the
// newest signed lease from the control plane, the wall clock's high-water
// mark, the sticky facts (revoked, suspended, clock tampered) and the
// floor below which no lease counts after a refusal — in one small sealed
// file per product and licence, and judges from it how long the product
// may go on without reaching the control plane.
//
// The promise: an appliance keeps working through a network outage for as
// long as its newest lease allows (by default two weeks after the last
// successful heartbeat), and stops after that, whatever its owner does to
// its disk or its clock — within the honest limits listed below.
//
// # Pieces
//
// [Policy.Check] is a pure function: given a [State] and a time value it
// returns the [Window] (deadline, time remaining) or why there is none
// ([ErrNoLease], [ErrGraceExpired], [ErrClockTampered], [ErrRevoked],
// [ErrSuspended]). The deadline is the lease's exp, or its length counted
// on the local clock from receipt if that is earlier, shortened (never
// lengthened) by [Policy.MaxGrace]. A lease without a receipt time, or
// received on a clock more than [Policy.MaxBehind] behind its iat, grants
// nothing. Time zones play no part: only instants are compared, never
// monotonic readings.
//
// A [Store] owns the file: [Store.Load] reads it paranoidly, [Store.Save]
// and [Store.Update] write it atomically under an inter-process lock, and
// [Store.Observe] moves the high-water mark forward, writing it once it has
// moved [Options.WriteEvery] (five minutes), and records a clock set back
// as a sticky fact. A lease replaces the stored one only if issued in a
// later second (by its signed iat) than it and than the [State.Floor]. A
// file left by a process that did not [Store.Flush] charges the next start
// for the time it may not have recorded ([State.Charged]).
// Package grace verifies no signatures: the lease is verified by package
// license, which owns the keys, and re-verified on every read through the
// [Options.VerifyLease] function it is given.
//
// # The file
//
// A binary envelope (magic, version, key id, length) around a JSON
// payload, sealed with HMAC-SHA256 under a key derived from the app id,
// the licence id and the machine's keyed fingerprint; at most
// [MaxFileSize], mode 0600, in a directory of mode 0700. Writes go to a
// temp file in the same directory, which is fsynced, closed and renamed
// over the old file before the directory is fsynced; a failure at any step
// leaves the previous file intact, and [Open] sweeps the temp files a
// killed writer leaves behind. Processes sharing the file are serialised
// by flock(2) on a lock file (LockFileEx on Windows). A file that is
// missing, empty, truncated, altered, oversized, of another version,
// sealed for another machine, or not a regular file reads as "no lease"
// with its own sentinel error, and is never rewritten into more time.
//
// # What an attacker with root can and cannot do
//
// The time limit lives in the lease's signature, not in the file. The
// seal's key is derived from values any program on the machine can
// compute (the app id is in the binary; the fingerprint is computed from
// the machine), so the seal is a tamper-evident envelope that catches bit
// rot, casual edits and files copied between machines — not a secret.
// Someone with root (or the product's own user) therefore:
//
//   - cannot extend a lease: a forged or edited file still holds only
//     leases the control plane signed, re-verified on every read;
//   - cannot move a file to another machine: it is sealed for this one,
//     and the lease inside names this machine's fingerprint;
//   - cannot gain time by deleting or damaging the file: that reads as no
//     lease, and the product must go online (but see offline mode below);
//   - cannot set the clock back more than the tolerance (default one hour)
//     below the high-water mark without the sticky ClockTampered flag,
//     nor step it back bit by bit while the product runs: the mark follows
//     the monotonic clock, so the steps add up; nor gain by killing the
//     product before it writes the mark, since the next start is charged;
//   - cannot bank grace on a clock set back before a heartbeat: a lease
//     received more than twelve hours behind its iat grants nothing, and
//     one whose receipt time was erased is no lease;
//   - can restore an older copy of the file: it holds an older lease, so it
//     gives no time beyond that lease's exp, but it erases facts learnt
//     since — a Revoked flag, a ClockTampered flag, a later high-water mark.
//     A running Store keeps and writes back what it has seen; after a
//     restart the copy is all there is;
//   - can replay a window indefinitely by restoring the file (or reverting
//     a whole VM snapshot) and setting the clock back together, again and
//     again, or by running the product under a faked clock from the start.
//     Offline, nothing in this package can tell; only a trusted time source
//     could, and the control plane notices the silence;
//   - can patch the binary to skip the check: out of scope for any
//     client-side scheme.
//
// # The machine clock file
//
// Beside the state files, one more sealed file per product and machine,
// clock-<hash of the app id>.state, keeps the latest wall-clock time any
// licence of the product has seen on the machine. A Store folds it into
// its own high-water mark when it opens, so a licence new to the machine,
// or one whose own file was deleted or damaged, starts from the machine's
// mark rather than from nothing. Every state write raises it, but to no
// later time than the wall clock read at the Store's last Observe, so a
// mark carried from a clock once set ahead, and read back since, does not
// spread to the product's other licences. A newly stored lease
// re-anchors it to its receipt on the local clock, but never below its
// signed iat less [Policy.MaxBehind]: a mark a mis-set clock pushed into
// the future comes back, and clocks set back before answers cannot walk
// it down. It uses the state file's envelope and seal, with a licence id
// no licence has; one that cannot be read counts as no mark, and a
// failure to write it never fails the state write.
//
// A process that stops while the clock is still set ahead leaves that
// time in the file. Online, the next answer of the control plane brings
// it back; in offline mode the product's licences lock until real time
// passes it, as the licence in use alone did before, and removing the
// state directory is the way out.
//
// A product in offline mode (no control plane, the licence's own exp is
// the limit) uses the files only for the high-water mark. Deleting a
// licence's file keeps the machine's mark, and so does using another
// licence, even one never used here: an expired licence does not run with
// the clock set back. Deleting both files looks like a first run and
// forgets the mark, so there, wiping the state directory and setting the
// clock back does revive an expired licence. Offline mode cannot do
// better: nothing on the machine can tell a wiped disk from a new one.
//
// The control plane is the backstop: whatever the file says, the product
// must go online when it cannot read it, and an answer from the control
// plane (revoked, suspended, a new lease) replaces what the file said.
// docs/security-model.md tells the whole story.
package grace
