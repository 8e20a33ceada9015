//go:build linux || darwin || freebsd

package grace_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// A FIFO planted at the state path must neither block the reader nor be read.
func TestLoadFIFO(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, syscall.Mkfifo(s.Path(), 0o600))
	done := make(chan struct{})
	var (
		st  grace.State
		err error
	)
	go func() {
		defer close(done)
		st, err = s.Load()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Unblock the reader so the goroutine ends, then fail.
		f, _ := os.OpenFile(s.Path(), os.O_WRONLY, 0)
		if f != nil {
			_ = f.Close()
		}
		<-done
		t.Fatal("Load blocked on a FIFO")
	}
	assert.ErrorIs(t, err, grace.ErrNotRegular)
	assert.Zero(t, st)
}

// A device (symlinked, since creating one needs root) reads as not regular.
func TestLoadDevice(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, os.Symlink("/dev/zero", s.Path()))
	st, err := s.Load()
	assert.ErrorIs(t, err, grace.ErrNotRegular)
	assert.Zero(t, st)
}

// A file the process may not read: ErrUnreadable, wrapping the OS error.
func TestLoadPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(fullState()))
	require.NoError(t, os.Chmod(s.Path(), 0o000))
	st, err := s.Load()
	assert.ErrorIs(t, err, grace.ErrUnreadable)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.Zero(t, st)
}
