package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

var errFull = errors.New("storetest: licence full")

var updateTests = []subtest{
	{"UnknownIsNotFoundAndFnNotCalled", func(t *testing.T, s controlplane.Store) {
		called := false
		_, err := s.UpdateLicense(ctx, "lic_none", func(*controlplane.License) ([]controlplane.Event, error) {
			called = true
			return nil, nil
		})
		wantErr(t, "UpdateLicense", err, controlplane.ErrNotFound)
		if called {
			t.Fatal("fn was called for an unknown licence")
		}
	}},
	{"StoresWhatFnLeft", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"), license("lic_b", "ten_a"))
		var want controlplane.License
		got, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			same(t, "what fn is given", owned(license("lic_a", "ten_a")), *l)
			l.Status = controlplane.StatusSuspended
			l.Plan, l.Subject, l.TenantCountry = "monthly", "sub_new", "FR"
			l.Audience, l.Capabilities = []string{"New GmbH"}, []string{"x"}
			l.Metadata = map[string]string{"k": "v"}
			l.IssuedAt, l.ExpiresAt, l.MaxMachines = at(time.Hour), at(48*time.Hour), 5
			l.Primary, l.PrimaryDigest = "eyJ.new", "cc33"
			l.Secondary, l.SecondaryDigest = "", ""
			l.HeartbeatInterval, l.Grace = 0, time.Minute
			l.UpdatedAt = at(time.Hour)
			m := machine("fp_new")
			m.Offline, m.ActivatedAt = true, at(time.Hour)
			l.Machines = []controlplane.Machine{m, l.Machines[0]}
			l.Machines[1].ReleasedAt = at(time.Hour)
			want = owned(*l)
			return []controlplane.Event{event("license.suspend", l.ID, l.TenantID, at(time.Hour))}, nil
		})
		noErr(t, "UpdateLicense", err)
		same(t, "UpdateLicense's result", want, got)
		same(t, "stored licence", want, mustGet(t, s, "lic_a"))
		same(t, "the other licence", owned(license("lic_b", "ten_a")), mustGet(t, s, "lic_b"))
		evs := allEvents(t, s)
		if len(evs) != 1 || evs[0].Action != "license.suspend" {
			t.Fatalf("events: %+v", evs)
		}
	}},
	{"RemovesMachines", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.Machines = append(l.Machines, machine("fp2"))
		mustCreate(t, s, l)
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Machines = l.Machines[1:]
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		got := mustGet(t, s, "lic_a")
		if len(got.Machines) != 1 || got.Machines[0].Fingerprint != "fp2" {
			t.Fatalf("machines after removing the first: %+v", got.Machines)
		}
		ms, _, err := s.ListMachines(ctx, controlplane.MachineFilter{LicenseID: "lic_a"})
		noErr(t, "ListMachines", err)
		if len(ms) != 1 || ms[0].Fingerprint != "fp2" {
			t.Fatalf("listed machines after removing the first: %+v", ms)
		}
		_, err = s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Machines = nil
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		if got := mustGet(t, s, "lic_a"); len(got.Machines) != 0 {
			t.Fatalf("machines after removing all: %+v", got.Machines)
		}
	}},
	{"FnErrorStoresNothing", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		mustCreate(t, s, l)
		boom := fmt.Errorf("storetest: refused")
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Status = controlplane.StatusRevoked
			l.Machines = append(l.Machines, machine("fp2"))
			l.Metadata["k"] = "v"
			return []controlplane.Event{event("license.revoke", l.ID, l.TenantID, t0)}, boom
		})
		if err != boom {
			t.Fatalf("UpdateLicense returned %v, want fn's error as is", err)
		}
		same(t, "licence after fn's error", owned(l), mustGet(t, s, "lic_a"))
		wantEventCount(t, s, 0)
	}},
	{"IDCannotChange", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		got, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.ID, l.Plan = "lic_z", "monthly"
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		if got.ID != "lic_a" || mustGet(t, s, "lic_a").Plan != "monthly" {
			t.Fatalf("update under a changed ID: %+v", got)
		}
		_, err = s.GetLicense(ctx, "lic_z")
		wantErr(t, "GetLicense of the ID fn set", err, controlplane.ErrNotFound)
	}},
	{"MachinesOwnedByTheLicence", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			m := machine("fp2")
			m.LicenseID, m.TenantID = "lic_b", "ten_b"
			l.Machines = append(l.Machines, m)
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		for _, m := range mustGet(t, s, "lic_a").Machines {
			if m.LicenseID != "lic_a" || m.TenantID != "ten_a" {
				t.Fatalf("machine kept the caller's owner: %+v", m)
			}
		}
	}},
	{"TenantChangeMovesMachines", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.TenantID = "ten_b"
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		ms, _, err := s.ListMachines(ctx, controlplane.MachineFilter{TenantID: "ten_b"})
		noErr(t, "ListMachines", err)
		if len(ms) != 1 || ms[0].TenantID != "ten_b" {
			t.Fatalf("machines of the new tenant: %+v", ms)
		}
	}},
	{"FingerprintTwiceIsInvalid", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		mustCreate(t, s, l)
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Machines = append(l.Machines, l.Machines[0])
			l.Plan = "monthly"
			return []controlplane.Event{event("license.activate", l.ID, l.TenantID, t0)}, nil
		})
		wantErr(t, "UpdateLicense", err, controlplane.ErrInvalid)
		same(t, "licence after a refused update", owned(l), mustGet(t, s, "lic_a"))
		wantEventCount(t, s, 0)
	}},
	{"ConcurrentBindingsNeverExceedMax", func(t *testing.T, s controlplane.Store) {
		const max, clients = 3, 24
		l := license("lic_a", "ten_a")
		l.Machines, l.MaxMachines = nil, max
		mustCreate(t, s, l)
		results := make([]error, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				fp := fmt.Sprintf("fp_%02d", i)
				results[i] = retryConflict(func() error {
					_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
						if len(l.Machines) >= l.MaxMachines {
							return nil, errFull
						}
						l.Machines = append(l.Machines, machine(fp))
						return []controlplane.Event{event("license.activate", l.ID, l.TenantID, t0)}, nil
					})
					return err
				})
			})
		}
		wg.Wait()
		bound := 0
		for i, err := range results {
			switch {
			case err == nil:
				bound++
			case errors.Is(err, errFull):
			default:
				t.Errorf("client %d: %v", i, err)
			}
		}
		got := mustGet(t, s, "lic_a")
		if bound != max || len(got.Machines) != max {
			t.Fatalf("%d clients told bound, %d machines stored; want %d of each", bound, len(got.Machines), max)
		}
		wantEventCount(t, s, max)
	}},
	{"ConcurrentUpdatesLoseNothing", func(t *testing.T, s controlplane.Store) {
		const clients = 32
		l := license("lic_a", "ten_a")
		l.MaxMachines = 0
		mustCreate(t, s, l)
		var wg sync.WaitGroup
		errs := make([]error, clients)
		for i := range clients {
			wg.Go(func() {
				errs[i] = retryConflict(func() error {
					_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
						l.MaxMachines++
						return nil, nil
					})
					return err
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			noErr(t, fmt.Sprintf("client %d", i), err)
		}
		if got := mustGet(t, s, "lic_a").MaxMachines; got != clients {
			t.Fatalf("after %d increments MaxMachines = %d", clients, got)
		}
	}},
}

// retryConflict calls f until it returns anything but ErrConflict, as the
// contract lets a caller do, a bounded number of times.
func retryConflict(f func() error) error {
	var err error
	for range 50 {
		if err = f(); !errors.Is(err, controlplane.ErrConflict) {
			return err
		}
	}
	return err
}
