package license_test

import (
	"errors"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// The two slots of a key file are there so that one key can be reset while
// the other keeps the product running: a machine the licence is not bound
// to (a new machine, a wiped disk) whose primary was reset activates with
// the secondary.
func TestManagerPrimaryResetFallsBackToSecondary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cp.Reset(r.lic, license.SlotPrimary)
		m := r.open()
		time.Sleep(time.Minute) // the loop asks again at once, after its minimum interval
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		if s := m.Status(); s.License.Slot != license.SlotSecondary {
			t.Fatalf("running on the %s slot, want the secondary", s.License.Slot)
		}
		if got := r.cp.BoundTo(r.lic); got == "" {
			t.Fatal("the secondary did not bind the machine")
		}
		// It keeps beating with the secondary.
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
	})
}

// With both slots reset, or a key file without a secondary, nothing is left
// to fall back on: the product stays inactive, and says why.
func TestManagerReplacedKeyWithoutFallback(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(r *rig)
	}{
		{"both reset", func(r *rig) {
			r.cp.Reset(r.lic, license.SlotPrimary)
			r.cp.Reset(r.lic, license.SlotSecondary)
		}},
		{"no secondary", func(r *rig) {
			p, _ := r.keyFileTokens()
			r.cfg.KeyFile = r.iss.WriteKeyFile(t.TempDir(), licensetest.Primary(p), licensetest.Secondary(""))
			r.cp.Reset(r.lic, license.SlotPrimary)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t)
				tc.setup(r)
				m := r.open()
				time.Sleep(time.Hour)
				synctest.Wait()
				s := m.Status()
				if s.State == license.StateActive {
					t.Fatalf("active on a replaced key (%s slot)", s.License.Slot)
				}
				if !errors.Is(s.LastError, heartbeat.ErrKeyReplaced) {
					t.Fatalf("last error %v, want heartbeat.ErrKeyReplaced", s.LastError)
				}
				if r.cp.BoundTo(r.lic) != "" {
					t.Fatal("a replaced key bound the machine")
				}
			})
		})
	}
}

// A refusal as replaced is about the key the request presented. When the
// key file is replaced (here by a newer primary of the same licence) while
// a request with the old primary is on its way, the answer that refuses
// the old primary must not turn the new one aside for the secondary.
func TestManagerStaleKeyReplacedKeepsNewPrimary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		_, secondary := r.keyFileTokens()
		// The activation with the old primary is answered late, as
		// replaced (what a proxy, or the control plane after a reset,
		// says of that key).
		r.cp.Fail(licensetest.Fault{Status: 400, Delay: 5 * time.Second,
			Body: `{"error":{"code":"KEY_REPLACED","message":"This licence key was replaced"}}`})
		m := r.open()
		time.Sleep(time.Second)
		newer := r.iss.Mint(licensetest.ID(r.lic), licensetest.Slot(license.SlotPrimary), licensetest.Capabilities("kyc:read", "kyc:write"))
		if err := os.WriteFile(r.cfg.KeyFile, r.iss.KeyFile(licensetest.Primary(newer), licensetest.Secondary(secondary)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := m.Reload(); err != nil {
			t.Fatal(err)
		}
		want := m.Status().License
		if want.Slot != license.SlotPrimary {
			t.Fatalf("after Reload: the %s slot, want the new primary", want.Slot)
		}
		time.Sleep(time.Minute) // the late refusal arrives, then the loop asks with the new key
		synctest.Wait()
		s := m.Status()
		if s.License.Slot != license.SlotPrimary || !s.License.IssuedAt.Equal(want.IssuedAt) {
			t.Fatalf("running on the %s slot issued at %v, want the new primary issued at %v (a refusal of the old key switched it)",
				s.License.Slot, s.License.IssuedAt, want.IssuedAt)
		}
		wantState(t, m, license.StateActive, nil)
	})
}
