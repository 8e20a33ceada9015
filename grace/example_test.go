package grace_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/licensekit/licensekit/grace"
)

// verdict names Check's answer for the examples.
func verdict(err error) string {
	for _, e := range []error{grace.ErrRevoked, grace.ErrClockTampered, grace.ErrNoLease, grace.ErrSuspended, grace.ErrGraceExpired} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// A product keeps the newest lease from its control plane and, offline,
// runs on it until the lease's exp.
func Example() {
	dir, err := os.MkdirTemp("", "grace-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lease := &grace.Lease{
		Token: "eyJ0eXAiOiJsZWFzZStqd3QifQ.stand-in.signature", ID: "lea_1", LicenseID: "lic_1",
		Status: grace.StatusActive, IssuedAt: issued, ExpiresAt: issued.Add(14 * 24 * time.Hour),
	}
	// Stands in for license's (*Verifier).VerifyLease, which checks the signature.
	verify := func(token string) (*grace.Lease, error) {
		if token != lease.Token {
			return nil, errors.New("invalid signature")
		}
		l := *lease
		return &l, nil
	}

	store, err := grace.Open(grace.Options{
		Dir: dir, AppID: "acme-appliance", LicenseID: "lic_1",
		SealKey: "machine-hash", VerifyLease: verify,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// After a successful heartbeat: keep the newest lease, with the local
	// time it arrived (the window runs on the local clock from there).
	received := *lease
	received.ReceivedAt = issued
	if err := store.Save(grace.State{Lease: &received, LastState: "active"}); err != nil {
		fmt.Println(err)
		return
	}

	// Offline, on each check: record the clock, then judge.
	for _, now := range []time.Time{
		issued.Add(3 * 24 * time.Hour),                    // three days into the outage
		issued.Add(14 * 24 * time.Hour),                   // at the lease's exp: still allowed
		issued.Add(14*24*time.Hour + time.Second),         // one second later
		issued.Add(14*24*time.Hour - 3*24*time.Hour + 42), // the clock set back three days
	} {
		st, err := store.Observe(now)
		if err != nil {
			fmt.Println(err)
			return
		}
		w, err := store.Policy().Check(st, now)
		if err != nil {
			fmt.Println(verdict(err))
			continue
		}
		fmt.Println("ok:", w.Remaining, "left")
	}
	// Output:
	// ok: 264h0m0s left
	// ok: 0s left
	// grace: offline grace period expired
	// grace: system clock was set back
}

func ExamplePolicy_Check() {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st := grace.State{
		Lease: &grace.Lease{Status: grace.StatusActive, IssuedAt: issued, ExpiresAt: issued.Add(14 * 24 * time.Hour),
			ReceivedAt: issued}, // the local clock when it arrived
		HighWater: issued.Add(72 * time.Hour), // the latest clock reading seen
	}
	for _, c := range []struct {
		policy grace.Policy
		now    time.Time
	}{
		{grace.Policy{}, issued.Add(72 * time.Hour)},
		{grace.Policy{}, issued.Add(72*time.Hour - 59*time.Minute)}, // tolerated, but adds nothing
		{grace.Policy{}, issued.Add(72*time.Hour - 61*time.Minute)},
		{grace.Policy{MaxGrace: 7 * 24 * time.Hour}, issued.Add(72 * time.Hour)},  // configuration shortens…
		{grace.Policy{MaxGrace: 90 * 24 * time.Hour}, issued.Add(72 * time.Hour)}, // …but never extends
	} {
		w, err := c.policy.Check(st, c.now)
		if err != nil {
			fmt.Println(verdict(err))
			continue
		}
		fmt.Printf("ok: %v left, deadline %s\n", w.Remaining, w.Deadline.Format(time.DateOnly))
	}
	// Output:
	// ok: 264h0m0s left, deadline 2026-03-15
	// ok: 264h0m0s left, deadline 2026-03-15
	// grace: system clock was set back
	// ok: 96h0m0s left, deadline 2026-03-08
	// ok: 264h0m0s left, deadline 2026-03-15
}

// Update is a read-modify-write under the lock: here, an activation's
// idempotency key is made once and kept across restarts and processes.
func ExampleStore_Update() {
	dir, err := os.MkdirTemp("", "grace-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	opts := grace.Options{
		Dir: dir, AppID: "acme-appliance", LicenseID: "lic_1", SealKey: "machine-hash",
		VerifyLease: func(string) (*grace.Lease, error) { return nil, errors.New("no leases in this example") },
	}
	for run := 1; run <= 2; run++ { // two runs of the product
		store, err := grace.Open(opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		var key string
		err = store.Update(func(st *grace.State) error {
			if st.ActivationKey == "" {
				st.ActivationKey = fmt.Sprintf("act_%d", run) // a random id in real life
			}
			key = st.ActivationKey
			return nil
		})
		fmt.Println(key, err)
	}
	// Output:
	// act_1 <nil>
	// act_1 <nil>
}
