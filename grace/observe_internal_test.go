package grace

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func internalOptions(dir string) Options {
	return Options{Dir: dir, AppID: "acme-appliance", LicenseID: "lic_1", SealKey: "machine-hash-A", VerifyLease: FakeVerify}
}

// fakeMonotonic stands in for the monotonic clock: advance it by the real
// time that passes before each Observe.
type fakeMonotonic struct{ prev, cur time.Duration }

func (m *fakeMonotonic) advance(d time.Duration) { m.prev, m.cur = m.cur, m.cur+d }
func (m *fakeMonotonic) elapsed(time.Time, time.Time) (time.Duration, bool) {
	return m.cur - m.prev, true
}

// The wall clock is stepped back by less than the tolerance, again and
// again, while real (monotonic) time runs on: the high-water mark follows
// real time, so the steps add up to tampering.
func TestObserveSawtoothAddsUp(t *testing.T) {
	s, err := open(internalOptions(t.TempDir()), osFS{})
	require.NoError(t, err)
	mono := &fakeMonotonic{}
	s.elapsed = mono.elapsed
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	lease := FakeLease(Lease{ID: "lea_1", LicenseID: "lic_1", Status: StatusActive, IssuedAt: start.Add(-time.Hour), ExpiresAt: start.Add(14 * 24 * time.Hour)})
	require.NoError(t, s.Save(State{Lease: lease}))

	clock := start
	_, err = s.Observe(clock)
	require.NoError(t, err)
	for i := 1; i <= 10; i++ {
		// Ten minutes pass, and the clock is set back by twenty: the wall
		// clock falls back ten minutes per step, real time runs on.
		mono.advance(10 * time.Minute)
		clock = clock.Add(-10 * time.Minute)
		st, err := s.Observe(clock)
		require.NoError(t, err)
		assert.Equal(t, start.Add(time.Duration(i)*10*time.Minute), st.HighWater, "step %d: the mark follows real time", i)
		_, cerr := s.Policy().Check(st, clock)
		if i*20 <= 60 {
			require.NoError(t, cerr, "step %d: %d min behind", i, i*20)
		} else {
			require.ErrorIs(t, cerr, ErrClockTampered, "step %d", i)
			return
		}
	}
	t.Fatal("the sawtooth was never caught")
}

func TestMonotonicElapsed(t *testing.T) {
	a := time.Now()
	b := a.Add(time.Minute)
	d, ok := monotonicElapsed(a, b)
	assert.True(t, ok)
	assert.Equal(t, time.Minute, d)
	for _, pair := range [][2]time.Time{{a.Round(0), b}, {a, b.UTC()}, {a.Round(0), b.Round(0)}} {
		_, ok := monotonicElapsed(pair[0], pair[1])
		assert.False(t, ok)
	}
}
