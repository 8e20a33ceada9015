package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

// twoStores opens two stores on one fresh database, as two server
// processes would: nothing but the database is shared between them.
func twoStores(t *testing.T) (a, b *postgres.Store) {
	t.Helper()
	u := freshDB(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open()
}

var errFull = errors.New("licence full")

// TestTwoStoresBindAtMostMax activates one licence from many clients
// through two stores: the row lock in the database, not a lock of one
// Store, keeps the bound count at the maximum.
func TestTwoStoresBindAtMostMax(t *testing.T) {
	ctx := context.Background()
	a, b := twoStores(t)
	const max, clients = 3, 24
	if err := a.CreateLicense(ctx, controlplane.License{ID: "lic_a", MaxMachines: max}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range clients {
		s := []*postgres.Store{a, b}[i%2]
		wg.Go(func() {
			_, errs[i] = s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
				if len(l.Machines) >= l.MaxMachines {
					return nil, errFull
				}
				l.Machines = append(l.Machines, controlplane.Machine{Fingerprint: fmt.Sprint("fp", i)})
				return []controlplane.Event{{Action: "license.activate", Target: l.ID}}, nil
			})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, errFull):
		default:
			t.Errorf("client %d: %v", i, err)
		}
	}
	l, err := b.GetLicense(ctx, "lic_a")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := a.ListEvents(ctx, controlplane.EventFilter{Target: "lic_a"})
	if err != nil {
		t.Fatal(err)
	}
	if ok != max || len(l.Machines) != max || len(evs) != max {
		t.Fatalf("%d bindings acknowledged, %d stored, %d audited; want %d", ok, len(l.Machines), len(evs), max)
	}
}

// TestTwoStoresSeeEachOther: what one store changes, the other answers at
// once; nothing is cached.
func TestTwoStoresSeeEachOther(t *testing.T) {
	ctx := context.Background()
	a, b := twoStores(t)
	if err := a.CreateLicense(ctx, controlplane.License{ID: "lic_a", Status: controlplane.StatusActive}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetLicense(ctx, "lic_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
		l.Status = controlplane.StatusRevoked
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if l, err := b.GetLicense(ctx, "lic_a"); err != nil || l.Status != controlplane.StatusRevoked {
		t.Fatalf("the other store after a revoke: %+v, %v", l, err)
	}
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, kid := range []string{"kid_1", "kid_2"} {
		if err := a.CreateSigningKey(ctx, controlplane.SigningKey{KID: kid, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		by  *postgres.Store
		kid string
	}{{a, "kid_1"}, {b, "kid_2"}, {a, "kid_1"}} {
		if err := step.by.ActivateSigningKey(ctx, step.kid, now); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*postgres.Store{a, b} {
			ks, err := s.ListSigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range ks {
				if (k.KID == step.kid) != (k.State == controlplane.SigningActive) {
					t.Fatalf("after activating %s: %s is %s", step.kid, k.KID, k.State)
				}
			}
		}
	}
}

// TestTwoStoresSweepOnce sweeps through both stores at once, with
// heartbeat bookkeeping and updates of the same bindings going on: each
// change is made and audited once, and nothing deadlocks.
func TestTwoStoresSweepOnce(t *testing.T) {
	ctx := context.Background()
	a, b := twoStores(t)
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	const licences, machines = 40, 5
	for i := range licences {
		l := controlplane.License{ID: fmt.Sprintf("lic_%03d", i), TenantID: "ten_a", Status: controlplane.StatusActive,
			ExpiresAt: t0.Add(time.Duration(i%2) * 48 * time.Hour), MaxMachines: machines}
		for j := range machines {
			l.Machines = append(l.Machines, controlplane.Machine{Fingerprint: fmt.Sprintf("fp_%d", j),
				LastHeartbeatAt: t0.Add(-time.Hour), LeaseExpiresAt: t0.Add(time.Duration(j%2) * 48 * time.Hour)})
		}
		if err := a.CreateLicense(ctx, l, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(time.Hour)
	var wg sync.WaitGroup
	const sweeps = 8
	results := make([]controlplane.SweepResult, sweeps)
	errs := make([]error, sweeps+2)
	for i := range sweeps {
		s := []*postgres.Store{a, b}[i%2]
		wg.Go(func() { results[i], errs[i] = s.Sweep(ctx, now, "system", fmt.Sprint("req_", i)) })
	}
	// Beats of bindings whose lease has not ended, in the opposite order.
	wg.Go(func() {
		var beats []controlplane.Beat
		for i := licences - 1; i >= 0; i-- {
			for j := machines - 2; j >= 0; j -= 2 {
				at := t0.Add(time.Minute)
				beats = append(beats, controlplane.Beat{LicenseID: fmt.Sprintf("lic_%03d", i), Fingerprint: fmt.Sprintf("fp_%d", j),
					At: at, DueAt: at.Add(time.Hour), LeaseIssuedAt: at, LeaseExpiresAt: at.Add(72 * time.Hour)})
			}
		}
		errs[sweeps] = b.RecordBeats(ctx, beats)
	})
	wg.Go(func() {
		for i := range licences {
			_, err := a.UpdateLicense(ctx, fmt.Sprintf("lic_%03d", i), func(l *controlplane.License) ([]controlplane.Event, error) {
				l.Plan = "yearly"
				return nil, nil
			})
			if err != nil {
				errs[sweeps+1] = err
				return
			}
		}
	})
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	expired, dead := map[string]int{}, map[string]int{}
	for _, r := range results {
		for _, id := range r.Expired {
			expired[id]++
		}
		for _, m := range r.Dead {
			dead[m.LicenseID+"/"+m.Fingerprint]++
		}
	}
	wantDead := licences * ((machines + 1) / 2)
	if len(expired) != licences/2 || len(dead) != wantDead {
		t.Fatalf("%d licences expired, %d machines dead; want %d and %d", len(expired), len(dead), licences/2, wantDead)
	}
	for k, n := range expired {
		if n != 1 {
			t.Fatalf("%s expired by %d sweeps", k, n)
		}
	}
	for k, n := range dead {
		if n != 1 {
			t.Fatalf("%s found dead by %d sweeps", k, n)
		}
	}
	evs, _, err := b.ListEvents(ctx, controlplane.EventFilter{Page: controlplane.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != licences/2+wantDead {
		t.Fatalf("%d events, want one per change: %d", len(evs), licences/2+wantDead)
	}
}
