package license_test

import (
	"errors"
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
