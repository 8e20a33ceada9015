package license_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
)

const day = 24 * time.Hour

// A renewal reaches a machine that was offline for 10 days: at its next
// contact the answer carries the new key, which it presents from then on,
// also after a restart, without anyone touching the key file.
func TestRenewalReachesMachineOfflineTenDays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 1)
		kf, old := v.keyFile(t.TempDir(), "lic_fleet", 0)
		cfg := v.machine(t, kf, "terminal-1", true)
		m := mustOpen(t, cfg)
		synctest.Wait()
		fieldState(t, m, license.StateActive, "")
		fpr := m.Fingerprint()
		v.set(func(v *vendor) { v.down[fpr] = true })
		time.Sleep(10 * day)
		fieldState(t, m, license.StateGrace, "")

		c := claims("lic_fleet")
		c.Slot = license.SlotPrimary
		c.ExpiresAt = c.ExpiresAt.Add(year) // renewed
		renewed := v.token(0, c)
		v.set(func(v *vendor) { v.down[fpr] = false; v.licenseKey = renewed })
		time.Sleep(2 * time.Hour) // the next beat, and the one it kicks
		synctest.Wait()
		fieldState(t, m, license.StateActive, "")
		got := v.presentedBy(fpr)
		if got[0] != old || got[len(got)-1] != renewed {
			t.Fatalf("presented %d tokens; first is the old key: %v, last is the renewed one: %v",
				len(got), got[0] == old, got[len(got)-1] == renewed)
		}
		if exp := m.Status().License.ExpiresAt; !exp.Equal(c.ExpiresAt.Truncate(time.Second)) {
			t.Fatalf("licence in use expires %v, want the renewal's %v", exp, c.ExpiresAt)
		}
		m.Close()

		v.set(func(v *vendor) { v.licenseKey = "" })
		m = mustOpen(t, cfg)
		defer m.Close()
		synctest.Wait()
		got = v.presentedBy(fpr)
		if got[len(got)-1] != renewed {
			t.Fatal("after a restart the machine presents the key file's old key, not the delivered one")
		}
	})
}

// Delivered keys that are not the licence in use are refused with their
// sentinel and change nothing.
func TestDeliveredKeyHostile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 2) // keys[1] is unknown to the product
		kf, _ := v.keyFile(t.TempDir(), "lic_fleet", 0)
		m := mustOpen(t, v.machine(t, kf, "terminal-1", false))
		defer m.Close()
		time.Sleep(time.Minute) // a newer iat for every key below
		with := func(edit func(*mintClaims)) string {
			c := claims("lic_fleet")
			edit(&c)
			return v.token(0, c)
		}
		good := with(func(*mintClaims) {})
		lease, err := v.signer(0).Lease(leaseFor("lic_fleet"))
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, key string
			want      *license.Error
		}{
			{"another licence", with(func(c *mintClaims) { c.ID = "lic_other" }), license.ErrLicenseKey},
			{"another audience", with(func(c *mintClaims) { c.Audience = []string{"Evil Corp"} }), license.ErrLicenseKey},
			{"another subscription", with(func(c *mintClaims) { c.Subject = "sub_2" }), license.ErrLicenseKey},
			{"another tenant", with(func(c *mintClaims) { c.TenantID = "ten_2" }), license.ErrLicenseKey},
			{"another country", with(func(c *mintClaims) { c.TenantCountry = "FR" }), license.ErrLicenseKey},
			{"older than the key in use", with(func(c *mintClaims) { c.IssuedAt = time.Now().Add(-time.Hour) }), license.ErrLicenseKey},
			{"unknown key", func() string { c := claims("lic_fleet"); return v.token(1, c) }(), license.ErrUnknownKey},
			{"bit flipped", flip(good, len(good)-10), license.ErrSignature},
			{"truncated", good[:strings.LastIndex(good, ".")], license.ErrMalformed}, // cut before its signature
			{"a lease as a key", lease, license.ErrMalformed},
		}
		before := m.Status().License
		for _, c := range cases {
			if err := m.UpdateKey(c.key); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
			if m.Status().License != before {
				t.Fatalf("%s: the licence in use changed", c.name)
			}
		}
		if err := m.UpdateKey(good); err != nil {
			t.Fatalf("the genuine newer key: %v", err)
		}
		if got := m.Status().License.IssuedAt; !got.After(before.IssuedAt) {
			t.Fatal("the genuine newer key is not in use")
		}
	})
}

// A rotation while half the fleet is offline: the vendor announces the
// next key (a statement signed by the old one), then signs with it. The
// online half learns it at once; the offline half at its next contact, and
// keeps running on leases signed by the new key.
func TestRotationHalfFleetOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 2)
		v.leaseTTL = 3 * day // the grace window: the offline half must come back within it
		kf, _ := v.keyFile(t.TempDir(), "lic_fleet", 0)
		var fleet []*license.Manager
		for _, id := range []string{"t-1", "t-2", "t-3", "t-4"} {
			m := mustOpen(t, v.machine(t, kf, id, true))
			defer m.Close()
			fleet = append(fleet, m)
		}
		synctest.Wait()
		offline := fleet[2:]
		for _, m := range offline {
			v.set(func(v *vendor) { v.down[m.Fingerprint()] = true })
		}
		// Create the next key: announced by the active key.
		v.set(func(v *vendor) { v.keyset = v.statement(0, time.Now(), 0, 1) })
		time.Sleep(2 * time.Hour)
		// Activate it: leases are signed by key 1 from now on, and the
		// statement of the change is signed by the old active key.
		v.set(func(v *vendor) { v.active = 1; v.keyset = v.statement(0, time.Now(), 0, 1) })
		time.Sleep(2 * day)
		synctest.Wait()
		byNew := v.token(1, claims("lic_fleet"))
		for i, m := range fleet {
			_, err := m.Validate(byNew)
			switch {
			case i < 2 && (err != nil || m.Status().State != license.StateActive):
				t.Fatalf("online machine %d: %s, %v", i, m.Status().State, err)
			case i >= 2 && (!errors.Is(err, license.ErrUnknownKey) || m.Status().State != license.StateGrace):
				t.Fatalf("offline machine %d: %s, %v", i, m.Status().State, err)
			}
		}
		for _, m := range offline {
			v.set(func(v *vendor) { v.down[m.Fingerprint()] = false })
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		time.Sleep(4 * day) // past the grace of any lease signed by the old key
		synctest.Wait()
		for i, m := range fleet {
			if s := m.Status(); s.State != license.StateActive {
				t.Fatalf("machine %d after the rotation: %s (%v)", i, s.State, s.Err)
			}
			if _, err := m.Validate(byNew); err != nil {
				t.Fatalf("machine %d does not trust the new key: %v", i, err)
			}
		}
	})
}
