package grace

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every call on the machine clock file, failed in turn: the state file's
// operation still succeeds and writes the right state, the clock file is
// either the old mark or the new one, whole, and no temp file is left.
func TestFaultInjectionClockFile(t *testing.T) {
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ops := []string{"create", "write", "sync", "close", "rename", "syncdir", "lock", "open", "read"}
	run := func(s *Store) error {
		_, err := s.Observe(t1.Add(24 * time.Hour))
		return err
	}
	cases := 0
	for _, op := range ops {
		// Count the clock file's calls of a clean run.
		probe := &faultFS{clock: true}
		ps, err := open(internalOptions(t.TempDir()), probe)
		require.NoError(t, err)
		require.NoError(t, ps.Save(State{Lease: leaseAt("lea_old", t1)}))
		probe.calls = nil
		require.NoError(t, run(ps))
		n := probe.calls[op]
		for nth := 1; nth <= n; nth++ {
			t.Run(fmt.Sprintf("%s/%d", op, nth), func(t *testing.T) {
				cases++
				dir := t.TempDir()
				ffs := &faultFS{clock: true, mode: "error", err: syscall.EIO}
				s, err := open(internalOptions(dir), ffs)
				require.NoError(t, err)
				require.NoError(t, s.Save(State{Lease: leaseAt("lea_old", t1)}))
				ffs.op, ffs.nth, ffs.calls = op, nth, nil
				require.NoError(t, run(s), "a clock file fault never surfaces")

				got, err := open(internalOptions(dir), osFS{})
				require.NoError(t, err)
				st, err := got.Load()
				require.NoError(t, err)
				assert.Equal(t, t1.Add(24*time.Hour), st.HighWater, "the state file has the new mark")
				mark := got.readMark()
				assert.True(t, mark.Equal(t1) || mark.Equal(t1.Add(24*time.Hour)), "the clock file's mark is %v", mark)
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				for _, e := range entries {
					assert.False(t, strings.Contains(e.Name(), ".tmp-"), "temp file left: %s", e.Name())
				}
			})
		}
	}
	if cases < 8 {
		t.Fatalf("only %d clock file faults injected", cases)
	}
}
