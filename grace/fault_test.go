package grace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultFS is osFS with one fault armed: the nth call (1-based) of op fails
// in the given way. Every op is counted, so a test can first count the
// calls of a clean run and then fail each of them in turn. Its fsyncs only
// count and fail: these tests are about what the code does with errors,
// and real fsyncs would make them slow for nothing.
//
// Calls on the machine clock file (between taking and releasing its lock,
// or reading it) are neither counted nor failed, unless clock is set:
// then only they are. Its writes are best effort, tested on their own.
type faultFS struct {
	osFS
	calls   map[string]int
	op      string // "create", "write", "sync", "close", "rename", "syncdir", "lock", "open", "read"
	nth     int
	mode    string // "error", "short", "full"
	err     error
	clock   bool // fault the clock file's calls rather than the state file's
	inClock bool // within the clock file's lock
}

func (f *faultFS) hit(op string) bool {
	if f.inClock != f.clock {
		return false
	}
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	return op == f.op && f.calls[op] == f.nth
}

func isClockPath(name string) bool { return strings.HasPrefix(filepath.Base(name), "clock-") }

func (f *faultFS) CreateTemp(dir, pattern string) (writeFile, error) {
	if f.hit("create") {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: f.err}
	}
	w, err := f.osFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: w.(*os.File), fs: f}, nil
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if f.hit("rename") {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: f.err}
	}
	return f.osFS.Rename(oldpath, newpath)
}

func (f *faultFS) SyncDir(string) error {
	if f.hit("syncdir") {
		return f.err
	}
	return nil
}

func (f *faultFS) Lock(name string, timeout time.Duration) (func(), error) {
	if isClockPath(name) {
		f.inClock = true
	}
	if f.hit("lock") {
		f.inClock = false
		return nil, f.err
	}
	unlock, err := f.osFS.Lock(name, timeout)
	if err != nil {
		f.inClock = false
		return nil, err
	}
	if !isClockPath(name) {
		return unlock, nil
	}
	return func() { unlock(); f.inClock = false }, nil
}

func (f *faultFS) OpenRead(name string) (readFile, error) {
	was := f.inClock
	f.inClock = f.inClock || isClockPath(name)
	defer func() { f.inClock = was }()
	if f.hit("open") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: f.err}
	}
	r, err := f.osFS.OpenRead(name)
	if err != nil {
		return nil, err
	}
	return &faultReader{File: r.(*os.File), fs: f, clock: isClockPath(name)}, nil
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (w *faultFile) Write(b []byte) (int, error) {
	if !w.fs.hit("write") {
		return w.File.Write(b)
	}
	switch w.fs.mode {
	case "short": // part written, no error: a broken writer
		return w.File.Write(b[:len(b)/2])
	case "full": // part written, then the disk is full
		n, _ := w.File.Write(b[:len(b)/3])
		return n, w.fs.err
	}
	return 0, w.fs.err
}

func (w *faultFile) Sync() error {
	if w.fs.hit("sync") {
		return w.fs.err
	}
	return nil
}

func (w *faultFile) Close() error {
	err := w.File.Close()
	if w.fs.hit("close") {
		return w.fs.err
	}
	return err
}

type faultReader struct {
	*os.File
	fs    *faultFS
	clock bool
}

func (r *faultReader) Read(b []byte) (int, error) {
	was := r.fs.inClock
	r.fs.inClock = r.fs.inClock || r.clock
	defer func() { r.fs.inClock = was }()
	if r.fs.hit("read") {
		return 0, r.fs.err
	}
	return r.File.Read(b)
}

func leaseAt(id string, iat time.Time) *Lease {
	return FakeLease(Lease{ID: id, LicenseID: "lic_1", Status: StatusActive, IssuedAt: iat, ExpiresAt: iat.Add(14 * 24 * time.Hour)})
}

// Every write-path operation of Save, Update, Observe and Flush, failed in
// every way: the error is surfaced (ErrWrite or ErrLocked, wrapping the
// cause), the old state reads back intact (or, when only the final
// directory fsync failed, the complete new state), no temp file is left,
// and the store works again once the fault is gone.
func TestFaultInjectionWrites(t *testing.T) {
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	oldState := State{Lease: leaseAt("lea_old", t1), HighWater: t1.Add(time.Hour), LastState: "active"}

	type operation struct {
		name string
		run  func(s *Store) error
		want func(t *testing.T, got State) // the new state, for faults after the rename
	}
	newLease := leaseAt("lea_new", t1.Add(2*time.Hour))
	operations := []operation{
		{"Save", func(s *Store) error { return s.Save(State{Lease: newLease, LastState: "new"}) },
			func(t *testing.T, got State) { assert.Equal(t, "lea_new", got.Lease.ID) }},
		{"Update", func(s *Store) error {
			return s.Update(func(st *State) error { st.Revoked, st.LastState = true, "new"; return nil })
		}, func(t *testing.T, got State) { assert.True(t, got.Revoked) }},
		{"Observe", func(s *Store) error { _, err := s.Observe(t1.Add(24 * time.Hour)); return err },
			func(t *testing.T, got State) { assert.Equal(t, t1.Add(24*time.Hour), got.HighWater) }},
		{"Observe tampered", func(s *Store) error {
			st, err := s.Observe(t1.Add(-24 * time.Hour))
			if !st.ClockTampered && st.Lease != nil {
				return errors.New("tampering lost from the returned state")
			}
			return err
		}, func(t *testing.T, got State) { assert.True(t, got.ClockTampered) }},
		{"Flush", func(s *Store) error {
			s.obsHW = t1.Add(3 * time.Hour) // as if observed, not yet written
			return s.Flush()
		}, func(t *testing.T, got State) { assert.Equal(t, t1.Add(3*time.Hour), got.HighWater) }},
	}
	type fault struct {
		mode string
		err  error
	}
	faults := []fault{{"error", syscall.EIO}, {"full", syscall.ENOSPC}, {"short", nil}}
	writeOps := []string{"create", "write", "sync", "close", "rename", "syncdir", "lock"}

	cases, perOp := 0, map[string]int{}
	for _, op := range operations {
		for _, fop := range writeOps {
			for _, f := range faults {
				if f.mode != "error" && fop != "write" {
					continue // short and disk-full writes only make sense for write
				}
				if f.err == nil && f.mode == "error" {
					continue
				}
				name := fmt.Sprintf("%s/%s/%s", op.name, fop, f.mode)
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					good, err := open(internalOptions(dir), &faultFS{})
					require.NoError(t, err)
					require.NoError(t, good.Save(oldState))

					// Count this operation's calls on a clean run, then
					// fail each one in turn (a lock is taken once to read
					// and once to write by some operations).
					probeDir := t.TempDir()
					seed, err := open(internalOptions(probeDir), &faultFS{})
					require.NoError(t, err)
					require.NoError(t, seed.Save(oldState))
					probe := &faultFS{}
					ps, err := open(internalOptions(probeDir), probe) // fresh, as s below
					require.NoError(t, err)
					probe.calls = nil
					require.NoError(t, op.run(ps))
					n := probe.calls[fop]
					if n == 0 {
						t.Skipf("%s does not %s", op.name, fop)
					}
					oldBytes, err := os.ReadFile(good.Path())
					require.NoError(t, err)
					for nth := 1; nth <= n; nth++ {
						// Back to the old file (Save would keep the newer mark).
						require.NoError(t, os.Remove(good.Path()))
						require.NoError(t, os.WriteFile(good.Path(), oldBytes, 0o600))
						ffs := &faultFS{mode: f.mode, err: f.err}
						s, err := open(internalOptions(dir), ffs)
						require.NoError(t, err)
						ffs.op, ffs.nth, ffs.calls = fop, nth, nil // arm after Open
						err = op.run(s)
						cases++
						perOp[op.name+"/"+fop]++
						require.Error(t, err, "fault %d of %d must surface", nth, n)
						switch {
						case fop == "lock":
							assert.ErrorIs(t, err, ErrLocked)
						default:
							assert.ErrorIs(t, err, ErrWrite)
						}
						if f.err != nil {
							assert.ErrorIs(t, err, f.err)
						}

						got, lerr := good.Load()
						require.NoError(t, lerr, "the file must stay readable")
						if fop == "syncdir" {
							op.want(t, got) // renamed into place: the complete new state
						} else {
							assert.Equal(t, oldState, got, "old state intact")
						}
						entries, err := os.ReadDir(dir)
						require.NoError(t, err)
						for _, e := range entries {
							assert.False(t, strings.Contains(e.Name(), ".tmp-"), "temp file left: %s", e.Name())
						}

						// The fault is gone: the same store writes again.
						ffs.op = ""
						require.NoError(t, op.run(s))
						got, err = good.Load()
						require.NoError(t, err)
						op.want(t, got)
					}
				})
			}
		}
	}
	t.Logf("%d write-fault cases injected: %v", cases, perOp)
}

// Faults while reading: no lease and an error, never a guess; only the
// machine's clock mark, which grants nothing, stays.
func TestFaultInjectionReads(t *testing.T) {
	dir := t.TempDir()
	good, err := open(internalOptions(dir), osFS{})
	require.NoError(t, err)
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, good.Save(State{Lease: leaseAt("lea_1", t1), Revoked: true}))
	for _, tt := range []struct {
		op   string
		want error
	}{{"open", ErrUnreadable}, {"read", ErrUnreadable}, {"lock", ErrLocked}} {
		t.Run(tt.op, func(t *testing.T) {
			ffs := &faultFS{mode: "error", err: syscall.EIO}
			s, err := open(internalOptions(dir), ffs)
			require.NoError(t, err)
			ffs.op, ffs.nth, ffs.calls = tt.op, 1, nil
			st, err := s.Load()
			assert.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, syscall.EIO)
			assert.Equal(t, State{HighWater: t1}, st, "no lease, only the machine's mark")
			st, err = s.Load()
			require.NoError(t, err)
			assert.True(t, st.Revoked)
		})
	}
}

// The directory of a failed lock file: Open reports it.
func TestOpenLockFailure(t *testing.T) {
	_, err := open(internalOptions(t.TempDir()), &faultFS{op: "lock", nth: 1, mode: "error", err: syscall.EACCES})
	assert.ErrorIs(t, err, ErrLocked)
	assert.ErrorIs(t, err, syscall.EACCES)
}

// A lock held by someone else times out with ErrLocked.
func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	o := internalOptions(dir)
	o.LockTimeout = 50 * time.Millisecond
	s, err := open(o, osFS{})
	require.NoError(t, err)
	unlock, err := lockFile(filepath.Join(dir, fileName(o.AppID, o.LicenseID)+".lock"), time.Second)
	require.NoError(t, err)
	defer unlock()
	_, err = s.Load()
	assert.ErrorIs(t, err, ErrLocked)
	assert.ErrorIs(t, s.Save(State{}), ErrLocked)
}
