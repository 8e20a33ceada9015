//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly || illumos || windows)

package grace

import (
	"os"
	"time"
)

// lockFile on platforms without flock(2) or LockFileEx (solaris, aix,
// plan9, wasm) only creates the lock file: writers sharing a [Store] are
// still serialised by its mutex, but two processes are not. Every write
// stays atomic; what is lost is read-modify-write across processes.
func lockFile(name string, _ time.Duration) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}
