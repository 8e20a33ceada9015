package grace_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// testOptions are the options every test store starts from.
func testOptions(dir string) grace.Options {
	return grace.Options{
		Dir:         dir,
		AppID:       "acme-appliance",
		LicenseID:   "lic_1",
		SealKey:     "machine-hash-A",
		VerifyLease: grace.FakeVerify,
	}
}

func openStore(t testing.TB, opts grace.Options) *grace.Store {
	t.Helper()
	s, err := grace.Open(opts)
	require.NoError(t, err)
	return s
}

// fullState is a state with every field set.
func fullState() grace.State {
	return grace.State{
		Lease:         activeLease(),
		HighWater:     t0.Add(3 * day),
		Revoked:       false,
		ClockTampered: false,
		LastState:     "grace",
		ActivationKey: "act_0123456789abcdef",
		LicenseKey:    "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJsaWNfMSJ9.c2ln",
		OfflineNonce:  "NONCE0123456789ABCDEFGHIJ",
		// OfflineRequestedAt in whole seconds: the file keeps RFC 3339 time.
		OfflineRequestedAt: t0.Add(2 * day),
	}
}

func readFile(t testing.TB, s *grace.Store) []byte {
	t.Helper()
	b, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	return b
}

func TestOpenValidates(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		mod  func(*grace.Options)
	}{
		{"no AppID", func(o *grace.Options) { o.AppID = "" }},
		{"no LicenseID", func(o *grace.Options) { o.LicenseID = "" }},
		{"no SealKey", func(o *grace.Options) { o.SealKey = "" }},
		{"no VerifyLease", func(o *grace.Options) { o.VerifyLease = nil }},
		{"Dir is a file", func(o *grace.Options) {
			f := filepath.Join(dir, "file")
			require.NoError(t, os.WriteFile(f, nil, 0o600))
			o.Dir = f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(dir)
			tt.mod(&o)
			_, err := grace.Open(o)
			assert.ErrorIs(t, err, grace.ErrInvalidOptions)
		})
	}
}

func TestOpenDefaultDirAndNaming(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("AppData", filepath.Join(home, "AppData"))
	base, err := os.UserConfigDir()
	require.NoError(t, err)

	o := testOptions("")
	o.AppID, o.LicenseID = "../../../etc/passwd", "lic/../../x"
	s := openStore(t, o)
	assert.Equal(t, filepath.Join(base, "licensekit", "grace"), filepath.Dir(s.Path()), "the ids never steer the path")
	assert.NotContains(t, filepath.Base(s.Path()), "passwd")
	require.NoError(t, s.Save(grace.State{LastState: "x"}))

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Dir(s.Path()))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "directory mode")
		fi, err = os.Stat(s.Path())
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "file mode")
	}

	// One file per product and licence.
	o2 := o
	o2.LicenseID = "lic_2"
	assert.NotEqual(t, s.Path(), openStore(t, o2).Path())
	o3 := o
	o3.AppID = "other-app"
	assert.NotEqual(t, s.Path(), openStore(t, o3).Path())
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	_, err := s.Load()
	require.ErrorIs(t, err, grace.ErrNoState)

	want := fullState()
	require.NoError(t, s.Save(want))
	got, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// Another Store (another process) reads the same after a clean stop.
	require.NoError(t, s.Flush())
	got, err = openStore(t, testOptions(filepath.Dir(s.Path()))).Load()
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// The returned state is a copy.
	got.Lease.Status = grace.StatusRevoked
	again, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, grace.StatusActive, again.Lease.Status)

	// Sticky facts and no lease.
	want = grace.State{HighWater: t0.Add(4 * day), Revoked: true, ClockTampered: true, LastState: "locked"}
	require.NoError(t, s.Save(want))
	got, err = s.Load()
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestSaveUsesVerifiedLease(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))

	// The caller's fields are replaced by what the token says.
	st := fullState()
	st.Lease.ExpiresAt = exp.AddDate(1, 0, 0)
	require.NoError(t, s.Save(st))
	got, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, exp, got.Lease.ExpiresAt)

	// Server time is evidence of real time: the mark moves up to iat.
	fresh := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, fresh.Save(grace.State{Lease: activeLease(), HighWater: t0.Add(-day)}))
	got, err = fresh.Load()
	require.NoError(t, err)
	assert.Equal(t, t0, got.HighWater)

	before := readFile(t, s)
	for name, l := range map[string]*grace.Lease{
		"no token":          {ID: "lea_x", LicenseID: "lic_1", Status: grace.StatusActive, ExpiresAt: exp},
		"forged token":      {Token: "fake.e30.AAAA", LicenseID: "lic_1"},
		"other licence":     grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_OTHER", Status: grace.StatusActive, IssuedAt: t0, ExpiresAt: exp}),
		"licence token too": {Token: "eyJhbGciOiJFZERTQSJ9.e30.sig"},
	} {
		err := s.Save(grace.State{Lease: l})
		assert.ErrorIs(t, err, grace.ErrInvalidState, name)
	}
	assert.Equal(t, before, readFile(t, s), "a refused Save leaves the file alone")
}

// Save keeps what is known — the mark is not lowered, sticky facts are not
// cleared — unless it brings a lease newer than the stored one.
func TestSaveKeepsWhatIsKnown(t *testing.T) {
	stored := grace.State{Lease: activeLease(), HighWater: t0.Add(5 * day), Revoked: true, ClockTampered: true, LastState: "locked"}
	newer := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(2 * day), ExpiresAt: t0.Add(16 * day)})
	older := grace.FakeLease(grace.Lease{ID: "lea_0", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(-day), ExpiresAt: t0.Add(13 * day)})
	tests := []struct {
		name    string
		corrupt bool // the file is damaged before the Save
		save    grace.State
		want    grace.State
	}{
		{"same lease, lower mark, flags cleared",
			false, grace.State{Lease: activeLease(), HighWater: t0, LastState: "active"},
			grace.State{Lease: activeLease(), HighWater: t0.Add(5 * day), Revoked: true, ClockTampered: true, LastState: "active"}},
		{"no lease",
			false, grace.State{LastState: "x"},
			grace.State{HighWater: t0.Add(5 * day), Revoked: true, ClockTampered: true, LastState: "x"}},
		{"older lease: the stored, newer one is kept",
			false, grace.State{Lease: older},
			grace.State{Lease: activeLease(), HighWater: t0.Add(5 * day), Revoked: true, ClockTampered: true}},
		{"newer lease: written as given, mark raised to its iat",
			false, grace.State{Lease: newer, HighWater: t0, LastState: "active"},
			grace.State{Lease: newer, HighWater: t0.Add(2 * day), LastState: "active"}},
		{"damaged file, same lease: what this process knew is kept",
			true, grace.State{Lease: activeLease()},
			grace.State{Lease: activeLease(), HighWater: t0.Add(5 * day), Revoked: true, ClockTampered: true}},
		{"damaged file, newer lease: replaced",
			true, grace.State{Lease: newer},
			grace.State{Lease: newer, HighWater: t0.Add(2 * day)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, testOptions(t.TempDir()))
			require.NoError(t, s.Save(stored))
			if tt.corrupt {
				b := readFile(t, s)
				require.NoError(t, os.WriteFile(s.Path(), b[:len(b)-1], 0o600))
			}
			require.NoError(t, s.Save(tt.save))
			got, err := s.Load()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSaveTooLarge(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(fullState()))
	before := readFile(t, s)
	err := s.Save(grace.State{LastState: strings.Repeat("x", grace.MaxFileSize)})
	assert.ErrorIs(t, err, grace.ErrInvalidState)
	assert.Equal(t, before, readFile(t, s))
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	require.NoError(t, s.Save(fullState()))
	good := readFile(t, s)

	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  error
	}{
		{"missing", func(t *testing.T, p string) { require.NoError(t, os.Remove(p)) }, grace.ErrNoState},
		{"empty", func(t *testing.T, p string) { require.NoError(t, os.WriteFile(p, nil, 0o600)) }, grace.ErrNoState},
		{"oversized", func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, append(good, make([]byte, grace.MaxFileSize)...), 0o600))
		}, grace.ErrCorrupt},
		{"trailing byte", func(t *testing.T, p string) { require.NoError(t, os.WriteFile(p, append(good, 0), 0o600)) }, grace.ErrCorrupt},
		{"text file", func(t *testing.T, p string) { require.NoError(t, os.WriteFile(p, []byte(`{"lease":"x"}`), 0o600)) }, grace.ErrCorrupt},
		{"newer version", func(t *testing.T, p string) {
			b := bytes.Clone(good)
			b[4] = 2
			require.NoError(t, os.WriteFile(p, b, 0o600))
		}, grace.ErrVersion},
		{"directory", func(t *testing.T, p string) {
			require.NoError(t, os.Remove(p))
			require.NoError(t, os.Mkdir(p, 0o700))
		}, grace.ErrNotRegular},
		{"symlink to a valid file", func(t *testing.T, p string) {
			other := filepath.Join(t.TempDir(), "elsewhere")
			require.NoError(t, os.WriteFile(other, good, 0o600))
			require.NoError(t, os.Remove(p))
			if err := os.Symlink(other, p); err != nil {
				t.Skip("no symlinks here:", err)
			}
		}, grace.ErrNotRegular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.RemoveAll(s.Path())
			require.NoError(t, os.WriteFile(s.Path(), good, 0o600))
			tt.setup(t, s.Path())
			st, err := s.Load()
			require.ErrorIs(t, err, tt.want)
			assert.Zero(t, st, "an unreadable file reads as no lease, nothing else")
			_, cerr := grace.Policy{}.Check(st, t0.Add(3*day))
			assert.ErrorIs(t, cerr, grace.ErrNoLease)
			_ = os.RemoveAll(s.Path())
		})
	}
}

func TestLoadWrongMachine(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	require.NoError(t, a.Save(fullState()))

	// The same directory on another machine (another SealKey).
	o := testOptions(dir)
	o.SealKey = "machine-hash-B"
	b := openStore(t, o)
	require.Equal(t, a.Path(), b.Path())
	st, err := b.Load()
	assert.ErrorIs(t, err, grace.ErrWrongMachine)
	assert.Zero(t, st, "nor does the other machine's clock mark count")

	// Copied over another licence's file on the same machine: no lease,
	// only the machine's clock mark, which the first licence raised.
	o = testOptions(dir)
	o.LicenseID = "lic_2"
	c := openStore(t, o)
	require.NoError(t, os.WriteFile(c.Path(), readFile(t, a), 0o600))
	st, err = c.Load()
	assert.ErrorIs(t, err, grace.ErrWrongMachine)
	want, err := a.Load()
	require.NoError(t, err)
	assert.Equal(t, grace.State{HighWater: want.HighWater}, st)
}

func TestLoadLeaseRejected(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	st := fullState()
	st.Revoked = true
	require.NoError(t, s.Save(st))

	// The keys changed (or the verifier got stricter): the lease is
	// dropped, the sticky facts survive, and the caller learns why.
	o := testOptions(dir)
	errRotated := errors.New("unknown signing key")
	o.VerifyLease = func(string) (*grace.Lease, error) { return nil, errRotated }
	got, err := openStore(t, o).Load()
	require.ErrorIs(t, err, grace.ErrLeaseRejected)
	assert.ErrorIs(t, err, errRotated)
	assert.Nil(t, got.Lease)
	assert.True(t, got.Revoked)
	assert.Equal(t, st.HighWater, got.HighWater)

	// A verifier returning a lease for another licence.
	o.VerifyLease = func(tok string) (*grace.Lease, error) {
		l, err := grace.FakeVerify(tok)
		if l != nil {
			l.LicenseID = "lic_other"
		}
		return l, err
	}
	got, err = openStore(t, o).Load()
	require.ErrorIs(t, err, grace.ErrLeaseRejected)
	assert.Nil(t, got.Lease)
}

func TestUpdate(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Update(func(st *grace.State) error {
		assert.Zero(t, *st, "a missing file starts from the zero State")
		st.ActivationKey = "act_1"
		return nil
	}))
	require.NoError(t, s.Update(func(st *grace.State) error {
		assert.Equal(t, "act_1", st.ActivationKey)
		st.Lease = activeLease()
		return nil
	}))
	got, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, "act_1", got.ActivationKey)
	assert.Equal(t, activeLease(), got.Lease)

	// fn's error: nothing written.
	before := readFile(t, s)
	boom := errors.New("boom")
	err = s.Update(func(st *grace.State) error { st.Revoked = true; return boom })
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, before, readFile(t, s))

	// A damaged file is never repaired: fn is not called, the file stays.
	damaged := bytes.Clone(before)
	damaged[len(damaged)/2] ^= 1
	require.NoError(t, os.WriteFile(s.Path(), damaged, 0o600))
	err = s.Update(func(*grace.State) error { t.Error("fn called on a corrupt file"); return nil })
	assert.ErrorIs(t, err, grace.ErrCorrupt)
	assert.Equal(t, damaged, readFile(t, s))

	// Save, with a fresh answer, replaces it.
	require.NoError(t, s.Save(fullState()))
	_, err = s.Load()
	assert.NoError(t, err)
}

func TestUpdateAcrossStores(t *testing.T) {
	dir := t.TempDir()
	const stores, each = 3, 20
	var wg sync.WaitGroup
	for i := 0; i < stores; i++ {
		s := openStore(t, testOptions(dir))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				assert.NoError(t, s.Update(increment))
			}
		}()
	}
	wg.Wait()
	st, err := openStore(t, testOptions(dir)).Load()
	require.NoError(t, err)
	assert.Equal(t, stores*each, counter(st))
}

// increment counts in ActivationKey, for the concurrency tests.
func increment(st *grace.State) error {
	st.ActivationKey = fmt.Sprintf("n=%d", counter(*st)+1)
	return nil
}

func counter(st grace.State) int {
	var n int
	_, _ = fmt.Sscanf(st.ActivationKey, "n=%d", &n)
	return n
}

func TestOpenSweepsStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	require.NoError(t, s.Save(fullState()))
	base := strings.TrimSuffix(filepath.Base(s.Path()), ".state")
	stale := []string{base + ".tmp-123", base + ".tmp-abc"}
	keep := []string{"unrelated.tmp-1", "grace-other.tmp-1"}
	for _, n := range append(stale, keep...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("half a write"), 0o600))
	}
	openStore(t, testOptions(dir))
	for _, n := range stale {
		assert.NoFileExists(t, filepath.Join(dir, n))
	}
	for _, n := range keep {
		assert.FileExists(t, filepath.Join(dir, n))
	}
	_, err := s.Load()
	assert.NoError(t, err)
}

// An old backup of the file restored over the current one is honestly
// accepted: its seal is good. It cannot give more time than its own,
// older lease, but it does erase a Revoked flag learnt after it was taken.
func TestRestoredBackup(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(fullState()))
	backup := readFile(t, s)

	newer := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusRevoked, IssuedAt: t0.Add(5 * day), ExpiresAt: exp.Add(5 * day)})
	require.NoError(t, s.Save(grace.State{Lease: newer, Revoked: true}))
	require.NoError(t, os.WriteFile(s.Path(), backup, 0o600))

	st, err := s.Load()
	require.NoError(t, err)
	assert.False(t, st.Revoked, "the documented limit: the control plane is the backstop")
	w, err := grace.Policy{}.Check(st, st.HighWater)
	require.NoError(t, err)
	assert.True(t, w.Deadline.Equal(exp), "never past the old lease's own exp")
}

// Two instances share one file: the one still holding an older lease must
// not overwrite the newer lease the other one saved.
func TestSaveNeverReplacesNewerLease(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, testOptions(dir))
	b := openStore(t, testOptions(dir))
	older := grace.FakeLease(grace.Lease{ID: "lea_1", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0, ExpiresAt: exp})
	newer := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(time.Hour), ExpiresAt: exp.Add(time.Hour)})
	require.NoError(t, b.Save(grace.State{Lease: older}))
	require.NoError(t, a.Save(grace.State{Lease: newer}))
	require.NoError(t, b.Save(grace.State{Lease: older, LastState: "active"})) // b's stale view
	got, err := a.Load()
	require.NoError(t, err)
	require.NotNil(t, got.Lease)
	assert.Equal(t, "lea_2", got.Lease.ID)
	assert.Equal(t, "active", got.LastState)
}

// Suspended is sticky like Revoked: only a newer lease clears it.
func TestSuspendedIsSticky(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(grace.State{Lease: activeLease(), Suspended: true}))
	require.NoError(t, s.Save(grace.State{Lease: activeLease()}))
	got, err := s.Load()
	require.NoError(t, err)
	assert.True(t, got.Suspended, "the same lease cleared Suspended")
	_, err = grace.Policy{}.Check(got, t0)
	assert.ErrorIs(t, err, grace.ErrSuspended)

	newer := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(time.Hour), ExpiresAt: exp.Add(time.Hour)})
	require.NoError(t, s.Save(grace.State{Lease: newer}))
	got, err = s.Load()
	require.NoError(t, err)
	assert.False(t, got.Suspended)
}

// iat has one-second resolution: a different lease issued in the same
// second is a fresh answer and clears the sticky flags like a later one.
// Leases are ordered by their signed iat: another lease of the same second
// is not newer. Two beats answered at once give two such twins; a recorded
// twin must not clear what the stored one could not (here a clock lock),
// nor replace it. (Issue 8, attack 2.)
func TestSaveSameSecondLeaseIsNotNewer(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	require.NoError(t, s.Save(grace.State{Lease: activeLease()}))
	require.NoError(t, s.Save(grace.State{Lease: activeLease(), ClockTampered: true, HighWater: t0.Add(3 * day)}))
	twin := grace.FakeLease(grace.Lease{ID: "lea_twin", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0, ExpiresAt: exp,
		ReceivedAt: t0.Add(time.Hour)})
	require.NoError(t, s.Save(grace.State{Lease: twin}))
	got, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, "lea_1", got.Lease.ID, "a twin replaced the stored lease")
	assert.True(t, got.ClockTampered, "a twin cleared the clock lock")
	assert.True(t, got.HighWater.Equal(t0.Add(3*day)), "a twin lowered the mark to %v", got.HighWater)

	// An older lease changes nothing either.
	older := grace.FakeLease(grace.Lease{ID: "lea_0", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(-time.Hour), ExpiresAt: exp})
	require.NoError(t, s.Save(grace.State{Lease: older}))
	got, err = s.Load()
	require.NoError(t, err)
	assert.Equal(t, "lea_1", got.Lease.ID)
	assert.True(t, got.ClockTampered)

	// One second later is newer: it is the control plane's answer.
	next := grace.FakeLease(grace.Lease{ID: "lea_2", LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(time.Second), ExpiresAt: exp})
	require.NoError(t, s.Save(grace.State{Lease: next}))
	got, err = s.Load()
	require.NoError(t, err)
	assert.Equal(t, "lea_2", got.Lease.ID)
	assert.False(t, got.ClockTampered)
}
