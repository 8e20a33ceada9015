package controlplane_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A key that expires cannot make a key that outlives it: left out, the
// new key's expiry is the creator's; asked for later, it is refused.
func TestAttackChildKeyCannotOutliveParent(t *testing.T) {
	h := newHarness(t)
	parent := h.must(201, "POST", "/keys", adminSecret, map[string]any{
		"tenant_id": "ten_a", "name": "temp", "role": "super_admin", "scopes": allScopes, "expires": "1h",
	})["key"].(map[string]any)
	parentSecret, parentExp := parent["secret"].(string), parent["expires_at"].(string)

	for _, exp := range []string{"2h", "30d", "3650d"} {
		rec := h.do("POST", "/keys", parentSecret, map[string]any{"name": "longer-" + exp, "role": "onboarding", "scopes": []string{"read:licenses"}, "expires": exp})
		if rec.Code != 403 || errorCode(t, rec) != "FORBIDDEN" {
			t.Errorf("child asking to expire in %s: %d %s, want 403", exp, rec.Code, rec.Body.String())
		}
	}
	child := h.must(201, "POST", "/keys", parentSecret, map[string]any{"name": "no-expiry", "role": "onboarding", "scopes": []string{"read:licenses"}})["key"].(map[string]any)
	if child["expires_at"] != parentExp {
		t.Fatalf("child without expires expires at %q, want the creator's %q", child["expires_at"], parentExp)
	}
	shorter := h.must(201, "POST", "/keys", parentSecret, map[string]any{"name": "shorter", "role": "onboarding", "scopes": []string{"read:licenses"}, "expires": "30m"})["key"].(map[string]any)
	if shorter["expires_at"] == "" || shorter["expires_at"] == parentExp {
		t.Fatalf("a shorter expiry was not kept: %v", shorter["expires_at"])
	}

	h.clock.Add(61 * time.Minute)
	if rec := h.do("GET", "/licenses", child["secret"].(string), nil); rec.Code != 401 {
		t.Fatalf("child of an expired key still works after its creator expired: %d", rec.Code)
	}
	// A key that never expires may still make one that never expires.
	forever := h.must(201, "POST", "/keys", adminSecret, map[string]any{"name": "forever", "role": "onboarding", "scopes": []string{"read:licenses"}})["key"].(map[string]any)
	if forever["expires_at"] != nil && forever["expires_at"] != "" {
		t.Fatalf("a key of a key without expiry got one: %v", forever["expires_at"])
	}
}

// A revoked key is refused by the very next request on every kind of
// route: nothing caches a key's verdict.
func TestAttackRevokedKeyRefusedAtOnce(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	k := h.must(201, "POST", "/keys", adminSecret, map[string]any{"name": "doomed", "role": "super_admin", "scopes": allScopes})["key"].(map[string]any)
	sec, id := k["secret"].(string), k["id"].(string)

	var stop atomic.Bool
	var revokedAt atomic.Int64 // requests started after this sequence number must be refused
	var seq atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var late []string
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				n := seq.Add(1)
				rec := h.do("GET", "/licenses/"+l.ID, sec, nil)
				if r := revokedAt.Load(); r != 0 && n > r && rec.Code != 401 {
					mu.Lock()
					late = append(late, fmt.Sprint(rec.Code))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	h.must(200, "POST", "/keys/"+id+"/revoke", adminSecret, nil)
	revokedAt.Store(seq.Add(1))
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if len(late) > 0 {
		t.Fatalf("%d requests started after the revoke were served: %v", len(late), late[:min(5, len(late))])
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/licenses"}, {"GET", "/keys"}, {"GET", "/audit"}, {"GET", "/signing-keys"},
		{"POST", "/licenses/validate"}, {"POST", "/licenses/" + l.ID + "/revoke"},
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"token": l.Primary}
			if strings.HasSuffix(c.path, "/revoke") {
				body = nil
			}
		}
		if rec := h.do(c.method, c.path, sec, body); rec.Code != 401 || errorCode(t, rec) != "UNAUTHENTICATED" {
			t.Errorf("%s %s with a revoked key: %d %s", c.method, c.path, rec.Code, rec.Body.String())
		}
	}
}

// A tenant's strongest key, reaching for another tenant's objects by every
// route, filter and id shape, gets 404 or an empty list, and never a byte
// of the other tenant's data.
func TestAttackTenantCannotReachAnotherTenant(t *testing.T) {
	h := newHarness(t)
	b := h.issue("ten_b", map[string]any{"metadata": map[string]any{"owner": "tenant-b-secret-marker"}})
	if _, err := h.activate(b, b.Primary, "fp-tenant-b-machine"); err != nil {
		t.Fatal(err)
	}
	bKey := h.must(201, "POST", "/keys", adminSecret, map[string]any{"tenant_id": "ten_b", "name": "b-admin", "role": "super_admin", "scopes": allScopes})["key"].(map[string]any)
	bKeyID := bKey["id"].(string)
	a := h.key("ten_a", "super_admin", allScopes...)
	h.issue("ten_a", nil)

	marks := []string{b.ID, "tenant-b-secret-marker", "fp-tenant-b-machine", bKeyID, b.Primary[:40]}
	leak := func(what, body string) {
		t.Helper()
		for _, m := range marks {
			if strings.Contains(body, m) {
				t.Errorf("%s shows another tenant's data (%q): %s", what, m[:min(len(m), 20)], body)
			}
		}
	}
	notFound := []struct {
		method, path string
		body         any
	}{
		{"GET", "/licenses/" + b.ID, nil},
		{"GET", "/licenses/" + b.ID + "/keyfile", nil},
		{"GET", "/licenses/" + b.ID + "/keyfile?slot=primary", nil},
		{"POST", "/licenses/" + b.ID + "/revoke", nil},
		{"POST", "/licenses/" + b.ID + "/suspend", nil},
		{"POST", "/licenses/" + b.ID + "/restore", nil},
		{"POST", "/licenses/" + b.ID + "/rebind", map[string]any{"fingerprint": "fp-x"}},
		{"POST", "/licenses/" + b.ID + "/reset", map[string]any{"slot": "primary"}},
		{"POST", "/licenses/" + b.ID + "/renew", map[string]any{"ttl": "30d"}},
		{"PUT", "/licenses/" + b.ID + "/directives", map[string]any{"grace": "30d"}},
		{"DELETE", "/licenses/" + b.ID, nil},
		{"POST", "/keys/" + bKeyID + "/revoke", nil},
		{"GET", "/licenses/" + strings.ToUpper(b.ID), nil},
		{"GET", "/licenses/" + url.PathEscape(b.ID+"'--"), nil},
	}
	for _, c := range notFound {
		rec := h.do(c.method, c.path, a, c.body)
		if rec.Code != 404 || errorCode(t, rec) != "NOT_FOUND" {
			t.Errorf("%s %s: %d %s, want 404", c.method, c.path, rec.Code, rec.Body.String())
		}
		leak(c.method+" "+c.path, rec.Body.String())
	}
	lists := []string{
		"/licenses", "/licenses?tenant_id=ten_b", "/licenses?q=" + b.ID, "/licenses?q=lic_", "/licenses?cursor=" + b.ID[:len(b.ID)-1],
		"/licenses?tenant_id=ten_b&status=active", "/licenses?expiring_within=36500d",
		"/machines", "/machines?tenant_id=ten_b", "/machines?license_id=" + b.ID, "/machines?state=alive",
		"/keys", "/keys?tenant_id=ten_b", "/keys?tenant_id=", "/keys?cursor=key_",
		"/audit", "/audit?target=" + b.ID, "/audit?action=license.issue", "/audit?actor=device", "/audit?actor=" + bKeyID,
	}
	for _, p := range lists {
		rec := h.do("GET", p, a, nil)
		if rec.Code != 200 {
			t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body.String())
		}
		leak("GET "+p, rec.Body.String())
	}
	// Validate answers "not found" for another tenant's token, and shows nothing of it.
	rec := h.do("POST", "/licenses/validate", a, map[string]any{"token": b.Primary})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"valid":false`) || !strings.Contains(rec.Body.String(), `"license":null`) {
		t.Errorf("validate of another tenant's token: %d %s", rec.Code, rec.Body.String())
	}
	leak("validate", rec.Body.String())
	// The sweep's answer names only the caller's tenant.
	h.clock.Add(400 * 24 * time.Hour)
	rec = h.do("POST", "/licenses/health/sweep", a, nil)
	if rec.Code != 200 {
		t.Fatalf("sweep: %d %s", rec.Code, rec.Body.String())
	}
	leak("sweep", rec.Body.String())
	// Nothing of tenant b changed through tenant a's key.
	got := h.must(200, "GET", "/licenses/"+b.ID, adminSecret, nil)["license"].(map[string]any)
	if got["primary"] != b.Primary || len(got["machines"].([]any)) != 1 {
		t.Fatalf("tenant b's licence changed: %v", got)
	}
	if k := h.must(200, "GET", "/keys?tenant_id=ten_b", adminSecret, nil)["keys"].([]any)[0].(map[string]any); k["revoked_at"] != nil {
		t.Fatalf("tenant b's key was revoked by tenant a: %v", k)
	}
}
