package grace_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// onDisk is the high-water mark as a fresh process would read it.
func onDisk(t *testing.T, s *grace.Store) grace.State {
	t.Helper()
	o := testOptions("")
	o.Dir = dirOf(s)
	st, err := openStore(t, o).Load()
	require.NoError(t, err)
	return st
}

func dirOf(s *grace.Store) string {
	d := s.Path()
	for i := len(d) - 1; i >= 0; i-- {
		if os.IsPathSeparator(d[i]) {
			return d[:i]
		}
	}
	return "."
}

func TestObserveWritesAtMostEveryWriteEvery(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(grace.State{Lease: activeLease()}))
	assert.Equal(t, t0, onDisk(t, s).HighWater)

	now := t0.Add(day)
	st, err := s.Observe(now)
	require.NoError(t, err)
	assert.Equal(t, now, st.HighWater)
	assert.Equal(t, now, onDisk(t, s).HighWater, "a big move is written")

	for i := 1; i < 5; i++ { // four minutes of checks: memory only
		st, err = s.Observe(now.Add(time.Duration(i) * time.Minute))
		require.NoError(t, err)
		assert.Equal(t, now.Add(time.Duration(i)*time.Minute), st.HighWater)
		assert.Equal(t, now, onDisk(t, s).HighWater, "no write after %d min", i)
	}
	_, err = s.Observe(now.Add(5 * time.Minute))
	require.NoError(t, err)
	assert.Equal(t, now.Add(5*time.Minute), onDisk(t, s).HighWater, "written after WriteEvery")

	// Flush keeps the rest before exit.
	_, err = s.Observe(now.Add(7 * time.Minute))
	require.NoError(t, err)
	assert.Equal(t, now.Add(5*time.Minute), onDisk(t, s).HighWater)
	require.NoError(t, s.Flush())
	assert.Equal(t, now.Add(7*time.Minute), onDisk(t, s).HighWater)
	before := readFile(t, s)
	require.NoError(t, s.Flush())
	assert.Equal(t, before, readFile(t, s), "nothing to flush")

	// The lease and other fields are kept.
	assert.Equal(t, activeLease(), onDisk(t, s).Lease)
}

func TestObserveNeverMovesBack(t *testing.T) {
	o := testOptions(t.TempDir())
	o.WriteEvery = -1 // write on every advance
	s := openStore(t, o)
	now := t0.Add(day)
	_, err := s.Observe(now)
	require.NoError(t, err)
	for _, back := range []time.Duration{time.Second, 30 * time.Minute, 59 * time.Minute} {
		st, err := s.Observe(now.Add(-back))
		require.NoError(t, err)
		assert.Equal(t, now, st.HighWater)
		assert.False(t, st.ClockTampered)
		assert.Equal(t, now, onDisk(t, s).HighWater)
	}
}

func TestObserveDetectsRollback(t *testing.T) {
	for _, back := range []time.Duration{61 * time.Minute, day, 365 * day} {
		t.Run(back.String(), func(t *testing.T) {
			s := openStore(t, testOptions(t.TempDir()))
			require.NoError(t, s.Save(grace.State{Lease: activeLease()}))
			now := t0.Add(3 * day)
			_, err := s.Observe(now)
			require.NoError(t, err)

			st, err := s.Observe(now.Add(-back))
			require.NoError(t, err)
			assert.True(t, st.ClockTampered)
			_, err = s.Policy().Check(st, now.Add(-back))
			assert.ErrorIs(t, err, grace.ErrClockTampered)

			// Written at once, and sticky: setting the clock right again
			// does not help, nor does a restart.
			assert.True(t, onDisk(t, s).ClockTampered)
			st, err = s.Observe(now.Add(time.Minute))
			require.NoError(t, err)
			_, err = s.Policy().Check(st, now.Add(time.Minute))
			assert.ErrorIs(t, err, grace.ErrClockTampered)

			// Until the control plane answers with a new lease.
			fresh := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: now.Add(2 * time.Minute), ExpiresAt: now.Add(14 * day)})
			require.NoError(t, s.Update(func(st *grace.State) error {
				st.Lease, st.ClockTampered = fresh, false
				return nil
			}))
			st, err = s.Observe(now.Add(3 * time.Minute))
			require.NoError(t, err)
			w, err := s.Policy().Check(st, now.Add(3*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, 14*day-3*time.Minute, w.Remaining)
		})
	}
}

func TestObserveCorruptFileNotRepaired(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(grace.State{Lease: activeLease(), Revoked: true}))
	b := readFile(t, s)
	b[20] ^= 0x40
	require.NoError(t, os.WriteFile(s.Path(), b, 0o600))
	st, err := s.Observe(t0.Add(day))
	assert.ErrorIs(t, err, grace.ErrCorrupt)
	// No lease; only what this process has seen, which grants nothing.
	assert.Equal(t, grace.State{HighWater: t0.Add(day), Revoked: true}, st)
	assert.Equal(t, b, readFile(t, s))
	assert.ErrorIs(t, s.Flush(), grace.ErrCorrupt)
	assert.Equal(t, b, readFile(t, s))
}

func TestObserveDeletedFile(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	_, err := s.Observe(t0)
	require.NoError(t, err)
	assert.Equal(t, t0, onDisk(t, s).HighWater, "first observation creates the file")

	require.NoError(t, s.Save(grace.State{Lease: activeLease(), Revoked: true, HighWater: t0.Add(day)}))
	require.NoError(t, os.Remove(s.Path()))
	// Deleting the file loses the lease (go online), and what this process
	// knew of the sticky facts and the mark is written back.
	st, err := s.Observe(t0.Add(day - 30*time.Minute))
	require.NoError(t, err)
	assert.Nil(t, st.Lease)
	assert.True(t, st.Revoked)
	assert.Equal(t, t0.Add(day), st.HighWater)
	disk := onDisk(t, s)
	assert.True(t, disk.Revoked)
	assert.Nil(t, disk.Lease)
}

// A file restored from a backup while the product runs cannot pull this
// process's high-water mark back, nor clear a tampering it has seen.
func TestObserveRestoreWhileRunning(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(grace.State{Lease: activeLease()}))
	backup := readFile(t, s)
	now := t0.Add(10 * day)
	_, err := s.Observe(now)
	require.NoError(t, err)
	st, err := s.Observe(now.Add(-2 * time.Hour))
	require.NoError(t, err)
	require.True(t, st.ClockTampered)

	require.NoError(t, s.Update(func(st *grace.State) error { st.Revoked = true; return nil }))

	require.NoError(t, os.WriteFile(s.Path(), backup, 0o600))
	st, err = s.Observe(now.Add(-2 * time.Hour))
	require.NoError(t, err)
	assert.True(t, st.ClockTampered)
	assert.True(t, st.Revoked)
	assert.Equal(t, now, st.HighWater)
	disk := onDisk(t, s)
	assert.True(t, disk.Revoked && disk.ClockTampered, "written back at once")
	assert.Equal(t, now, disk.HighWater)
}

// A clock set far ahead pushed the mark into the future; once the control
// plane answers (another process saves a newer lease), every process
// starts again from the newer lease's server time.
func TestObserveAdoptsNewerLeaseFromAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	require.NoError(t, a.Save(grace.State{Lease: activeLease()}))
	_, err := a.Observe(t0.Add(300 * day)) // the clock was wrong
	require.NoError(t, err)

	b := openStore(t, testOptions(dir))
	fresh := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(time.Hour + 14*day)})
	require.NoError(t, b.Save(grace.State{Lease: fresh}))

	now := t0.Add(2 * time.Hour)
	st, err := a.Observe(now)
	require.NoError(t, err)
	assert.Equal(t, now, st.HighWater)
	w, err := a.Policy().Check(st, now)
	require.NoError(t, err)
	assert.Equal(t, 14*day-time.Hour, w.Remaining)
}
