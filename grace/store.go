package grace

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults for [Options].
const (
	DefaultWriteEvery  = 5 * time.Minute
	DefaultLockTimeout = 10 * time.Second
)

// Options configures [Open]. AppID, LicenseID, SealKey and VerifyLease are
// required; every other zero field means the documented default.
type Options struct {
	// Dir is the state directory, created with mode 0700 if missing.
	// "" means "licensekit/grace" under [os.UserConfigDir].
	Dir string
	// AppID names the product. With LicenseID it names the file (hashed:
	// neither is ever used as a path) and, with SealKey, keys its seal.
	AppID string
	// LicenseID is the licence's jti. A stored lease whose LicenseID
	// (its sub) differs is rejected.
	LicenseID string
	// SealKey is the machine's stable keyed identity (fingerprint's machine
	// hash). A file sealed under another SealKey reads as [ErrWrongMachine].
	SealKey string
	// VerifyLease re-verifies a stored lease token on every read and before
	// every write: signature, type, issuer and machine binding, but not time
	// (expiry is the window's business, see [Policy.Check]). A lease that
	// fails is dropped and reported as [ErrLeaseRejected]. It is called
	// with the store's locks held and must not call its methods.
	VerifyLease func(token string) (*Lease, error)
	// Policy is the grace policy; [Store.Observe] uses its Tolerance, and
	// [Store.Policy] hands it back for [Policy.Check].
	Policy Policy
	// WriteEvery is how far the high-water mark must move before
	// [Store.Observe] writes it to disk. Zero means [DefaultWriteEvery];
	// negative means on every advance. Call Observe at least this often:
	// a process killed without [Store.Flush] is charged twice WriteEvery
	// (the mark it had not written yet, and the time to its next Observe;
	// see [State.Charged]).
	WriteEvery time.Duration
	// LockTimeout bounds the wait for the inter-process lock.
	// Zero means [DefaultLockTimeout].
	LockTimeout time.Duration
}

// Store is the grace state of one product and licence on one machine: a
// sealed file, its lock file, and what this process last knew of them.
// A Store is safe for concurrent use by several goroutines; several
// processes sharing a file are serialised by its lock file. A Store holds
// no open files or goroutines between calls, so it needs no Close.
type Store struct {
	fs          fileSystem
	dir         string
	path        string
	lockPath    string
	tmpPrefix   string
	seal        *sealer
	clock       clockFile // the machine's mark for this product (clock.go)
	openMark    time.Time // the machine's mark when the Store was opened
	verify      func(string) (*Lease, error)
	licenseID   string
	policy      Policy
	writeEvery  time.Duration
	lockTimeout time.Duration
	elapsed     func(prev, now time.Time) (time.Duration, bool) // monotonicElapsed; a seam for tests

	mu               sync.Mutex
	known            State         // last state read or written (Lease verified)
	knownErr         error         // nil, or the ErrLeaseRejected that came with known
	knownFI          fs.FileInfo   // the file known came from; nil when not cached
	knownRaw         []byte        // that file's bytes
	knownValid       bool          // known came from a file once (it may have gone since)
	persistedHW      time.Time     // high-water mark in the file
	persistedCharged time.Duration // State.Charged in the file
	obsHW            time.Time     // high-water mark at the last Observe
	obsAt            time.Time     // now passed to the last Observe, monotonic reading kept
	lastWall         time.Time     // the wall clock as the last Observe read it (never reset)
	tampered         bool          // clock tampering seen by this process, not yet cleared by a newer lease
	revoked          bool          // revocation seen by this process, likewise
	charged          time.Duration // State.Charged as this process knows it, likewise
	started          bool          // the first read of the file happened (and charged an unclean stop)
	flushing         bool          // the write under way is Flush's: it clears the file's marker
}

// crashCharge is what a start after an unclean stop adds to State.Charged.
func (s *Store) crashCharge() time.Duration {
	if s.writeEvery < 0 {
		return DefaultWriteEvery // written on every advance: only the time to the next Observe
	}
	return 2 * s.writeEvery
}

// Open validates opts, creates the state directory if needed, and removes
// temp files left behind by writers that died mid-write. It does not read
// the state file.
func Open(opts Options) (*Store, error) { return open(opts, osFS{}) }

func open(opts Options, fsys fileSystem) (*Store, error) {
	switch {
	case opts.AppID == "":
		return nil, fmt.Errorf("%w: AppID is empty", ErrInvalidOptions)
	case opts.LicenseID == "":
		return nil, fmt.Errorf("%w: LicenseID is empty", ErrInvalidOptions)
	case opts.SealKey == "":
		return nil, fmt.Errorf("%w: SealKey is empty", ErrInvalidOptions)
	case opts.VerifyLease == nil:
		return nil, fmt.Errorf("%w: VerifyLease is nil", ErrInvalidOptions)
	}
	dir := opts.Dir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("%w: no state directory: %w", ErrInvalidOptions, err)
		}
		dir = filepath.Join(base, "licensekit", "grace")
	}
	dir = filepath.Clean(dir)
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: state directory: %w", ErrInvalidOptions, err)
	}
	name := fileName(opts.AppID, opts.LicenseID)
	s := &Store{
		fs:          fsys,
		dir:         dir,
		path:        filepath.Join(dir, name+".state"),
		lockPath:    filepath.Join(dir, name+".lock"),
		tmpPrefix:   name + ".tmp-",
		seal:        newSealer(opts.AppID, opts.LicenseID, opts.SealKey),
		clock:       newClockFile(dir, opts.AppID, opts.SealKey),
		verify:      opts.VerifyLease,
		licenseID:   opts.LicenseID,
		policy:      opts.Policy,
		writeEvery:  opts.WriteEvery,
		lockTimeout: opts.LockTimeout,
		elapsed:     monotonicElapsed,
	}
	if s.writeEvery == 0 {
		s.writeEvery = DefaultWriteEvery
	}
	if s.lockTimeout <= 0 {
		s.lockTimeout = DefaultLockTimeout
	}
	if err := s.sweep(); err != nil {
		return nil, err
	}
	// What this process knows of the clock starts at the machine's mark.
	s.openMark = s.readMark()
	s.obsHW = s.openMark
	return s, nil
}

// fileName derives the file's base name from app and licence id: a hash,
// so that neither can steer the path.
func fileName(app, license string) string {
	h := sha256.New()
	for _, s := range []string{"licensekit/grace/v1 name", app, license} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return "grace-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Path returns the state file's path, for diagnostics.
func (s *Store) Path() string { return s.path }

// Policy returns the policy the store was opened with, for [Policy.Check].
func (s *Store) Policy() Policy { return s.policy }

// sweep removes this file's temp files. It holds the lock, so no live
// writer can be between creating and renaming one.
func (s *Store) sweep() error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	entries, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("grace: sweeping temp files: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), s.tmpPrefix) {
			_ = s.fs.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
	// The clock file's temp files, under its lock (taken second, as
	// always): best effort, like every write of that file.
	if unlockClock, err := s.fs.Lock(s.clock.lockPath, s.lockTimeout); err == nil {
		defer unlockClock()
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), s.clock.tmpPrefix) {
				_ = s.fs.Remove(filepath.Join(s.dir, e.Name()))
			}
		}
	}
	return nil
}

func (s *Store) lock() (func(), error) {
	unlock, err := s.fs.Lock(s.lockPath, s.lockTimeout)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrLocked, err)
	}
	return unlock, nil
}
