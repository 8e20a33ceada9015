package grace_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// A process that stops without Flush (kill -9, a crash, power loss) may
// have run up to WriteEvery past the mark it wrote, and until its next
// Observe: the next Store to read the file charges twice WriteEvery
// against the window, writes the charge at once so that another kill
// charges again on top, and never counts it as clock tampering. A clean
// stop charges nothing; only a newer lease clears the charge. (Issue 8,
// attack 4.)
func TestUncleanStopIsCharged(t *testing.T) {
	dir := t.TempDir()
	charge := 2 * grace.DefaultWriteEvery
	now := t0.Add(time.Hour)

	a := openStore(t, testOptions(dir))
	require.NoError(t, a.Save(grace.State{Lease: activeLease()}))
	_, err := a.Observe(now)
	require.NoError(t, err)
	// a is killed: no Flush.

	b := openStore(t, testOptions(dir))
	st, err := b.Load()
	require.NoError(t, err)
	assert.Equal(t, charge, st.Charged)
	w, err := b.Policy().Check(st, now)
	require.NoError(t, err, "a charge is not tampering")
	assert.Equal(t, 14*day-time.Hour-charge, w.Remaining)
	_, err = b.Observe(now) // writes the charge at once
	require.NoError(t, err)
	// b is killed too, before the mark moved.

	c := openStore(t, testOptions(dir))
	st, err = c.Load()
	require.NoError(t, err)
	assert.Equal(t, 2*charge, st.Charged, "a second kill is charged on top")
	assert.True(t, st.HighWater.Equal(now), "the charge is not written into the mark: %v", st.HighWater)
	// Saving what is not a newer answer does not lower it.
	require.NoError(t, c.Save(grace.State{Lease: activeLease()}))
	require.NoError(t, c.Flush()) // a clean stop

	d := openStore(t, testOptions(dir))
	st, err = d.Load()
	require.NoError(t, err)
	assert.Equal(t, 2*charge, st.Charged, "a clean stop is charged nothing")

	// A newer lease, saved as the control plane's answer, clears it.
	next := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(2 * time.Hour), ExpiresAt: exp})
	require.NoError(t, d.Save(grace.State{Lease: next}))
	require.NoError(t, d.Flush())
	st, err = openStore(t, testOptions(dir)).Load()
	require.NoError(t, err)
	assert.Zero(t, st.Charged)
}
