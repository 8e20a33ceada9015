package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// sweepFixture stores licences and machines on both sides of now and
// returns now with what a sweep at now must change.
func sweepFixture(t *testing.T, s controlplane.Store) (now time.Time, expired, dead []string) {
	t.Helper()
	now = at(100 * time.Hour)
	mk := func(id, status string, exp time.Duration, leases ...time.Duration) {
		l := license(id, "ten_"+id)
		l.Status, l.ExpiresAt, l.Machines = status, now.Add(exp), nil
		for i, le := range leases {
			m := machine(string(rune('a'+i)) + "_fp")
			m.LeaseExpiresAt = now.Add(le)
			l.Machines = append(l.Machines, m)
		}
		mustCreate(t, s, l)
	}
	mk("lic_active_past", controlplane.StatusActive, -time.Microsecond, -time.Hour, time.Hour)
	mk("lic_susp_past", controlplane.StatusSuspended, -time.Hour)
	mk("lic_revoked_past", controlplane.StatusRevoked, -time.Hour, -time.Hour)
	mk("lic_deleted_past", controlplane.StatusDeleted, -time.Hour)
	mk("lic_expired_past", controlplane.StatusExpired, -time.Hour)
	mk("lic_active_now", controlplane.StatusActive, 0, 0)
	mk("lic_active_future", controlplane.StatusActive, time.Hour, -time.Microsecond, -time.Hour, 0)
	_, err := s.UpdateLicense(ctx, "lic_active_future", func(l *controlplane.License) ([]controlplane.Event, error) {
		l.Machines[1].Dead = true // found dead before: not again
		return nil, nil
	})
	noErr(t, "UpdateLicense", err)
	return now, []string{"lic_active_past", "lic_susp_past"},
		[]string{"lic_active_future/a_fp", "lic_active_past/a_fp", "lic_revoked_past/a_fp"}
}

var sweepTests = []subtest{
	{"ChangesAndAuditsOnce", func(t *testing.T, s controlplane.Store) {
		now, expired, dead := sweepFixture(t, s)
		res, err := s.Sweep(ctx, now, "key_sweeper", "req_1")
		noErr(t, "Sweep", err)
		if !slices.Equal(res.Expired, expired) || machineKeys(res.Dead) != machineKeys(fromKeys(dead)) {
			t.Fatalf("Sweep: expired %q dead %q; want %q and %q", res.Expired, machineKeys(res.Dead), expired, dead)
		}
		for _, m := range res.Dead {
			if !m.Dead || m.TenantID != "ten_"+m.LicenseID {
				t.Fatalf("reported machine not dead or not owned: %+v", m)
			}
		}
		for _, id := range expired {
			l := mustGet(t, s, id)
			if l.Status != controlplane.StatusExpired || !l.UpdatedAt.Equal(now) {
				t.Fatalf("%s after the sweep: status %s, updated %v", id, l.Status, l.UpdatedAt)
			}
		}
		for id, st := range map[string]string{"lic_revoked_past": "revoked", "lic_deleted_past": "deleted", "lic_active_now": "active", "lic_active_future": "active"} {
			if l := mustGet(t, s, id); l.Status != st || !l.UpdatedAt.Equal(t0) {
				t.Fatalf("%s after the sweep: status %s, updated %v; want %s untouched", id, l.Status, l.UpdatedAt, st)
			}
		}
		for _, ms := range [][]controlplane.Machine{mustGet(t, s, "lic_active_now").Machines, mustGet(t, s, "lic_active_past").Machines[1:]} {
			if ms[0].Dead {
				t.Fatalf("a machine whose lease has not ended before now is dead: %+v", ms[0])
			}
		}
		if ms := mustGet(t, s, "lic_active_future").Machines; !ms[0].Dead || !ms[1].Dead || ms[2].Dead {
			t.Fatalf("machines of lic_active_future: %+v", ms)
		}

		evs := allEvents(t, s)
		var sweeps, deaths []string
		for _, e := range evs {
			if e.Actor != "key_sweeper" || e.RequestID != "req_1" || !e.Time.Equal(now) || e.TenantID != "ten_"+e.Target {
				t.Fatalf("sweep event: %+v", e)
			}
			switch e.Action {
			case "license.sweep":
				sweeps = append(sweeps, e.Target)
				if want := map[string]string{"lic_active_past": "active", "lic_susp_past": "suspended"}[e.Target]; e.Details["from"] != want {
					t.Fatalf("sweep event of %s: details %v, want from %s", e.Target, e.Details, want)
				}
			case "machine.dead":
				deaths = append(deaths, e.Target+"/"+e.Details["fingerprint"])
			default:
				t.Fatalf("unexpected event %+v", e)
			}
		}
		slices.Sort(sweeps)
		slices.Sort(deaths)
		if !slices.Equal(sweeps, expired) || !slices.Equal(deaths, dead) {
			t.Fatalf("events: sweeps %q deaths %q", sweeps, deaths)
		}

		// A second sweep at the same time changes and audits nothing.
		before := allLicenses(t, s)
		res, err = s.Sweep(ctx, now, "key_sweeper", "req_2")
		noErr(t, "second Sweep", err)
		if len(res.Expired) != 0 || len(res.Dead) != 0 {
			t.Fatalf("second Sweep changed %+v", res)
		}
		same(t, "licences after a second sweep", before, allLicenses(t, s))
		wantEventCount(t, s, len(evs))

		// Later, the licence that expired at now and the lease that ended at now go.
		res, err = s.Sweep(ctx, now.Add(time.Microsecond), "system", "req_3")
		noErr(t, "later Sweep", err)
		if !slices.Equal(res.Expired, []string{"lic_active_now"}) ||
			machineKeys(res.Dead) != "lic_active_future/c_fp lic_active_now/a_fp" {
			t.Fatalf("later Sweep: %q %q", res.Expired, machineKeys(res.Dead))
		}
	}},
	{"EmptyStore", func(t *testing.T, s controlplane.Store) {
		res, err := s.Sweep(ctx, t0, "system", "req")
		noErr(t, "Sweep", err)
		if len(res.Expired)+len(res.Dead) != 0 {
			t.Fatalf("Sweep of nothing: %+v", res)
		}
		wantEventCount(t, s, 0)
	}},
	{"ConcurrentSweepsGiveTheResultOfOne", func(t *testing.T, s controlplane.Store) {
		now, expired, dead := sweepFixture(t, s)
		const n = 8
		results := make([]controlplane.SweepResult, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = retryConflict(func() error {
					var err error
					results[i], err = s.Sweep(ctx, now, "system", "req")
					return err
				})
			})
		}
		wg.Wait()
		var gotExpired, gotDead []string
		for i := range n {
			noErr(t, "Sweep", errs[i])
			gotExpired = append(gotExpired, results[i].Expired...)
			for _, m := range results[i].Dead {
				gotDead = append(gotDead, m.LicenseID+"/"+m.Fingerprint)
			}
		}
		slices.Sort(gotExpired)
		slices.Sort(gotDead)
		if !slices.Equal(gotExpired, expired) || !slices.Equal(gotDead, dead) {
			t.Fatalf("%d sweeps together expired %q and found dead %q; want each once: %q, %q", n, gotExpired, gotDead, expired, dead)
		}
		wantEventCount(t, s, len(expired)+len(dead))
	}},
}

func fromKeys(keys []string) []controlplane.Machine {
	out := make([]controlplane.Machine, len(keys))
	for i, k := range keys {
		for j := range k {
			if k[j] == '/' {
				out[i] = controlplane.Machine{LicenseID: k[:j], Fingerprint: k[j+1:]}
			}
		}
	}
	return out
}

func allLicenses(t *testing.T, s controlplane.Store) []controlplane.License {
	t.Helper()
	var out []controlplane.License
	cursor := ""
	for {
		page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: 1000, Cursor: cursor}})
		noErr(t, "ListLicenses", err)
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}
