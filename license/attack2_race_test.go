package license_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// Activate, Deactivate, Reload and Validate racing each other and the
// heartbeat loop: no data race (the test runs with -race), two keys
// activated at once never both win, and after the dust settles the
// manager is in one consistent state.
func TestAttack2ActivateRacesHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		primary, _ := r.keyFileTokens()
		other := r.iss.Mint(licensetest.Capabilities("kyc:write"))
		r.cp.SetInterval(time.Minute)
		r.cfg.KeyFile = ""
		m := r.open()
		ctx := context.Background()
		for round := 0; round < 20; round++ {
			var wg sync.WaitGroup
			results := make([]error, 2)
			for i, key := range []string{primary, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, results[i] = m.Activate(ctx, key)
				}()
			}
			wg.Add(2)
			go func() { defer wg.Done(); _ = m.Reload() }()
			go func() { defer wg.Done(); _, _ = m.Validate(primary) }()
			time.Sleep(90 * time.Second) // heartbeats in between
			wg.Wait()
			wins := 0
			for _, err := range results {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, license.ErrAlreadyActivated):
					t.Fatalf("round %d: Activate = %v", round, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d activations won, want exactly 1", round, wins)
			}
			synctest.Wait()
			wantState(t, m, license.StateActive, nil)
			if err := m.Deactivate(ctx); err != nil {
				t.Fatalf("round %d: Deactivate = %v", round, err)
			}
			wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		}
		if got := activatedKeyFiles(t, r.cfg.StateDir); len(got) != 0 {
			t.Fatalf("activated key files left after the last Deactivate: %v", got)
		}
	})
}
