package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

func apiKey(id, tenant, name string) controlplane.APIKey {
	return controlplane.APIKey{
		ID: id, TenantID: tenant, Name: name, Role: "support",
		Scopes: []string{"admin:tenants", "read:events"}, Hash: []byte{0xde, 0xad, 0, 0xbe, 0xef},
		Hint: "…x9Qz", CreatedAt: t0, CreatedBy: "key_root", ExpiresAt: at(30 * 24 * time.Hour),
	}
}

func keyIDs(ks []controlplane.APIKey) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return strings.Join(out, " ")
}

func walkKeys(t *testing.T, s controlplane.Store, tenant string, n int) string {
	t.Helper()
	var out []controlplane.APIKey
	f := controlplane.APIKeyFilter{Page: controlplane.Page{Limit: n}, TenantID: tenant}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("ListAPIKeys: the cursor never reaches the end")
		}
		page, next, err := s.ListAPIKeys(ctx, f)
		noErr(t, "ListAPIKeys", err)
		if len(page) > n {
			t.Fatalf("page of %d for limit %d", len(page), n)
		}
		out = append(out, page...)
		if next == "" {
			return keyIDs(out)
		}
		f.Cursor = next
	}
}

var apiKeyTests = []subtest{
	{"CreateGetCopies", func(t *testing.T, s controlplane.Store) {
		k := apiKey("key_1", "ten_a", "ci")
		noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, k, event("key.create", "key_1", "ten_a", t0)))
		k.Scopes[0], k.Hash[0] = "x", 0
		got, err := s.GetAPIKey(ctx, "key_1")
		noErr(t, "GetAPIKey", err)
		same(t, "API key", apiKey("key_1", "ten_a", "ci"), got)
		got.Scopes[1], got.Hash[1] = "y", 1
		again, err := s.GetAPIKey(ctx, "key_1")
		noErr(t, "GetAPIKey", err)
		same(t, "after changing a returned key", apiKey("key_1", "ten_a", "ci"), again)
		wantEventCount(t, s, 1)
		_, err = s.GetAPIKey(ctx, "key_2")
		wantErr(t, "GetAPIKey unknown", err, controlplane.ErrNotFound)
	}},
	{"NamesUniquePerTenant", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey("key_1", "ten_a", "ci")))
		wantErr(t, "same name, same tenant", s.CreateAPIKey(ctx, apiKey("key_2", "ten_a", "ci"), event("key.create", "key_2", "ten_a", t0)), controlplane.ErrAlreadyExists)
		wantErr(t, "known ID", s.CreateAPIKey(ctx, apiKey("key_1", "ten_b", "other"), event("key.create", "key_1", "ten_b", t0)), controlplane.ErrAlreadyExists)
		noErr(t, "same name, other tenant", s.CreateAPIKey(ctx, apiKey("key_3", "ten_b", "ci")))
		noErr(t, "same name, no tenant", s.CreateAPIKey(ctx, apiKey("key_4", "", "ci")))
		wantErr(t, "same name, no tenant again", s.CreateAPIKey(ctx, apiKey("key_5", "", "ci")), controlplane.ErrAlreadyExists)
		noErr(t, "other name", s.CreateAPIKey(ctx, apiKey("key_6", "ten_a", "CI")))
		noErr(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, "key_1", at(time.Hour)))
		wantErr(t, "name of a revoked key", s.CreateAPIKey(ctx, apiKey("key_7", "ten_a", "ci")), controlplane.ErrAlreadyExists)
		for _, id := range []string{"key_2", "key_5", "key_7"} {
			_, err := s.GetAPIKey(ctx, id)
			wantErr(t, "refused key "+id, err, controlplane.ErrNotFound)
		}
		if got := walkKeys(t, s, controlplane.AllTenants, 100); got != "key_1 key_3 key_4 key_6" {
			t.Fatalf("keys after refusals: %q", got)
		}
		wantEventCount(t, s, 0)
	}},
	{"ConcurrentSameName", func(t *testing.T, s controlplane.Store) {
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = retryConflict(func() error {
					return s.CreateAPIKey(ctx, apiKey(fmt.Sprintf("key_%02d", i), "ten_a", "deploy"), event("key.create", "k", "ten_a", t0))
				})
			})
		}
		wg.Wait()
		made := 0
		for i, err := range errs {
			switch {
			case err == nil:
				made++
			case errors.Is(err, controlplane.ErrAlreadyExists):
			default:
				t.Fatalf("creation %d: %v", i, err)
			}
		}
		if made != 1 || strings.Count(walkKeys(t, s, "ten_a", 100), "key_") != 1 {
			t.Fatalf("%d keys made under one name", made)
		}
		wantEventCount(t, s, 1)
	}},
	{"ListByTenant", func(t *testing.T, s controlplane.Store) {
		for _, k := range []controlplane.APIKey{
			apiKey("key_c", "ten_a", "1"), apiKey("key_a", "ten_a", "2"), apiKey("key_e", "ten_b", "1"),
			apiKey("key_b", "", "root"), apiKey("key_d", "ten_a", "3"), apiKey("key_f", "", "ops"),
		} {
			noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
		}
		for _, c := range []struct{ tenant, want string }{
			{"ten_a", "key_a key_c key_d"},
			{"ten_b", "key_e"},
			{"", "key_b key_f"},
			{controlplane.AllTenants, "key_a key_b key_c key_d key_e key_f"},
			{"ten_z", ""},
		} {
			for _, n := range []int{1, 2, 100} {
				if got := walkKeys(t, s, c.tenant, n); got != c.want {
					t.Errorf("tenant %q limit %d: %q, want %q", c.tenant, n, got, c.want)
				}
			}
		}
	}},
	{"ListLimits", func(t *testing.T, s controlplane.Store) {
		for i := range bulk {
			noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey(fmt.Sprintf("key_%04d", i), "ten_a", fmt.Sprint(i))))
		}
		for _, c := range []struct{ limit, n int }{{0, 100}, {1, 1}, {1000, 1000}, {2000, 1000}} {
			page, next, err := s.ListAPIKeys(ctx, controlplane.APIKeyFilter{TenantID: "ten_a", Page: controlplane.Page{Limit: c.limit}})
			noErr(t, "ListAPIKeys", err)
			if len(page) != c.n || page[0].ID != "key_0000" || next == "" {
				t.Fatalf("limit %d: %d keys, next %q", c.limit, len(page), next)
			}
		}
		if got := strings.Count(walkKeys(t, s, "ten_a", 1000), "key_"); got != bulk {
			t.Fatalf("walk: %d keys, want %d", got, bulk)
		}
	}},
	{"Revoke", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey("key_1", "ten_a", "ci")))
		wantErr(t, "revoke unknown", s.RevokeAPIKey(ctx, "key_9", t0, event("key.revoke", "key_9", "", t0)), controlplane.ErrNotFound)
		noErr(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, "key_1", at(time.Hour), event("key.revoke", "key_1", "ten_a", t0)))
		got, err := s.GetAPIKey(ctx, "key_1")
		noErr(t, "GetAPIKey", err)
		want := apiKey("key_1", "ten_a", "ci")
		want.RevokedAt = at(time.Hour)
		same(t, "revoked key", want, got)
		wantErr(t, "revoke twice", s.RevokeAPIKey(ctx, "key_1", at(2*time.Hour), event("key.revoke", "key_1", "ten_a", t0)), controlplane.ErrConflict)
		got, _ = s.GetAPIKey(ctx, "key_1")
		same(t, "key after a second revoke", want, got)
		wantEventCount(t, s, 1)
	}},
}
