package license_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// freezeDir makes the state directory immutable (chattr +i), so that every
// save fails as on a full or read-only disk. Root ignores permission bits;
// the immutable flag it does not. Tests skip where chattr is unavailable.
func freezeDir(t *testing.T, dir string) func() {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make the state directory immutable here: %v %s", err, out)
	}
	undo := func() { exec.Command("chattr", "-i", dir).Run() }
	t.Cleanup(undo)
	return undo
}

// A revocation the manager failed to save must not be undone by the file.
func TestManagerRevokeSurvivesFailedSave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		release := freezeDir(t, r.cfg.StateDir)
		defer release()
		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour) // beat: signed "revoked" lease; Save fails (ErrLocked after 10 s)
		synctest.Wait()
		t.Logf("OnChange saw %v", r.changes.all())
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

// The same with an unsigned 403 REVOKED.
func TestManagerRevoke403SurvivesFailedSave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		release := freezeDir(t, r.cfg.StateDir)
		defer release()
		r.cp.Fail(licensetest.Fault{Status: 403, Body: `{"error":{"code":"REVOKED","message":"License revoked"}}`})
		time.Sleep(time.Hour)
		synctest.Wait()
		t.Logf("OnChange saw %v", r.changes.all())
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

// OnChange is called one call at a time, and its last call carries the
// current state, even when transitions race (the listener sets the clock
// back while it is being told of grace).
func TestManagerOnChangeSerialisedAndCurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		var inside, maxInside atomic.Int32
		var mu sync.Mutex
		var last license.State
		r.cfg.OnChange = func(s license.Status) {
			n := inside.Add(1)
			if n > maxInside.Load() {
				maxInside.Store(n)
			}
			if s.State == license.StateGrace {
				r.offset.Store(int64(-24 * time.Hour)) // clock set back while we listen
				time.Sleep(time.Second)
			}
			mu.Lock()
			last = s.State
			mu.Unlock()
			inside.Add(-1)
		}
		m := r.open()
		r.cp.SetDown(true)
		time.Sleep(time.Hour)
		synctest.Wait()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		t.Logf("max concurrent OnChange = %d; last delivered %v; actual %v", maxInside.Load(), last, m.Status().State)
		if maxInside.Load() > 1 {
			t.Errorf("OnChange ran %d at a time", maxInside.Load())
		}
		if last != m.Status().State {
			t.Errorf("listener's last state %v != actual %v", last, m.Status().State)
		}
	})
}

// An unsigned 403 SUSPENDED survives a restart with the network down.
func TestManagerSuspended403IsSticky(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		r.cp.Fail(licensetest.Fault{Status: 403, Body: `{"error":{"code":"SUSPENDED","message":"Subscription suspended"}}`})
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateSuspended, license.ErrSuspended)
		m.Close()
		r.cp.SetDown(true)
		m2 := r.open()
		t.Logf("after restart offline: %v", m2.Status().State)
		wantState(t, m2, license.StateSuspended, license.ErrSuspended)
	})
}

// A 400 renews nothing: grace stays grace.
func TestManagerRejectedChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		r.cp.SetDown(true)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil)
		r.cp.SetDown(false)
		for range 50 {
			r.cp.Fail(licensetest.Fault{Status: 400})
		}
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		st := m.Status()
		t.Logf("after 400: state %v lastErr %v lastContact %v", st.State, st.LastError, st.LastContact)
		if st.State != license.StateGrace {
			t.Errorf("a 400 moved grace -> %v", st.State)
		}
	})
}

// A healthy control plane and a disk that takes no writes (full, remounted
// read-only): every heartbeat still renews the lease held in memory.
func TestManagerHealthyOnAnUnwritableDisk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cp.SetGrace(24 * time.Hour) // leases of a day: the first one lapses on day 2
		m := r.open()
		freezeDir(t, r.cfg.StateDir)
		time.Sleep(3 * 24 * time.Hour)
		synctest.Wait()
		st := m.Status()
		if st.State != license.StateActive {
			t.Errorf("healthy heartbeats, state %v (%v)", st.State, st.Err)
		}
		if got := r.cp.Count("heartbeat"); got != 72 {
			t.Errorf("%d heartbeats in 3 days, want 72", got)
		}
	})
}

// The state file deleted while the product runs: the lease held in memory
// is written back, and nothing needs a new activation.
func TestManagerStateDeletedWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cp.SetInterval(2 * time.Hour)
		m := r.open()
		files, _ := filepath.Glob(filepath.Join(r.cfg.StateDir, "*.state"))
		os.Remove(files[0])
		time.Sleep(7 * time.Hour)
		synctest.Wait()
		st := m.Status()
		t.Logf("state %v err %v lastErr %v activations %d", st.State, st.Err, st.LastError, r.cp.Count("activate"))
		if st.State != license.StateActive {
			t.Errorf("control plane healthy, state %v", st.State)
		}
	})
}

// A clock ahead of the control plane's: the signed exp stays the hard cap,
// so offline grace is shortened by as much (honestly documented), and a
// clock ahead by more than a lease's length cannot run until corrected.
func TestManagerFastClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.offset.Store(int64(3 * time.Hour))
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		r.cp.SetDown(true)
		time.Sleep(14*24*time.Hour - 3*time.Hour - time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrGraceExpired)
	})
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.offset.Store(int64(15 * 24 * time.Hour))
		m := r.open()
		if r.cp.Count("activate") != 1 {
			t.Fatal("no activation")
		}
		wantState(t, m, license.StateLocked, license.ErrClockTampered)
		if !strings.Contains(m.Status().Err.Error(), "ahead of the control plane") {
			t.Fatalf("the error does not say what is wrong: %v", m.Status().Err)
		}
	})
}
