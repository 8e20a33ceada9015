//go:build windows

package grace

import (
	"os"

	"golang.org/x/sys/windows"
)

// Windows has no O_NOFOLLOW; readStateFile's Lstat-then-SameFile check
// catches a symlink or reparse point instead.
const openReadFlags = os.O_RDONLY

// rename replaces newpath with MoveFileEx(MOVEFILE_WRITE_THROUGH), which
// returns only once the move is on disk: Windows cannot fsync a directory.
func rename(oldpath, newpath string) error {
	from, err := windows.UTF16PtrFromString(oldpath)
	if err != nil {
		return err
	}
	to, err := windows.UTF16PtrFromString(newpath)
	if err != nil {
		return err
	}
	err = windows.MoveFileEx(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// syncDir is a no-op: rename already wrote through.
func syncDir(string) error { return nil }
