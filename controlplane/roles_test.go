package controlplane_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// The permission model, written out independently of the server's code.
var (
	testRolePerms = map[string][]string{
		"onboarding":  {"license.read", "license.issue"},
		"support":     {"license.read", "license.issue", "license.revoke", "audit.read"},
		"super_admin": {"license.read", "license.issue", "license.revoke", "signing.manage", "key.manage", "audit.read"},
	}
	testScopePerms = map[string][]string{
		"admin:tenants": {"license.read", "license.issue", "license.revoke"},
		"read:licenses": {"license.read"},
		"admin:keys":    {"key.manage"},
		"admin:signing": {"signing.manage"},
		"read:events":   {"audit.read"},
		"write:events":  {},
	}
	allScopes = []string{"admin:tenants", "read:licenses", "admin:keys", "admin:signing", "read:events", "write:events"}
)

func testGrants(tenant, role string, scopes []string, perm string) bool {
	if tenant != "" && perm == "signing.manage" {
		return false // signing keys and settings belong to no tenant
	}
	if !slices.Contains(testRolePerms[role], perm) {
		return false
	}
	for _, s := range scopes {
		if slices.Contains(testScopePerms[s], perm) {
			return true
		}
	}
	return false
}

func TestPermissionModel(t *testing.T) {
	if got := controlplane.KeyPerms("ten_a", "onboarding", []string{"read:events", "write:events"}); len(got) != 0 {
		t.Fatalf("default key grants %v, want nothing", got)
	}
	for role := range testRolePerms {
		for _, tenant := range []string{"", "ten_a"} {
			for mask := range 1 << len(allScopes) {
				var scopes []string
				for i, s := range allScopes {
					if mask&(1<<i) != 0 {
						scopes = append(scopes, s)
					}
				}
				got := controlplane.KeyPerms(tenant, role, scopes)
				for _, p := range []string{"license.read", "license.issue", "license.revoke", "signing.manage", "key.manage", "audit.read"} {
					if slices.Contains(got, p) != testGrants(tenant, role, scopes, p) {
						t.Fatalf("tenant %q role %s scopes %v: %s granted=%v", tenant, role, scopes, p, slices.Contains(got, p))
					}
				}
			}
		}
	}
}

// validBodies are bodies that pass validation, so that the answer shows
// what the caller may do rather than what was wrong with the body.
var validBodies = map[string]string{
	"/licenses/{id}/rebind":     `{"fingerprint":"fp-z"}`,
	"/licenses/{id}/reset":      `{"slot":"secondary"}`,
	"/licenses/{id}/directives": `{"grace":"30d"}`,
}

// TestRouteTable walks every route with every kind of caller and checks
// the answer is exactly what the permission model says.
func TestRouteTable(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	kid := h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)[0].(map[string]any)["kid"].(string)
	victim := h.must(201, "POST", "/keys", adminSecret, map[string]any{"tenant_id": "ten_a", "name": "victim"})["key"].(map[string]any)["id"].(string)

	type caller struct {
		name, secret, tenant, role string
		scopes                     []string
		auth                       bool // a valid key
	}
	expiredSecret := h.must(201, "POST", "/keys", adminSecret, map[string]any{"name": "short", "role": "super_admin", "scopes": allScopes, "expires": "1h"})["key"].(map[string]any)["secret"].(string)
	revoked := h.must(201, "POST", "/keys", adminSecret, map[string]any{"name": "gone", "role": "super_admin", "scopes": allScopes})["key"].(map[string]any)
	h.must(200, "POST", "/keys/"+revoked["id"].(string)+"/revoke", adminSecret, nil)
	h.clock.Add(2 * time.Hour)

	callers := []caller{
		{name: "no key"},
		{name: "unknown key", secret: "lk_key_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		{name: "garbage key", secret: "' OR 1=1 --"},
		{name: "expired key", secret: expiredSecret},
		{name: "revoked key", secret: revoked["secret"].(string)},
		{name: "bootstrap", secret: adminSecret, role: "super_admin", scopes: allScopes, auth: true},
	}
	scopeSets := [][]string{nil, {"read:events", "write:events"}, allScopes, {"read:licenses"}, {"admin:tenants"}, {"admin:keys"}, {"admin:signing"}, {"read:events"}}
	for _, role := range []string{"onboarding", "support", "super_admin"} {
		for _, sc := range scopeSets {
			for _, tenant := range []string{"", "ten_a", "ten_b"} {
				body := map[string]any{"name": "c-" + role + strings.Join(sc, ",") + tenant, "role": role}
				if sc != nil {
					body["scopes"] = sc
				}
				if tenant != "" {
					body["tenant_id"] = tenant
				}
				k := h.must(201, "POST", "/keys", adminSecret, body)["key"].(map[string]any)
				scopes := sc
				if scopes == nil {
					scopes = []string{"read:events", "write:events"}
				}
				callers = append(callers, caller{name: role + " " + strings.Join(sc, ",") + " tenant=" + tenant,
					secret: k["secret"].(string), tenant: tenant, role: role, scopes: scopes, auth: true})
			}
		}
	}

	fill := func(path string) string {
		r := strings.NewReplacer("{id}", l.ID, "{kid}", kid)
		if strings.HasPrefix(path, "/keys/") {
			r = strings.NewReplacer("{id}", victim)
		}
		return r.Replace(path)
	}
	for _, rt := range controlplane.Routes() {
		if rt.Access == "device" {
			continue // no key: tested with the device calls
		}
		for _, c := range callers {
			var body any
			if rt.Method == "POST" || rt.Method == "PUT" {
				body = "{}"
			}
			if b, ok := validBodies[rt.Path]; ok {
				body = b
			}
			rec := h.do(rt.Method, fill(rt.Path), c.secret, body)
			got := rec.Code
			var want string
			switch {
			case rt.Access == "public":
				want = "not 401/403"
			case !c.auth:
				want = "401"
			case rt.Access == "any key":
				want = "not 401/403"
			case !testGrants(c.tenant, c.role, c.scopes, rt.Access):
				want = "403"
			case c.tenant == "ten_b" && strings.Contains(rt.Path, "{id}"):
				want = "404" // another tenant's object
			default:
				want = "not 401/403"
			}
			ok := false
			switch want {
			case "401":
				ok = got == 401 && errorCode(t, rec) == "UNAUTHENTICATED"
			case "403":
				ok = got == 403 && errorCode(t, rec) == "FORBIDDEN"
			case "404":
				ok = got == 404 && errorCode(t, rec) == "NOT_FOUND"
			default:
				ok = got != 401 && got != 403 && got < 500
			}
			if !ok {
				t.Errorf("%s %s as %s: %d %s, want %s", rt.Method, rt.Path, c.name, got, rec.Body.String(), want)
			}
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/nope", 404},
		{"POST", "/licenses/x/offline-deactivation", 404},
		{"PATCH", "/licenses", 405},
		{"GET", "/licenses/../keys", 404},
		{"GET", "/licenses//x", 404},
		{"GET", "/licenses/%2e%2e", 404},
		{"GET", "/licenses/x'%20OR%20'1'='1", 404},
	} {
		rec := h.do(c.method, c.path, adminSecret, nil)
		if rec.Code != c.want {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, rec.Code, c.want, rec.Body.String())
		}
		errorCode(t, rec)
	}
}

func TestKeyCannotMintStrongerKey(t *testing.T) {
	h := newHarness(t)
	sup := h.key("ten_a", "super_admin", "admin:tenants", "admin:keys")
	for _, body := range []map[string]any{
		{"name": "x2", "role": "support", "scopes": []string{"read:events"}},                         // audit.read it lacks
		{"name": "x3", "role": "support", "scopes": []string{"admin:tenants"}, "tenant_id": "ten_b"}, // another tenant
		{"name": "x4", "role": "support", "scopes": []string{"admin:tenants"}, "tenant_id": ""},      // no tenant
	} {
		if rec := h.do("POST", "/keys", sup, body); rec.Code != 403 {
			t.Errorf("create %v: %d %s, want 403", body, rec.Code, rec.Body.String())
		}
	}
	out := h.must(201, "POST", "/keys", sup, map[string]any{"name": "ok", "role": "onboarding", "scopes": []string{"read:licenses"}})
	if k := out["key"].(map[string]any); k["tenant_id"] != "ten_a" || k["secret"] == "" {
		t.Fatalf("created key %v", k)
	}
	// The list is masked and tenant-scoped.
	list := h.must(200, "GET", "/keys", sup, nil)["keys"].([]any)
	for _, k := range list {
		k := k.(map[string]any)
		if k["tenant_id"] != "ten_a" || k["secret"] != nil {
			t.Fatalf("listed %v", k)
		}
	}
	if rec := h.do("POST", "/keys", sup, map[string]any{"name": "ok"}); rec.Code != 409 {
		t.Fatalf("name taken: %d", rec.Code)
	}
}
