package grace

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"time"
)

// fileSystem is the seam through which a [Store] touches the disk. osFS is
// the real one; tests wrap it to inject faults.
type fileSystem interface {
	Lstat(name string) (fs.FileInfo, error)
	// OpenRead opens name for reading without following a final symlink
	// and without blocking on a FIFO, where the platform allows.
	OpenRead(name string) (readFile, error)
	// CreateTemp creates a new file, mode 0600, as [os.CreateTemp] does.
	CreateTemp(dir, pattern string) (writeFile, error)
	// Rename atomically replaces newpath with oldpath.
	Rename(oldpath, newpath string) error
	Remove(name string) error
	ReadDir(name string) ([]fs.DirEntry, error)
	// SyncDir makes a rename in dir durable.
	SyncDir(dir string) error
	MkdirAll(path string, perm fs.FileMode) error
	// Lock takes the exclusive inter-process lock held in the file name,
	// waiting at most timeout.
	Lock(name string, timeout time.Duration) (unlock func(), err error)
}

type readFile interface {
	io.Reader
	Stat() (fs.FileInfo, error)
	Close() error
}

type writeFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

// osFS is the real file system.
type osFS struct{}

func (osFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

func (osFS) OpenRead(name string) (readFile, error) {
	return os.OpenFile(name, openReadFlags, 0)
}

func (osFS) CreateTemp(dir, pattern string) (writeFile, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error              { return rename(oldpath, newpath) }
func (osFS) Remove(name string) error                          { return os.Remove(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)        { return os.ReadDir(name) }
func (osFS) SyncDir(dir string) error                          { return syncDir(dir) }
func (osFS) MkdirAll(path string, perm fs.FileMode) error      { return os.MkdirAll(path, perm) }

func (osFS) Lock(name string, timeout time.Duration) (func(), error) {
	return lockFile(name, timeout)
}

// lockSpins is how many attempts pollLock makes, yielding between them,
// before it starts to sleep.
const lockSpins = 20000

// pollLock calls try until it succeeds, fails with an error other than
// busy, or timeout passes, sleeping a little longer between attempts.
//
// The first attempts only yield the processor: the lock is held for a
// few file operations at a time, so it is usually free again at once.
// This matters inside a testing/synctest bubble too, where a sleep waits
// for fake time, which stands still while another goroutine waits on a
// mutex (not a durable block): the holder here may be that goroutine's
// way to its mutex, and both would wait for ever.
func pollLock(timeout time.Duration, try func() (busy bool, err error)) error {
	deadline := time.Now().Add(timeout)
	wait := 500 * time.Microsecond
	for spins := 0; ; spins++ {
		busy, err := try()
		if !busy {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (%s)", ErrLocked, timeout)
		}
		if spins < lockSpins {
			runtime.Gosched()
			continue
		}
		time.Sleep(wait)
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}

// writeAtomic replaces path with data: temp file in dir, write, fsync,
// close, rename, fsync dir. On any failure before the rename the temp file
// is removed and path is untouched. A failure of the final directory sync
// leaves the new data in place (readable, maybe not yet durable) and says so.
func writeAtomic(fsys fileSystem, dir, path, tmpPattern string, data []byte) (err error) {
	f, err := fsys.CreateTemp(dir, tmpPattern)
	if err != nil {
		return fmt.Errorf("%w: create temp file: %w", ErrWrite, err)
	}
	tmp, isOpen, renamed := f.Name(), true, false
	defer func() {
		if isOpen {
			_ = f.Close()
		}
		if !renamed {
			_ = fsys.Remove(tmp)
		}
	}()
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("%w: write: %w", ErrWrite, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: fsync: %w", ErrWrite, err)
	}
	isOpen = false
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: close: %w", ErrWrite, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w: rename: %w", ErrWrite, err)
	}
	renamed = true
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("%w: new state in place, but directory fsync failed: %w", ErrWrite, err)
	}
	return nil
}

// readStateFile reads path paranoidly: it must be a regular file (not a
// symlink, directory, FIFO or device) of at most MaxFileSize bytes, and the
// file opened must be the one examined.
func readStateFile(fsys fileSystem, path string) ([]byte, fs.FileInfo, error) {
	fi, err := fsys.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, ErrNoState
	case err != nil:
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	case !fi.Mode().IsRegular():
		return nil, nil, fmt.Errorf("%w: mode %s", ErrNotRegular, fi.Mode().Type())
	case fi.Size() > MaxFileSize:
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrCorrupt, fi.Size(), MaxFileSize)
	}
	f, err := fsys.OpenRead(path)
	if err != nil {
		// Replaced between Lstat and open?
		if fi2, err2 := fsys.Lstat(path); err2 == nil && !fi2.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("%w: mode %s", ErrNotRegular, fi2.Mode().Type())
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, ErrNoState
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer f.Close()
	ofi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if !ofi.Mode().IsRegular() || !os.SameFile(fi, ofi) {
		return nil, nil, fmt.Errorf("%w: replaced while opening", ErrNotRegular)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return b, ofi, nil
}
