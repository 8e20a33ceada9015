package grace_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

func leaseIssued(id string, iat time.Time) *grace.Lease {
	return grace.FakeLease(grace.Lease{ID: id, LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: iat, ExpiresAt: iat.Add(14 * day)})
}

// Two instances share the file. Instance b holds a lease issued before a
// refusal that instance a has stored (with the refusal's Date as Floor);
// b's lease, though newer than a's, neither clears the refusal nor is
// stored.
func TestFloorStaleLeaseDoesNotClearRefusal(t *testing.T) {
	for _, flag := range []string{"revoked", "suspended"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			a := openStore(t, testOptions(dir))
			b := openStore(t, testOptions(dir))
			l1 := leaseIssued("lea_1", t0)
			require.NoError(t, a.Save(grace.State{Lease: l1}))

			l2 := leaseIssued("lea_2", t0.Add(50*time.Minute)) // b's beat, answered before the refusal
			refusal := grace.State{Lease: l1, Floor: t0.Add(time.Hour)}
			refusal.Revoked, refusal.Suspended = flag == "revoked", flag == "suspended"
			require.NoError(t, a.Save(refusal))
			require.NoError(t, b.Save(grace.State{Lease: l2})) // arrives late

			got, err := a.Load()
			require.NoError(t, err)
			assert.Equal(t, "lea_1", got.Lease.ID, "a stale lease was stored")
			assert.Equal(t, flag == "revoked", got.Revoked)
			assert.Equal(t, flag == "suspended", got.Suspended)
			assert.True(t, got.Floor.Equal(t0.Add(time.Hour)), "floor = %v", got.Floor)

			// The same second as the Floor is still stale (iat has
			// one-second resolution; the order within it is unknown).
			require.NoError(t, b.Save(grace.State{Lease: leaseIssued("lea_3", t0.Add(time.Hour))}))
			got, err = a.Load()
			require.NoError(t, err)
			assert.Equal(t, "lea_1", got.Lease.ID)

			// A lease issued after the refusal is a fresh answer: it clears.
			l4 := leaseIssued("lea_4", t0.Add(time.Hour+time.Second))
			require.NoError(t, b.Save(grace.State{Lease: l4}))
			got, err = a.Load()
			require.NoError(t, err)
			assert.Equal(t, "lea_4", got.Lease.ID)
			assert.False(t, got.Revoked)
			assert.False(t, got.Suspended)
			assert.True(t, got.Floor.Equal(t0.Add(time.Hour)), "the floor moved back: %v", got.Floor)
		})
	}
}

// After a rebind one instance drops the lease and raises the Floor to
// it; another instance that still holds the lease cannot write it back.
func TestFloorDroppedLeaseStaysDropped(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	b := openStore(t, testOptions(dir))
	l1 := leaseIssued("lea_1", t0)
	require.NoError(t, a.Save(grace.State{Lease: l1}))
	require.NoError(t, a.Save(grace.State{Floor: t0.Add(10 * time.Minute), ActivationKey: "act_1"}))
	require.NoError(t, b.Save(grace.State{Lease: l1, LastState: "active"}))

	got, err := a.Load()
	require.NoError(t, err)
	assert.Nil(t, got.Lease, "the dropped lease came back")
	assert.Equal(t, "active", got.LastState, "the rest of b's state is written")
}

// The Floor only moves forward, and survives every kind of write.
func TestFloorNeverMovesBack(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	floor := t0.Add(time.Hour)
	require.NoError(t, s.Save(grace.State{Lease: leaseIssued("lea_1", t0), Floor: floor}))
	require.NoError(t, s.Save(grace.State{Lease: leaseIssued("lea_1", t0)}))
	require.NoError(t, s.Save(grace.State{Lease: leaseIssued("lea_2", t0.Add(2*time.Hour))}))
	require.NoError(t, s.Update(func(st *grace.State) error { st.Floor = time.Time{}; return nil }))
	_, err := s.Observe(t0.Add(3 * time.Hour))
	require.NoError(t, err)
	require.NoError(t, s.Flush())
	got, err := s.Load()
	require.NoError(t, err)
	assert.True(t, got.Floor.Equal(floor), "floor = %v, want %v", got.Floor, floor)
	assert.Equal(t, "lea_2", got.Lease.ID)
}

// The file is lost after a rebind raised the Floor. The Store keeps the
// Floor in memory like the sticky facts, so the next write carries it and
// the dropped lease does not come back. (Found in review.)
func TestFloorSurvivesLostFile(t *testing.T) {
	for _, write := range []string{"Observe", "Update"} {
		t.Run(write, func(t *testing.T) {
			dir := t.TempDir()
			a := openStore(t, testOptions(dir))
			b := openStore(t, testOptions(dir))
			l1 := leaseIssued("lea_1", t0)
			floor := t0.Add(10 * time.Minute)
			require.NoError(t, a.Save(grace.State{Lease: l1}))
			require.NoError(t, a.Save(grace.State{Floor: floor, ActivationKey: "act_1"}))
			require.NoError(t, os.Remove(a.Path()))
			if write == "Observe" {
				_, err := a.Observe(t0.Add(time.Hour))
				require.NoError(t, err)
			} else {
				require.NoError(t, a.Update(func(*grace.State) error { return nil }))
			}
			require.NoError(t, b.Save(grace.State{Lease: l1}))
			got, err := a.Load()
			require.NoError(t, err)
			assert.True(t, got.Floor.Equal(floor), "floor = %v", got.Floor)
			assert.Nil(t, got.Lease, "the dropped lease came back")
		})
	}
}
