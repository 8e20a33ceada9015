package grace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// licenceOptions are testOptions for another licence of the same product
// on the same machine.
func licenceOptions(dir, id string) grace.Options {
	o := testOptions(dir)
	o.LicenseID = id
	return o
}

// A licence this machine never used starts from the latest time any
// licence of the product saw here: with the clock set back, it locks.
func TestMachineMarkReachesANewLicence(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	_, err := a.Observe(t0.Add(40 * day))
	require.NoError(t, err)

	b := openStore(t, licenceOptions(dir, "lic_2"))
	st, err := b.Load()
	assert.ErrorIs(t, err, grace.ErrNoState)
	assert.Equal(t, grace.State{HighWater: t0.Add(40 * day)}, st, "no file of its own, but the machine's mark")

	st, err = b.Observe(t0.Add(20 * day)) // the clock set back twenty days
	require.NoError(t, err)
	assert.True(t, st.ClockTampered)
	assert.Equal(t, t0.Add(40*day), st.HighWater)
	_, err = b.Policy().Check(st, t0.Add(20*day))
	assert.ErrorIs(t, err, grace.ErrClockTampered)

	// Within the tolerance, nothing is tampered with, and time is counted
	// from the mark.
	c := openStore(t, licenceOptions(dir, "lic_3"))
	st, err = c.Observe(t0.Add(40*day - 30*60e9))
	require.NoError(t, err)
	assert.False(t, st.ClockTampered)
	assert.Equal(t, t0.Add(40*day), st.HighWater)
}

// Deleting or damaging a licence's own file leaves the machine's mark.
func TestMachineMarkOutlivesTheStateFile(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func(path string) error
	}{
		{"deleted", os.Remove},
		{"flipped", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o600)
		}},
		{"truncated", func(p string) error { return os.Truncate(p, 0) }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			dir := t.TempDir()
			a := openStore(t, testOptions(dir))
			require.NoError(t, a.Save(grace.State{Lease: activeLease(), HighWater: t0.Add(9 * day)}))
			require.NoError(t, damage.do(a.Path()))
			again := openStore(t, testOptions(dir)) // a restart
			st, _ := again.Load()
			assert.Nil(t, st.Lease)
			assert.Equal(t, t0.Add(9*day), st.HighWater)
			st, _ = again.Observe(t0)
			assert.True(t, st.ClockTampered, "a clock set back nine days")
		})
	}
}

// The mark is per product and per machine: another product, or the same
// directory under another machine key, does not see it.
func TestMachineMarkIsPerProductAndMachine(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	_, err := a.Observe(t0.Add(40 * day))
	require.NoError(t, err)

	other := licenceOptions(dir, "lic_2")
	other.AppID = "another-product"
	st, _ := openStore(t, other).Observe(t0)
	assert.False(t, st.ClockTampered)
	assert.Equal(t, t0, st.HighWater)

	moved := licenceOptions(dir, "lic_2")
	moved.SealKey = "machine-hash-B"
	st, _ = openStore(t, moved).Observe(t0)
	assert.False(t, st.ClockTampered)
	assert.Equal(t, t0, st.HighWater)
}

// A newly stored lease brings the machine's mark back from a future a
// mis-set clock pushed it to, to its receipt on the local clock; but never
// below its signed iat less Policy.MaxBehind, so clocks set back before
// answers cannot walk the mark down.
func TestMachineMarkReanchoredByALease(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	_, err := a.Observe(t0.Add(3650 * day)) // the clock ten years ahead
	require.NoError(t, err)
	require.NoError(t, a.Save(grace.State{Lease: activeLease()})) // iat and receipt t0
	st, _ := openStore(t, licenceOptions(dir, "lic_2")).Load()
	assert.Equal(t, t0, st.HighWater)

	lease := func(id string, iat, received time.Time) *grace.Lease {
		return grace.FakeLease(grace.Lease{ID: id, LicenseID: "lic_1", Status: grace.StatusActive, Fingerprint: "fp",
			IssuedAt: iat, ExpiresAt: iat.Add(14 * day), ReceivedAt: received})
	}
	// Received on a clock six hours behind its iat: the local clock's
	// time is the mark, as it is the licence's.
	require.NoError(t, a.Save(grace.State{Lease: lease("lea_2", t0.Add(day), t0.Add(day-6*time.Hour))}))
	st, _ = openStore(t, licenceOptions(dir, "lic_3")).Load()
	assert.Equal(t, t0.Add(day-6*time.Hour), st.HighWater)

	// Received on a clock five days behind: no lower than iat − 12 h.
	require.NoError(t, a.Save(grace.State{Lease: lease("lea_3", t0.Add(6*day), t0.Add(day))}))
	st, _ = openStore(t, licenceOptions(dir, "lic_4")).Load()
	assert.Equal(t, t0.Add(6*day-12*time.Hour), st.HighWater)

	// A lease that is not newer (a replay) lowers nothing.
	_, err = a.Observe(t0.Add(8 * day))
	require.NoError(t, err)
	require.NoError(t, a.Flush())
	require.NoError(t, a.Save(grace.State{Lease: activeLease()}))
	st, _ = openStore(t, licenceOptions(dir, "lic_5")).Load()
	assert.Equal(t, t0.Add(8*day), st.HighWater)
}

// A hostile clock file (garbage, a directory, a symlink to another
// product's) counts as no mark, and never stops a state file's writes.
func TestMachineMarkHostileFile(t *testing.T) {
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, dir, path string)
	}{
		{"garbage", func(t *testing.T, _, p string) { require.NoError(t, os.WriteFile(p, []byte("LKGS garbage"), 0o600)) }},
		{"directory", func(t *testing.T, _, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }},
		{"symlink", func(t *testing.T, dir, p string) {
			target := filepath.Join(dir, "elsewhere")
			require.NoError(t, os.WriteFile(target, []byte("x"), 0o600))
			require.NoError(t, os.Symlink(target, p))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a := openStore(t, testOptions(dir))
			_, err := a.Observe(t0)
			require.NoError(t, err)
			path := clockPath(t, dir)
			require.NoError(t, os.Remove(path))
			tt.plant(t, dir, path)

			b := openStore(t, licenceOptions(dir, "lic_2"))
			st, err := b.Observe(t0.Add(-10 * day))
			require.NoError(t, err, "the state file is written whatever the clock file is")
			assert.False(t, st.ClockTampered)
			l := activeLease()
			lease := grace.FakeLease(grace.Lease{ID: "lea_9", LicenseID: "lic_2", Status: grace.StatusActive, Fingerprint: "fp", IssuedAt: l.IssuedAt, ExpiresAt: l.ExpiresAt})
			require.NoError(t, b.Save(grace.State{Lease: lease}))
			got, err := b.Load()
			require.NoError(t, err)
			assert.NotNil(t, got.Lease)
		})
	}
}

// clockPath is the one clock file in dir.
func clockPath(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var found []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "clock-") && strings.HasSuffix(e.Name(), ".state") {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	require.Len(t, found, 1, "clock files in %s", dir)
	return found[0]
}

// A clock set years ahead while two licences run, then corrected: the
// control plane's answer for one brings the machine's mark back, and the
// other, which reads the corrected clock (and locks itself), does not
// push the mark ahead again, so the first does not lock at its next start.
func TestMachineMarkAnotherLicenceDoesNotUndoAnAnswer(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	b := openStore(t, licenceOptions(dir, "lic_2"))
	ahead := t0.Add(3650 * day)
	_, err := a.Observe(ahead)
	require.NoError(t, err)
	_, err = b.Observe(ahead)
	require.NoError(t, err)

	require.NoError(t, a.Save(grace.State{Lease: activeLease(), HighWater: t0})) // A's answer, clock corrected
	st, err := b.Observe(t0.Add(time.Minute))                                    // B's watchdog reads the corrected clock
	require.NoError(t, err)
	assert.True(t, st.ClockTampered, "B saw the clock go back years")
	require.NoError(t, b.Flush()) // B exits

	again := openStore(t, testOptions(dir)) // A restarts
	st, err = again.Load()
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Minute), st.HighWater, "at most the clock B last read")
	st, err = again.Observe(t0.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, st.ClockTampered)
	_, err = again.Policy().Check(st, t0.Add(time.Hour))
	assert.NoError(t, err)

	// B itself stays locked until the control plane answers it.
	st, err = openStore(t, licenceOptions(dir, "lic_2")).Load()
	require.NoError(t, err)
	assert.True(t, st.ClockTampered)
}
