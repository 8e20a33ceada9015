package license_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

func TestManagerSuspendRestore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)

		r.cp.Suspend(r.lic)
		time.Sleep(time.Hour) // the next beat brings a signed "suspended" lease
		synctest.Wait()
		wantState(t, m, license.StateSuspended, license.ErrSuspended)

		r.cp.Restore(r.lic)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
	})
}

func TestManagerRevokeIsStickyAcrossRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
		m.Close()

		// Restart with the control plane down: still locked, although
		// the revoked lease's exp is two weeks away.
		r.cp.SetDown(true)
		m2 := r.open()
		wantState(t, m2, license.StateLocked, license.ErrRevoked)
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		wantState(t, m2, license.StateLocked, license.ErrRevoked)

		// Back online, the control plane says revoked again: revocation
		// is final there, so nothing clears it.
		r.cp.SetDown(false)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m2, license.StateLocked, license.ErrRevoked)
	})
}

func TestManagerRevokedBeforeActivation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cp.Revoke(r.lic) // activation answers 403 REVOKED
		m := r.open()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

func TestManagerRebindRefusesOldMachine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		r.cp.Rebind(r.lic, "some-other-machine")
		time.Sleep(time.Hour) // the next beat answers 409
		synctest.Wait()
		wantState(t, m, license.StateInactive, license.ErrFingerprint)
		m.Close()

		// After a restart, the dropped lease does not come back.
		r.cp.SetDown(true)
		m2 := r.open()
		wantState(t, m2, license.StateInactive, license.ErrNotActivated)
	})
}

func TestManagerUnknownLicence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		r.cp.Forget(r.lic)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
	})
}

func TestManagerClockSetBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		time.Sleep(10 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)

		// Set back by 59 minutes: tolerated.
		r.offset.Store(int64(-59 * time.Minute))
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)

		// Set back by a day while offline: locked, and still locked when
		// the clock is put right again.
		r.cp.SetDown(true)
		r.offset.Store(int64(-24 * time.Hour))
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)
		r.offset.Store(0)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)

		// A successful heartbeat clears it.
		r.cp.SetDown(false)
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
	})
}

func TestManagerClockSetBackAndHeartbeatSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		time.Sleep(10 * time.Hour)
		synctest.Wait() // let the beat due now finish first
		// The clock jumps a year back while the control plane is away:
		// locked at the next check.
		r.cp.SetDown(true)
		r.offset.Store(int64(-365 * 24 * time.Hour))
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)

		// The control plane answers, but its lease arrives on a clock a
		// year behind its own: no grace is banked on a wrong clock, as
		// none is on a clock far ahead. Still locked. (Issue 8, attack 3.)
		r.cp.SetDown(false)
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)

		// The clock is corrected: the next beat brings a lease on the
		// right clock, and the product runs for 14 real days offline.
		r.offset.Store(0)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		r.cp.SetDown(true)
		time.Sleep(14*24*time.Hour - 2*time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil)
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrGraceExpired)
	})
}

// A clock set back within the bound (eleven hours) and vouched for by the
// control plane still gets 14 real days offline: the window runs on the
// local clock from receipt, so a constant offset neither adds nor removes
// time.
func TestManagerClockBehindWithinBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.IssuedAt(time.Now().Add(-24*time.Hour)))
		m := r.open()
		time.Sleep(10 * time.Hour)
		synctest.Wait()
		r.offset.Store(int64(-11 * time.Hour))
		time.Sleep(time.Hour) // the beat on the set-back clock restarts the mark
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		r.cp.SetDown(true)
		time.Sleep(14*24*time.Hour - time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil)
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrGraceExpired)
	})
}

func TestManagerSlowClockIsNotTampering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A machine whose clock is three hours behind the control plane's
		// from the start: never "tampered", and its grace is 14 real days.
		// (The licence was issued yesterday: a fresh one would be "not yet
		// valid" on such a clock, as it should be.)
		r := newRig(t, licensetest.IssuedAt(time.Now().Add(-24*time.Hour)))
		r.offset.Store(int64(-3 * time.Hour))
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		time.Sleep(48 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		r.cp.SetDown(true)
		time.Sleep(14*24*time.Hour - time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrGraceExpired)
	})
}

func TestManagerStateCopiedToAnotherMachine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		m.Close()

		// Copy the key file and the whole state directory to machine B.
		other := t.TempDir()
		copyDir(t, r.cfg.StateDir, filepath.Join(other, "state"))
		data, err := os.ReadFile(r.cfg.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		kf := filepath.Join(other, "license.json")
		if err := os.WriteFile(kf, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b := &rig{t: t, iss: r.iss, cp: r.cp, cfg: r.cfg, lic: r.lic, changes: &changeLog{}}
		b.cfg.MachineID = "machine-B"
		b.cfg.KeyFile = kf
		b.cfg.StateDir = filepath.Join(other, "state")
		b.cfg.OnChange = nil
		b.cfg.Now = nil

		// Offline: the copied lease is not for this machine.
		r.cp.SetDown(true)
		mb := b.open()
		wantState(t, mb, license.StateInactive, license.ErrNotActivated)
		// Online: the control plane refuses to bind it twice.
		r.cp.SetDown(false)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, mb, license.StateInactive, license.ErrFingerprint)
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func TestManagerServerFaultsKeepState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		r.cp.Fail(
			licensetest.Fault{Status: 500},
			licensetest.Fault{Status: 503, RetryAfter: "120"},
			licensetest.Fault{Status: 429, RetryAfter: "60"},
			licensetest.Fault{Status: 200, Body: "<html>captive portal</html>"},
			licensetest.Fault{Status: 502, Delay: 30 * time.Second},
			licensetest.Fault{Status: 501},
			licensetest.Fault{Status: 400},
		)
		for range 7 {
			time.Sleep(time.Hour)
			synctest.Wait()
			st := m.Status()
			if !st.State.Allowed() {
				t.Fatalf("a server fault changed the state to %v (%v)", st.State, st.Err)
			}
		}
		wantState(t, m, license.StateActive, nil)

		// Retry-After was obeyed: no request came sooner than it asked.
		rec := r.cp.Received()
		for i := 1; i < len(rec); i++ {
			if rec[i-1].Answer == 503 && rec[i].At.Sub(rec[i-1].At) < 120*time.Second {
				t.Errorf("request %d came %v after a 503 with Retry-After: 120", i, rec[i].At.Sub(rec[i-1].At))
			}
			if rec[i-1].Answer == 429 && rec[i].At.Sub(rec[i-1].At) < 60*time.Second {
				t.Errorf("request %d came %v after a 429 with Retry-After: 60", i, rec[i].At.Sub(rec[i-1].At))
			}
		}
	})
}

func TestManagerOfflineMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.ExpiresIn(48*time.Hour))
		r.cfg.ServerURL = ""
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		if len(r.cp.Received()) != 0 {
			t.Fatal("offline mode talked to the control plane")
		}
		time.Sleep(48*time.Hour + license.DefaultLeeway)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil) // exactly at exp + leeway
		time.Sleep(time.Second)
		synctest.Wait()
		wantState(t, m, license.StateExpired, license.ErrExpired)
	})
}

func TestManagerOfflineClockSetBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.ExpiresIn(48*time.Hour))
		r.cfg.ServerURL = ""
		m := r.open()
		time.Sleep(72 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateExpired, license.ErrExpired)
		m.Close()

		// Setting the clock back to before exp does not revive it: the
		// high-water mark says the licence expired.
		r.offset.Store(int64(-48 * time.Hour))
		m2 := r.open()
		wantState(t, m2, license.StateExpired, license.ErrExpired)
	})
}

func TestManagerUnlicensed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cfg.KeyFile = filepath.Join(t.TempDir(), "missing.json")
		m := r.open()
		wantState(t, m, license.StateUnlicensed, license.ErrKeyFile)
		if len(r.cp.Received()) != 0 {
			t.Fatal("an unlicensed product talked to the control plane")
		}
	})
}

func TestManagerCloseDuringSlowRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cp.Fail(licensetest.Fault{Status: 200, Delay: 24 * time.Hour})
		m := r.open() // the activation hangs
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
		start := time.Now()
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("Close took %v of fake time; it must not wait for the request", d)
		}
		if err := m.Close(); err != nil { // idempotent
			t.Fatal(err)
		}
		wantState(t, m, license.StateInactive, license.ErrNotActivated) // the last snapshot stays readable
	})
}

func TestManagerMaxGraceOnlyShortens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    time.Duration
		env    string
		lockAt time.Duration // after the last lease
	}{
		{"config shortens", 72 * time.Hour, "", 72 * time.Hour},
		{"environment shortens", 0, "48h", 48 * time.Hour},
		{"the shorter of both", 72 * time.Hour, "48h", 48 * time.Hour},
		{"config cannot lengthen", 30 * 24 * time.Hour, "", 14 * 24 * time.Hour},
		{"environment cannot lengthen", 0, "720h", 14 * 24 * time.Hour},
		{"garbage in the environment is ignored", 0, "forever", 14 * 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(license.EnvGrace, tc.env)
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t)
				r.cfg.MaxGrace = tc.cfg
				m := r.open()
				r.cp.SetDown(true) // the activation's lease is the last one
				time.Sleep(tc.lockAt - time.Minute)
				synctest.Wait()
				wantState(t, m, license.StateGrace, nil)
				time.Sleep(2 * time.Minute)
				synctest.Wait()
				wantState(t, m, license.StateLocked, license.ErrGraceExpired)
			})
		})
	}
}

func TestManagerActivationOptional(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cfg.ActivationOptional = true
		r.cp.SetDown(true)
		m := r.open()
		wantState(t, m, license.StateActive, nil) // runs before its first activation
		r.cp.SetDown(false)
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		if r.cp.Count("activate") != 1 {
			t.Fatal("it never activated once the control plane was back")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t) // the default: activation required
		r.cp.SetDown(true)
		m := r.open()
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
	})
}

// A clock set back (within the bound) and then vouched for by the control
// plane does not stretch the licence itself: the newest lease's signed iat
// is a lower bound of real time, and the licence expires by it.
func TestManagerLicenceExpiresOnServerTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.ExpiresIn(30*24*time.Hour))
		m := r.open()
		time.Sleep(24*time.Hour + 30*time.Minute)
		r.offset.Store(int64(-11 * time.Hour))
		time.Sleep(time.Hour) // a heartbeat vouches for the clock
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		// Five hours past the licence's exp in real time; on the clock,
		// eleven hours behind, six hours before it.
		time.Sleep(30*24*time.Hour + 5*time.Hour - (25*time.Hour + 30*time.Minute))
		synctest.Wait()
		wantState(t, m, license.StateExpired, license.ErrExpired)
	})
}
