//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly || illumos

package grace

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock(2) on name, creating it (mode 0600) if
// needed. flock locks belong to the open file description, so two Stores
// in one process exclude each other as two processes do; the kernel drops
// the lock when the holder dies, even by SIGKILL. The lock file is never
// removed: removing it would let two processes lock two different files.
func lockFile(name string, timeout time.Duration) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	err = pollLock(timeout, func() (bool, error) {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return false, nil
		case errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
			return true, err
		}
		return false, &os.PathError{Op: "flock", Path: name, Err: err}
	})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(fd, syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
