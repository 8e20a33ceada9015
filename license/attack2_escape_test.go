package license_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// keyFileTokens returns the primary and secondary tokens of the rig's key
// file.
func (r *rig) keyFileTokens() (string, string) {
	r.t.Helper()
	kf, err := license.LoadKeyFile(r.cfg.KeyFile)
	if err != nil {
		r.t.Fatal(err)
	}
	return kf.Primary, kf.Secondary
}

// deactivateOnline deactivates with the control plane reachable, then
// cuts the network again, as a customer who wants to start over offline.
func (r *rig) deactivateOnline(m *license.Manager) {
	r.t.Helper()
	r.cp.SetDown(false)
	if err := m.Deactivate(context.Background()); err != nil {
		r.t.Fatalf("Deactivate: %v", err)
	}
	r.cp.SetDown(true)
}

// A revoked licence stays revoked whatever the customer does with keys
// and files while keeping the product away from the control plane:
// deactivate offline (refused), deactivate and activate again with the
// same key, the other slot's key, a renewed key of the same licence, a
// restart, and deleting the activated key and the deactivation record.
func TestAttack2RevokedEscapeByReactivation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		primary, secondary := r.keyFileTokens()
		renewed := r.iss.Mint(licensetest.ID(r.lic), licensetest.Capabilities("kyc:read", "kyc:write"), licensetest.ExpiresIn(2*365*24*time.Hour))
		r.cfg.KeyFile = ""
		m := r.open()
		ctx := context.Background()
		if _, err := m.Activate(ctx, primary); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateActive, nil)
		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)

		// Offline, deactivation is refused and changes nothing.
		r.cp.SetDown(true)
		if err := m.Deactivate(ctx); !errors.Is(err, license.ErrUnavailable) {
			t.Fatalf("offline Deactivate = %v, want ErrUnavailable", err)
		}
		wantState(t, m, license.StateLocked, license.ErrRevoked)

		for name, key := range map[string]string{"same key": primary, "other slot": secondary, "renewed key": renewed} {
			r.deactivateOnline(m)
			if _, err := m.Activate(ctx, key); err != nil {
				t.Fatalf("%s: Activate: %v", name, err)
			}
			synctest.Wait()
			wantState(t, m, license.StateLocked, license.ErrRevoked)
		}

		// A restart offline, then the activated key and the deactivation
		// record deleted by hand: the licence's own state still says revoked.
		m.Close()
		m = r.open()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
		r.deactivateOnline(m)
		m.Close()
		for _, f := range activatedKeyFiles(t, r.cfg.StateDir) {
			_ = os.Remove(f)
		}
		tomb, _ := filepath.Glob(filepath.Join(r.cfg.StateDir, "*.deactivated"))
		for _, f := range tomb {
			_ = os.Remove(f)
		}
		m = r.open()
		if _, err := m.Activate(ctx, renewed); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

// The same with a key file: a renewed key file of the revoked licence
// dropped in place of the old one, picked up by Reload, does not clear
// the revocation.
func TestAttack2RevokedEscapeByReplacedKeyFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
		r.cp.SetDown(true)

		renewed := r.iss.WriteKeyFile(t.TempDir(), licensetest.Tokens(licensetest.ID(r.lic),
			licensetest.Capabilities("kyc:read", "kyc:write"), licensetest.ExpiresIn(2*365*24*time.Hour)))
		data, err := os.ReadFile(renewed)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.cfg.KeyFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := m.Reload(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
		time.Sleep(license.KeyFileCheckInterval + time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

// Offline mode: a clock caught set back locks the product, and
// deactivating and activating the same key again does not unlock it
// while the clock is behind.
func TestAttack2ClockTamperEscapeOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		primary, _ := r.keyFileTokens()
		r.cfg.ServerURL, r.cfg.KeyFile = "", ""
		m := r.open()
		ctx := context.Background()
		if _, err := m.Activate(ctx, primary); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateActive, nil)
		time.Sleep(30 * 24 * time.Hour)
		synctest.Wait()
		r.offset.Store(int64(-10 * 24 * time.Hour))
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)

		if err := m.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Activate(ctx, primary); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)
		m.Close()
		m = r.open()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)
	})
}

// Offline mode: a licence that expired here is not revived by
// deactivating it, setting the clock back to before its exp and
// activating it again, whether the step back is within the tolerance
// or beyond it: the licence's own high-water mark outlives the key.
func TestAttack2ExpiredReactivatedWithClockBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		back time.Duration
	}{
		{"within tolerance", 50 * time.Minute},
		{"beyond tolerance", 3 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, licensetest.ExpiresIn(48*time.Hour))
				primary, _ := r.keyFileTokens()
				r.cfg.ServerURL, r.cfg.KeyFile = "", ""
				m := r.open()
				ctx := context.Background()
				if _, err := m.Activate(ctx, primary); err != nil {
					t.Fatal(err)
				}
				time.Sleep(48*time.Hour + license.DefaultLeeway + 10*time.Minute)
				synctest.Wait()
				wantState(t, m, license.StateExpired, license.ErrExpired)
				m.Close() // a clean stop writes the mark
				m = r.open()
				if m.Status().License != nil {
					if err := m.Deactivate(ctx); err != nil {
						t.Fatal(err)
					}
				}
				r.offset.Store(int64(-tc.back))
				// The key verifies on the set-back clock: only the licence's
				// state on this machine stands in the way.
				if _, err := m.Activate(ctx, primary); err != nil {
					t.Fatalf("Activate on the set-back clock = %v", err)
				}
				synctest.Wait()
				if err := m.Require("kyc:write"); !errors.Is(err, license.ErrExpired) && !errors.Is(err, license.ErrClockTampered) {
					t.Fatalf("re-activated on a clock %v back: Require = %v (state %v), want expired or clock tampered",
						tc.back, err, m.Status().State)
				}
				m.Close()
				m = r.open()
				if st := m.Status(); st.State.Allowed() {
					t.Fatalf("after restart the expired licence is %v", st.State)
				}
			})
		})
	}
}

// Two products sharing one state directory never see each other's
// activated key, and a symlink planted at the activated key's path is
// replaced, not written through.
func TestAttack2SharedStateDirAndSymlink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		primary, _ := r.keyFileTokens()
		r.cfg.ServerURL, r.cfg.KeyFile = "", ""
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(r.cfg.StateDir, 0o700); err != nil {
			t.Fatal(err)
		}
		// Learn the activated key's name from a first product, then plant
		// a symlink there for a second start.
		m := r.open()
		if _, err := m.Activate(context.Background(), primary); err != nil {
			t.Fatal(err)
		}
		files := activatedKeyFiles(t, r.cfg.StateDir)
		if len(files) != 1 {
			t.Fatalf("activated key files %v", files)
		}
		if err := m.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
		m.Close()
		if err := os.Symlink(victim, files[0]); err != nil {
			t.Fatal(err)
		}
		m = r.open()
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		if _, err := m.Activate(context.Background(), primary); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(victim); string(data) != "precious" {
			t.Fatalf("the symlink's target was overwritten: %q", data)
		}
		if fi, err := os.Lstat(files[0]); err != nil || fi.Mode()&os.ModeSymlink != 0 {
			t.Fatalf("the activated key is still the planted symlink (%v)", err)
		}

		// Another product, same directory, same vendor keys: nothing of
		// the first product's is in use there.
		other := r.cfg
		other.AppID = "acme-other-product"
		m2, err := license.Open(context.Background(), other)
		if err != nil {
			t.Fatal(err)
		}
		defer m2.Close()
		synctest.Wait()
		wantState(t, m2, license.StateUnlicensed, license.ErrUnlicensed)
	})
}

// Online, a key activated while the control plane cannot be reached
// grants nothing until it answers: there is no lease, so no grace.
func TestAttack2ActivateWhileOfflineGrantsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		primary, _ := r.keyFileTokens()
		r.cfg.KeyFile = ""
		r.cp.SetDown(true)
		m := r.open()
		if _, err := m.Activate(context.Background(), primary); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
		time.Sleep(3 * 24 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
		r.cp.SetDown(false)
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
	})
}
