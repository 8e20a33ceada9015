//go:build !unix && !windows

package grace

import "os"

const openReadFlags = os.O_RDONLY

func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func syncDir(string) error { return nil }
