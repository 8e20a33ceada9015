package grace_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// Every truncation and every single-bit flip of a real state file reads
// as an error with the zero State: never a lease, never more grace, never
// a sticky fact lost in a way that reads as valid.
func TestEveryTruncationAndBitFlip(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	st := fullState()
	st.Revoked = true // a flip must never turn this into a usable lease
	require.NoError(t, s.Save(st))
	good := readFile(t, s)

	counts := map[string]int{}
	check := func(what string, b []byte) {
		t.Helper()
		// Remove, then create: truncating in place makes ext4 flush on close.
		require.NoError(t, os.Remove(s.Path()))
		require.NoError(t, os.WriteFile(s.Path(), b, 0o600))
		got, err := s.Load()
		require.Error(t, err, what)
		require.Zero(t, got, what)
		for _, sentinel := range []error{grace.ErrNoState, grace.ErrCorrupt, grace.ErrVersion, grace.ErrWrongMachine} {
			if errors.Is(err, sentinel) {
				counts[sentinel.Error()]++
				return
			}
		}
		t.Fatalf("%s: unexpected error %v", what, err)
	}
	for n := 0; n < len(good); n++ {
		check("truncated", good[:n])
	}
	for i := 0; i < len(good)*8; i++ {
		b := bytes.Clone(good)
		b[i/8] ^= 1 << (i % 8)
		check("bit flip", b)
	}
	t.Logf("file of %d bytes: %d truncations, %d bit flips, all rejected: %v", len(good), len(good), len(good)*8, counts)

	// And the original still reads.
	require.NoError(t, os.WriteFile(s.Path(), good, 0o600))
	got, err := s.Load()
	require.NoError(t, err)
	require.Equal(t, st, got)
}
