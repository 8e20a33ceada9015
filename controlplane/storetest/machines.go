package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

func beat(lic, fp string, when time.Time) controlplane.Beat {
	return controlplane.Beat{
		LicenseID: lic, Fingerprint: fp, At: when,
		DueAt: when.Add(90 * time.Minute), LeaseIssuedAt: when, LeaseExpiresAt: when.Add(72 * time.Hour),
		KeySlot: controlplane.SlotSecondary, KeyDigest: "dd44",
	}
}

// applied is m after b.
func applied(m controlplane.Machine, b controlplane.Beat) controlplane.Machine {
	m.LastHeartbeatAt, m.DueAt, m.LeaseIssuedAt, m.LeaseExpiresAt = b.At, b.DueAt, b.LeaseIssuedAt, b.LeaseExpiresAt
	m.KeySlot, m.KeyDigest, m.Dead = b.KeySlot, b.KeyDigest, false
	return m
}

func machineKeys(ms []controlplane.Machine) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m.LicenseID + "/" + m.Fingerprint)
	}
	return b.String()
}

func walkMachines(t *testing.T, s controlplane.Store, f controlplane.MachineFilter, n int) string {
	t.Helper()
	var out []controlplane.Machine
	f.Limit = n
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("ListMachines: the cursor never reaches the end")
		}
		page, next, err := s.ListMachines(ctx, f)
		noErr(t, "ListMachines", err)
		if len(page) > n {
			t.Fatalf("page of %d for limit %d", len(page), n)
		}
		out = append(out, page...)
		if next == "" {
			return machineKeys(out)
		}
		f.Cursor = next
	}
}

var machineTests = []subtest{
	{"RecordBeats", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		released := machine("fp_released")
		released.ReleasedAt = at(time.Minute)
		dead := machine("fp_dead")
		dead.Dead = true
		l.Machines = []controlplane.Machine{machine("fp1"), released, dead, machine("fp_old")}
		l.MaxMachines = 4
		mustCreate(t, s, l)
		want := owned(l)

		b1 := beat("lic_a", "fp1", at(time.Hour))
		bDead := beat("lic_a", "fp_dead", at(time.Hour))
		beats := []controlplane.Beat{
			b1,
			beat("lic_a", "fp_released", at(time.Hour)), // released: ignored
			bDead,                                    // clears Dead
			beat("lic_a", "fp_old", t0),              // not later: ignored
			beat("lic_a", "fp_old", at(-time.Hour)),  // older: ignored
			beat("lic_a", "fp_none", at(time.Hour)),  // no binding: not created
			beat("lic_none", "fp1", at(time.Hour)),   // no licence
			beat("lic_a", "fp1", at(30*time.Minute)), // older than the batch's first
		}
		noErr(t, "RecordBeats", s.RecordBeats(ctx, beats))
		want.Machines[0] = applied(want.Machines[0], b1)
		want.Machines[2] = applied(want.Machines[2], bDead)
		same(t, "licence after the beats", want, mustGet(t, s, "lic_a"))
		_, err := s.GetLicense(ctx, "lic_none")
		wantErr(t, "licence of a stray beat", err, controlplane.ErrNotFound)

		// Within a batch, beats apply in order; the newest one wins.
		b2, b3 := beat("lic_a", "fp1", at(2*time.Hour)), beat("lic_a", "fp1", at(3*time.Hour))
		noErr(t, "RecordBeats", s.RecordBeats(ctx, []controlplane.Beat{b2, b3, beat("lic_a", "fp1", at(150*time.Minute))}))
		want.Machines[0] = applied(want.Machines[0], b3)
		same(t, "licence after an ordered batch", want, mustGet(t, s, "lic_a"))

		noErr(t, "RecordBeats of nothing", s.RecordBeats(ctx, nil))
		same(t, "licence after an empty batch", want, mustGet(t, s, "lic_a"))
		wantEventCount(t, s, 0)
	}},
	{"RecordBeatsAfterRelease", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Machines[0].ReleasedAt = at(time.Minute)
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		before := mustGet(t, s, "lic_a")
		noErr(t, "RecordBeats", s.RecordBeats(ctx, []controlplane.Beat{beat("lic_a", before.Machines[0].Fingerprint, at(time.Hour))}))
		same(t, "released binding after a beat", before, mustGet(t, s, "lic_a"))
		_, err = s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Machines = nil
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		noErr(t, "RecordBeats", s.RecordBeats(ctx, []controlplane.Beat{beat("lic_a", before.Machines[0].Fingerprint, at(2*time.Hour))}))
		if got := mustGet(t, s, "lic_a"); len(got.Machines) != 0 {
			t.Fatalf("a beat recreated a removed binding: %+v", got.Machines)
		}
	}},
	{"ListOrderPagingAndFilters", func(t *testing.T, s controlplane.Store) {
		for _, c := range []struct{ id, tenant string }{{"lic_b", "ten_a"}, {"lic_a", "ten_b"}, {"lic_c", "ten_a"}} {
			l := license(c.id, c.tenant)
			l.Machines = []controlplane.Machine{machine("fp_z"), machine("fp_a"), machine("fp_m")}
			mustCreate(t, s, l)
		}
		all := "lic_a/fp_a lic_a/fp_m lic_a/fp_z lic_b/fp_a lic_b/fp_m lic_b/fp_z lic_c/fp_a lic_c/fp_m lic_c/fp_z"
		cases := []struct {
			f    controlplane.MachineFilter
			want string
		}{
			{controlplane.MachineFilter{}, all},
			{controlplane.MachineFilter{LicenseID: "lic_b"}, "lic_b/fp_a lic_b/fp_m lic_b/fp_z"},
			{controlplane.MachineFilter{TenantID: "ten_a"}, "lic_b/fp_a lic_b/fp_m lic_b/fp_z lic_c/fp_a lic_c/fp_m lic_c/fp_z"},
			{controlplane.MachineFilter{TenantID: "ten_b", LicenseID: "lic_b"}, ""},
			{controlplane.MachineFilter{LicenseID: "lic_none"}, ""},
		}
		for _, c := range cases {
			for _, n := range []int{1, 2, 4, 100} {
				if got := walkMachines(t, s, c.f, n); got != c.want {
					t.Errorf("filter %+v limit %d: %q, want %q", c.f, n, got, c.want)
				}
			}
		}
		page, next, err := s.ListMachines(ctx, controlplane.MachineFilter{})
		noErr(t, "ListMachines", err)
		if next != "" || len(page) != 9 || page[0].TenantID != "ten_b" || page[0].LicenseID != "lic_a" {
			t.Fatalf("one page of every machine: %d, next %q, first %+v", len(page), next, page[0])
		}
		want := machine("fp_z")
		want.LicenseID, want.TenantID = "lic_a", "ten_b"
		same(t, "listed machine", want, page[2])
	}},
	{"StateFilter", func(t *testing.T, s controlplane.Store) {
		now := at(10 * time.Hour)
		mk := func(fp string, due, exp time.Duration, dead bool) controlplane.Machine {
			m := machine(fp)
			m.DueAt, m.LeaseExpiresAt, m.Dead = now.Add(due), now.Add(exp), dead
			return m
		}
		l := license("lic_a", "ten_a")
		l.Machines = []controlplane.Machine{
			mk("fp_alive", time.Minute, time.Hour, false),
			mk("fp_alive_edge", 0, time.Hour, false), // due exactly now: still alive
			mk("fp_overdue", -time.Minute, time.Hour, false),
			mk("fp_dead_exp", -time.Hour, 0, false), // lease ends now: dead
			mk("fp_dead_late", -2*time.Hour, -time.Hour, false),
			mk("fp_dead_flag", time.Minute, time.Hour, true),
		}
		mustCreate(t, s, l)
		l2 := license("lic_b", "ten_b")
		l2.Machines = []controlplane.Machine{mk("fp_alive", time.Minute, time.Hour, false), mk("fp_dead", -2*time.Hour, -time.Hour, false)}
		mustCreate(t, s, l2)
		cases := []struct {
			f    controlplane.MachineFilter
			want string
		}{
			{controlplane.MachineFilter{State: controlplane.MachineAlive, Now: now}, "lic_a/fp_alive lic_a/fp_alive_edge lic_b/fp_alive"},
			{controlplane.MachineFilter{State: controlplane.MachineOverdue, Now: now}, "lic_a/fp_overdue"},
			{controlplane.MachineFilter{State: controlplane.MachineDead, Now: now}, "lic_a/fp_dead_exp lic_a/fp_dead_flag lic_a/fp_dead_late lic_b/fp_dead"},
			{controlplane.MachineFilter{State: controlplane.MachineDead, Now: now, TenantID: "ten_b"}, "lic_b/fp_dead"},
			{controlplane.MachineFilter{State: controlplane.MachineAlive, Now: now, LicenseID: "lic_a"}, "lic_a/fp_alive lic_a/fp_alive_edge"},
			{controlplane.MachineFilter{State: controlplane.MachineDead, Now: now.Add(24 * time.Hour)}, "lic_a/fp_alive lic_a/fp_alive_edge lic_a/fp_dead_exp lic_a/fp_dead_flag lic_a/fp_dead_late lic_a/fp_overdue lic_b/fp_alive lic_b/fp_dead"},
			{controlplane.MachineFilter{Now: now}, "lic_a/fp_alive lic_a/fp_alive_edge lic_a/fp_dead_exp lic_a/fp_dead_flag lic_a/fp_dead_late lic_a/fp_overdue lic_b/fp_alive lic_b/fp_dead"},
		}
		for _, c := range cases {
			for _, n := range []int{1, 3, 100} {
				got := walkMachines(t, s, c.f, n)
				if got != c.want {
					t.Errorf("filter %s at %v limit %d: %q, want %q", c.f.State, c.f.Now.Sub(now), n, got, c.want)
				}
				// The state the store filtered on is the one MachineState derives.
				page, _, err := s.ListMachines(ctx, c.f)
				noErr(t, "ListMachines", err)
				for _, m := range page {
					if st := controlplane.MachineState(m, c.f.Now); c.f.State != "" && st != c.f.State {
						t.Errorf("listed %s as %s, MachineState says %s", m.Fingerprint, c.f.State, st)
					}
				}
			}
		}
		for _, f := range []controlplane.MachineFilter{
			{State: controlplane.MachineAlive},
			{State: "zombie", Now: now},
			{State: "alive' OR '1'='1", Now: now},
		} {
			_, _, err := s.ListMachines(ctx, f)
			wantErr(t, fmt.Sprintf("ListMachines state %q now %v", f.State, f.Now), err, controlplane.ErrInvalid)
		}
	}},
	{"ManyMachinesPaged", func(t *testing.T, s controlplane.Store) {
		var want []string
		for i := range 7 {
			l := license(fmt.Sprintf("lic_%d", i), "ten_a")
			l.Machines = nil
			for j := range 180 {
				fp := fmt.Sprintf("fp_%03d", j)
				l.Machines = append(l.Machines, machine(fp))
				want = append(want, l.ID+"/"+fp)
			}
			mustCreate(t, s, l)
		}
		slices.Sort(want)
		for _, c := range []struct{ limit, n int }{{0, 100}, {1000, 1000}, {5000, 1000}} {
			page, next, err := s.ListMachines(ctx, controlplane.MachineFilter{Page: controlplane.Page{Limit: c.limit}})
			noErr(t, "ListMachines", err)
			if machineKeys(page) != strings.Join(want[:c.n], " ") || next == "" {
				t.Fatalf("limit %d: %d machines, next %q", c.limit, len(page), next)
			}
		}
		if got := walkMachines(t, s, controlplane.MachineFilter{}, 1000); got != strings.Join(want, " ") {
			t.Fatalf("walk of %d machines: %d listed", len(want), strings.Count(got, " ")+1)
		}
	}},
}
