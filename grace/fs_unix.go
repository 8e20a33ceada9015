//go:build unix

package grace

import (
	"errors"
	"os"
	"syscall"
)

// O_NOFOLLOW: a symlink planted at the state path is not followed.
// O_NONBLOCK: a FIFO planted there cannot block the reader.
const openReadFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// syncDir fsyncs a directory so that a rename in it survives a power cut.
// File systems that cannot sync a directory (EINVAL, ENOTSUP) are accepted.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
