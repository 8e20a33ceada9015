package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

func signingKey(kid string, created time.Time) controlplane.SigningKey {
	return controlplane.SigningKey{
		KID: kid, Alg: "EdDSA", State: controlplane.SigningPending,
		PublicJWK: []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + kid + `"}`),
		Sealed:    []byte{0, 1, 2, 0xff, 0},
		CreatedAt: created,
	}
}

func signingStates(t *testing.T, s controlplane.Store) map[string]string {
	t.Helper()
	ks, err := s.ListSigningKeys(ctx)
	noErr(t, "ListSigningKeys", err)
	out := make(map[string]string, len(ks))
	active := 0
	for _, k := range ks {
		out[k.KID] = k.State
		if k.State == controlplane.SigningActive {
			active++
		}
	}
	if active > 1 {
		t.Fatalf("%d active signing keys: %v", active, out)
	}
	return out
}

func wantStates(t *testing.T, s controlplane.Store, want map[string]string) {
	t.Helper()
	same(t, "signing-key states", want, signingStates(t, s))
}

var signingTests = []subtest{
	{"CreateListCopies", func(t *testing.T, s controlplane.Store) {
		k1 := signingKey("kid_1", at(time.Hour))
		k2 := signingKey("kid_2", t0) // older, created second
		k3 := signingKey("kid_3", at(2*time.Hour))
		k3.State = "" // taken as pending
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, k1, event("signing.manage", "kid_1", "", t0)))
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, k2))
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, k3))
		k1.PublicJWK[0], k1.Sealed[0] = 'x', 9
		ks, err := s.ListSigningKeys(ctx)
		noErr(t, "ListSigningKeys", err)
		k3.State = controlplane.SigningPending
		same(t, "signing keys, oldest first", []controlplane.SigningKey{signingKey("kid_2", t0), signingKey("kid_1", at(time.Hour)), k3}, ks)
		ks[0].Sealed[1] = 7
		ks[0].State = controlplane.SigningActive
		again, err := s.ListSigningKeys(ctx)
		noErr(t, "ListSigningKeys", err)
		same(t, "after changing a returned key", signingKey("kid_2", t0), again[0])
		wantEventCount(t, s, 1)
	}},
	{"CreateRefusals", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_1", t0)))
		dup := signingKey("kid_1", at(time.Hour))
		dup.Alg = "ES256"
		wantErr(t, "CreateSigningKey of a known kid", s.CreateSigningKey(ctx, dup, event("signing.manage", "kid_1", "", t0)), controlplane.ErrAlreadyExists)
		for _, st := range []string{controlplane.SigningActive, controlplane.SigningInactive, controlplane.SigningRetired, "bogus"} {
			k := signingKey("kid_"+st, t0)
			k.State = st
			wantErr(t, "CreateSigningKey "+st, s.CreateSigningKey(ctx, k, event("signing.manage", k.KID, "", t0)), controlplane.ErrInvalid)
		}
		ks, err := s.ListSigningKeys(ctx)
		noErr(t, "ListSigningKeys", err)
		same(t, "keys after refusals", []controlplane.SigningKey{signingKey("kid_1", t0)}, ks)
		wantEventCount(t, s, 0)
	}},
	{"ActivateAndRetire", func(t *testing.T, s controlplane.Store) {
		for i := range 3 {
			noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey(fmt.Sprintf("kid_%d", i+1), at(time.Duration(i)*time.Minute))))
		}
		wantErr(t, "ActivateSigningKey unknown", s.ActivateSigningKey(ctx, "kid_9", t0, event("signing.manage", "kid_9", "", t0)), controlplane.ErrNotFound)
		wantErr(t, "RetireSigningKey unknown", s.RetireSigningKey(ctx, "kid_9", t0, event("signing.manage", "kid_9", "", t0)), controlplane.ErrNotFound)
		wantEventCount(t, s, 0)

		noErr(t, "activate kid_1", s.ActivateSigningKey(ctx, "kid_1", at(time.Hour), event("signing.manage", "kid_1", "", t0)))
		wantStates(t, s, map[string]string{"kid_1": "active", "kid_2": "pending", "kid_3": "pending"})
		noErr(t, "activate kid_2", s.ActivateSigningKey(ctx, "kid_2", at(2*time.Hour)))
		wantStates(t, s, map[string]string{"kid_1": "inactive", "kid_2": "active", "kid_3": "pending"})
		ks, _ := s.ListSigningKeys(ctx)
		if !ks[0].ActivatedAt.Equal(at(time.Hour)) || !ks[1].ActivatedAt.Equal(at(2*time.Hour)) || !ks[2].ActivatedAt.IsZero() {
			t.Fatalf("ActivatedAt: %v %v %v", ks[0].ActivatedAt, ks[1].ActivatedAt, ks[2].ActivatedAt)
		}

		// Activating the active key changes nothing but is audited.
		noErr(t, "activate kid_2 again", s.ActivateSigningKey(ctx, "kid_2", at(3*time.Hour), event("signing.manage", "kid_2", "", t0)))
		again, _ := s.ListSigningKeys(ctx)
		same(t, "keys after activating the active one", ks, again)
		wantEventCount(t, s, 2)

		wantErr(t, "retire the active key", s.RetireSigningKey(ctx, "kid_2", at(4*time.Hour), event("signing.manage", "kid_2", "", t0)), controlplane.ErrConflict)
		wantStates(t, s, map[string]string{"kid_1": "inactive", "kid_2": "active", "kid_3": "pending"})
		wantEventCount(t, s, 2)

		noErr(t, "retire inactive kid_1", s.RetireSigningKey(ctx, "kid_1", at(4*time.Hour), event("signing.manage", "kid_1", "", t0)))
		noErr(t, "retire pending kid_3", s.RetireSigningKey(ctx, "kid_3", at(5*time.Hour)))
		wantStates(t, s, map[string]string{"kid_1": "retired", "kid_2": "active", "kid_3": "retired"})
		ks, _ = s.ListSigningKeys(ctx)
		if !ks[0].RetiredAt.Equal(at(4*time.Hour)) || !ks[1].RetiredAt.IsZero() || !ks[2].RetiredAt.Equal(at(5*time.Hour)) {
			t.Fatalf("RetiredAt: %v %v %v", ks[0].RetiredAt, ks[1].RetiredAt, ks[2].RetiredAt)
		}
		wantErr(t, "retire twice", s.RetireSigningKey(ctx, "kid_1", at(6*time.Hour)), controlplane.ErrConflict)
		wantErr(t, "activate retired", s.ActivateSigningKey(ctx, "kid_1", at(6*time.Hour), event("signing.manage", "kid_1", "", t0)), controlplane.ErrConflict)
		wantStates(t, s, map[string]string{"kid_1": "retired", "kid_2": "active", "kid_3": "retired"})
		wantEventCount(t, s, 3)
	}},
	{"ReactivateInactive", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_1", t0)))
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_2", at(time.Minute))))
		noErr(t, "activate kid_1", s.ActivateSigningKey(ctx, "kid_1", at(time.Hour)))
		noErr(t, "activate kid_2", s.ActivateSigningKey(ctx, "kid_2", at(2*time.Hour)))
		noErr(t, "activate kid_1 again", s.ActivateSigningKey(ctx, "kid_1", at(3*time.Hour)))
		wantStates(t, s, map[string]string{"kid_1": "active", "kid_2": "inactive"})
		ks, _ := s.ListSigningKeys(ctx)
		if !ks[0].ActivatedAt.Equal(at(3 * time.Hour)) {
			t.Fatalf("ActivatedAt of the reactivated key: %v", ks[0].ActivatedAt)
		}
	}},
	{"ConcurrentActivationsLeaveOneActive", func(t *testing.T, s controlplane.Store) {
		const n = 8
		for i := range n {
			noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey(fmt.Sprintf("kid_%d", i), at(time.Duration(i)*time.Second))))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = retryConflict(func() error {
					return s.ActivateSigningKey(ctx, fmt.Sprintf("kid_%d", i), at(time.Hour), event("signing.manage", "x", "", t0))
				})
			})
		}
		wg.Wait()
		active := 0
		for i, err := range errs {
			noErr(t, fmt.Sprintf("activation %d", i), err)
		}
		for kid, st := range signingStates(t, s) {
			switch st {
			case controlplane.SigningActive:
				active++
			case controlplane.SigningInactive:
			default:
				t.Fatalf("%s is %s after every key was activated", kid, st)
			}
		}
		if active != 1 {
			t.Fatalf("%d active keys after concurrent activations", active)
		}
		wantEventCount(t, s, n)
	}},
	{"ActivateFirstOnlyWhileNoneActive", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_1", t0)))
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_2", at(time.Minute))))
		noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_3", at(2*time.Minute))))
		noErr(t, "RetireSigningKey", s.RetireSigningKey(ctx, "kid_3", at(time.Hour)))
		wantErr(t, "ActivateFirstSigningKey unknown", s.ActivateFirstSigningKey(ctx, "kid_9", t0, event("signing.manage", "kid_9", "", t0)), controlplane.ErrNotFound)
		wantErr(t, "ActivateFirstSigningKey retired", s.ActivateFirstSigningKey(ctx, "kid_3", t0, event("signing.manage", "kid_3", "", t0)), controlplane.ErrConflict)
		wantEventCount(t, s, 0)

		noErr(t, "ActivateFirstSigningKey kid_2", s.ActivateFirstSigningKey(ctx, "kid_2", at(2*time.Hour), event("signing.manage", "kid_2", "", t0)))
		wantStates(t, s, map[string]string{"kid_1": "pending", "kid_2": "active", "kid_3": "retired"})
		ks, _ := s.ListSigningKeys(ctx)
		if !ks[1].ActivatedAt.Equal(at(2 * time.Hour)) {
			t.Fatalf("ActivatedAt of the first key: %v", ks[1].ActivatedAt)
		}
		wantEventCount(t, s, 1)

		wantErr(t, "ActivateFirstSigningKey kid_1 with kid_2 active", s.ActivateFirstSigningKey(ctx, "kid_1", at(3*time.Hour), event("signing.manage", "kid_1", "", t0)), controlplane.ErrConflict)
		wantErr(t, "ActivateFirstSigningKey of the active key", s.ActivateFirstSigningKey(ctx, "kid_2", at(3*time.Hour), event("signing.manage", "kid_2", "", t0)), controlplane.ErrConflict)
		again, _ := s.ListSigningKeys(ctx)
		same(t, "keys after refused first activations", ks, again)
		wantEventCount(t, s, 1)

		// It is only a first activation: an ordinary one still rotates.
		noErr(t, "activate kid_1", s.ActivateSigningKey(ctx, "kid_1", at(4*time.Hour)))
		wantStates(t, s, map[string]string{"kid_1": "active", "kid_2": "inactive", "kid_3": "retired"})
	}},
	{"ConcurrentFirstActivationsAgree", func(t *testing.T, s controlplane.Store) {
		const n = 8
		for i := range n {
			noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey(fmt.Sprintf("kid_%d", i), at(time.Duration(i)*time.Second))))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = s.ActivateFirstSigningKey(ctx, fmt.Sprintf("kid_%d", i), at(time.Hour), event("signing.manage", "x", "", t0))
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("first activations %d and %d both succeeded", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, controlplane.ErrConflict):
				t.Fatalf("first activation %d: %v, want nil or ErrConflict", i, err)
			}
		}
		if won < 0 {
			t.Fatal("no first activation succeeded")
		}
		want := map[string]string{}
		for i := range n {
			want[fmt.Sprintf("kid_%d", i)] = controlplane.SigningPending
		}
		want[fmt.Sprintf("kid_%d", won)] = controlplane.SigningActive
		wantStates(t, s, want)
		wantEventCount(t, s, 1)
	}},
}
