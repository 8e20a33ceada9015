package controlplane_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/license"
)

func TestIssueDefaultsAndKeyFile(t *testing.T) {
	h := newHarness(t)
	for plan, days := range map[string]int{"monthly": 31, "yearly": 365, "community": 90, "": 365} {
		out := h.must(201, "POST", "/licenses", adminSecret, map[string]any{"tenant_id": "ten_a", "plan": plan})["license"].(map[string]any)
		exp, _ := time.Parse(time.RFC3339, out["expires_at"].(string))
		if want := t0.AddDate(0, 0, days); !exp.Equal(want) {
			t.Errorf("plan %q: expires %v, want %v", plan, exp, want)
		}
		if aud := out["audience"].([]any); len(aud) != 1 || aud[0] != "ten_a" {
			t.Errorf("default audience %v", aud)
		}
		if out["max_machines"].(float64) != 1 || out["status"] != "active" {
			t.Errorf("defaults %v", out)
		}
	}
	l := h.issue("ten_a", map[string]any{"ttl": "10d", "tenant_ctry": "DE", "capabilities": []string{"kyc:write"},
		"metadata": map[string]string{"env": "prod"}, "subject": "sub_x"})
	v := h.verifier()
	for slot, tok := range map[string]string{"primary": l.Primary, "secondary": l.Secondary} {
		c, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("%s: %v", slot, err)
		}
		if c.ID != l.ID || c.Slot != slot || c.TenantID != "ten_a" || c.Subject != "sub_x" || c.TenantCountry != "DE" ||
			!c.Has("kyc:write") || c.Metadata["env"] != "prod" || !c.ExpiresAt.Equal(t0.Add(240*time.Hour)) {
			t.Fatalf("%s claims %+v", slot, c)
		}
	}
	for _, slot := range []string{"primary", "secondary", "both"} {
		rec := h.do("GET", "/licenses/"+l.ID+"/keyfile?slot="+slot, adminSecret, nil)
		if rec.Code != 200 {
			t.Fatalf("keyfile %s: %d", slot, rec.Code)
		}
		kf, err := license.ParseKeyFile(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("keyfile %s: %v", slot, err)
		}
		got, err := v.VerifyKeyFile(kf)
		if err != nil || got.ID != l.ID {
			t.Fatalf("keyfile %s: %+v %v", slot, got, err)
		}
		if (kf.Primary != "") != (slot != "secondary") || (kf.Secondary != "") != (slot != "primary") {
			t.Fatalf("keyfile %s holds primary=%t secondary=%t", slot, kf.Primary != "", kf.Secondary != "")
		}
	}
	if rec := h.do("GET", "/licenses/"+l.ID+"/keyfile?slot=third", adminSecret, nil); rec.Code != 400 {
		t.Fatalf("bad slot: %d", rec.Code)
	}
}

func TestIssueIdempotency(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"tenant_id": "ten_a", "plan": "monthly"}
	a := h.must(201, "POST", "/licenses", adminSecret, body, "Idempotency-Key", "order-1")["license"].(map[string]any)
	b := h.must(201, "POST", "/licenses", adminSecret, `{ "plan":"monthly", "tenant_id":"ten_a" }`, "Idempotency-Key", "order-1")["license"].(map[string]any)
	if a["id"] != b["id"] || a["primary"] != b["primary"] {
		t.Fatalf("retry issued another licence: %v vs %v", a["id"], b["id"])
	}
	before := h.events()
	rec := h.do("POST", "/licenses", adminSecret, map[string]any{"tenant_id": "ten_a", "plan": "yearly"}, "Idempotency-Key", "order-1")
	if rec.Code != 409 {
		t.Fatalf("same key, other body: %d", rec.Code)
	}
	// The key is per API key: another key's order-1 is a new licence.
	other := h.key("", "super_admin", "admin:tenants")
	c := h.must(201, "POST", "/licenses", other, body, "Idempotency-Key", "order-1")["license"].(map[string]any)
	if c["id"] == a["id"] {
		t.Fatal("another key's idempotency key replayed the first key's licence")
	}
	if n := h.events(); n != before+2 { // the issue of c, and the creation of other
		t.Fatalf("%d events after, %d before", n, before)
	}
	list := h.must(200, "GET", "/licenses?limit=1000", adminSecret, nil)["licenses"].([]any)
	if len(list) != 2 {
		t.Fatalf("%d licences, want 2", len(list))
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	h := newHarness(t)
	for i := range 5 {
		h.issue("ten_a", map[string]any{"plan": "monthly", "ttl": fmt.Sprintf("%dd", 10+i*10)})
	}
	b := h.issue("ten_b", nil)
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		out := h.must(200, "GET", "/licenses?tenant_id=ten_a&limit=2&cursor="+cursor, adminSecret, nil)
		for _, l := range out["licenses"].([]any) {
			id := l.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
			if l.(map[string]any)["primary"] != nil {
				t.Fatal("a list carries keys")
			}
		}
		if cursor = out["next_cursor"].(string); cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 5 || seen[b.ID] {
		t.Fatalf("tenant filter: %v", seen)
	}
	if n := len(h.must(200, "GET", "/licenses?expiring_within=25d", adminSecret, nil)["licenses"].([]any)); n != 2 {
		t.Fatalf("expiring within 25d: %d, want 2", n)
	}
	if n := len(h.must(200, "GET", "/licenses?plan=yearly", adminSecret, nil)["licenses"].([]any)); n != 1 {
		t.Fatalf("plan filter: %d", n)
	}
	if n := len(h.must(200, "GET", "/licenses?q="+b.ID[:len(b.ID)-2], adminSecret, nil)["licenses"].([]any)); n != 1 {
		t.Fatalf("id prefix: %d", n)
	}
	// A tenant's key sees only its tenant, even when it asks for another.
	kb := h.key("ten_b", "onboarding", "read:licenses")
	if n := len(h.must(200, "GET", "/licenses", kb, nil)["licenses"].([]any)); n != 1 {
		t.Fatalf("tenant key lists %d", n)
	}
	if n := len(h.must(200, "GET", "/licenses?tenant_id=ten_a", kb, nil)["licenses"].([]any)); n != 0 {
		t.Fatalf("tenant key lists another tenant's: %d", n)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=-1", "limit=abc", "status=zombie", "expiring_within=-3d", "cursor=%00"} {
		if rec := h.do("GET", "/licenses?"+q, adminSecret, nil); rec.Code != 400 {
			t.Errorf("%s: %d", q, rec.Code)
		}
	}
}

func TestRenewSweepAndMachines(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"ttl": "2d", "max_machines": 2})
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.activate(l, l.Primary, "fp-B"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(2 * time.Hour)
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	ms := h.must(200, "GET", "/machines?state=alive", adminSecret, nil)["machines"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["fingerprint"] != "fp-A" {
		t.Fatalf("alive machines %v", ms)
	}
	if n := len(h.must(200, "GET", "/machines?state=overdue&license_id="+l.ID, adminSecret, nil)["machines"].([]any)); n != 1 {
		t.Fatalf("overdue: %d", n)
	}
	h.clock.Add(3 * 24 * time.Hour) // the licence expired
	sweep := h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)
	if ex := sweep["expired"].([]any); len(ex) != 1 || ex[0] != l.ID {
		t.Fatalf("sweep expired %v", ex)
	}
	before := h.events()
	again := h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)
	if len(again["expired"].([]any)) != 0 || len(again["dead"].([]any)) != 0 || h.events() != before {
		t.Fatalf("second sweep changed something: %v", again)
	}
	// Renew: new exp from now, both keys re-issued, active again.
	out := h.must(200, "POST", "/licenses/"+l.ID+"/renew", adminSecret, map[string]any{"ttl": "30d"})["license"].(map[string]any)
	if out["status"] != "active" || out["primary"] == l.Primary || out["secondary"] == l.Secondary {
		t.Fatalf("renew: %v", out)
	}
	exp, _ := time.Parse(time.RFC3339, out["expires_at"].(string))
	if want := h.clock.Now().Add(30 * 24 * time.Hour); !exp.Equal(want) {
		t.Fatalf("renewed exp %v, want %v", exp, want)
	}
	if _, err := h.verifier().Verify(out["primary"].(string)); err != nil {
		t.Fatalf("renewed primary: %v", err)
	}
	// Past every lease's exp the machines are dead, and the sweep says so once.
	h.clock.Add(15 * 24 * time.Hour)
	sweep = h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)
	if n := len(sweep["dead"].([]any)); n != 2 {
		t.Fatalf("dead: %v", sweep)
	}
	if n := len(h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)["dead"].([]any)); n != 0 {
		t.Fatalf("second sweep found %d dead again", n)
	}
}

func TestSweepKeepsMachinesThatBeatRecently(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(14*24*time.Hour - time.Minute)
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil { // bookkeeping not yet written
		t.Fatal(err)
	}
	h.clock.Add(2 * time.Minute) // past the activation's lease, inside the beat's
	if dead := h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)["dead"].([]any); len(dead) != 0 {
		t.Fatalf("a machine that beat a minute ago was found dead: %v", dead)
	}
}

func TestSigningKeyRotation(t *testing.T) {
	h := newHarness(t)
	keys := h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["state"] != "active" || keys[0].(map[string]any)["alg"] != "EdDSA" {
		t.Fatalf("first start: %v", keys)
	}
	oldKID := keys[0].(map[string]any)["kid"].(string)
	old := h.issue("ten_a", nil)
	nk := h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{"alg": "ES256"})["signing_key"].(map[string]any)
	newKID := nk["kid"].(string)
	if nk["state"] != "pending" {
		t.Fatalf("new key %v", nk)
	}
	h.must(200, "POST", "/signing-keys/"+newKID+"/activate", adminSecret, nil)
	if rec := h.do("POST", "/signing-keys/"+newKID+"/retire", adminSecret, nil); rec.Code != 409 {
		t.Fatalf("retire the active key: %d", rec.Code)
	}
	fresh := h.issue("ten_a", nil)
	v := h.verifier() // both keys published
	for _, tok := range []string{old.Primary, fresh.Primary} {
		if _, err := v.Verify(tok); err != nil {
			t.Fatalf("published keys: %v", err)
		}
	}
	if _, err := h.activate(old, old.Primary, "fp"); err != nil {
		t.Fatalf("token of the inactive key: %v", err)
	}
	h.must(200, "POST", "/signing-keys/"+oldKID+"/retire", adminSecret, nil)
	if _, err := h.verifier().Verify(old.Primary); err == nil {
		t.Fatal("a retired key is still published")
	}
	// Private keys are sealed at rest: the stored bytes hold no private JWK.
	stored, err := h.store.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stored {
		if len(k.Sealed) < 40 || containsAny(string(k.Sealed), `"d"`, `"kty"`) {
			t.Fatalf("key %s is not sealed", k.KID)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

func TestSettingsAndDirectives(t *testing.T) {
	h := newHarness(t, func(c *controlplane.Config) { c.HeartbeatInterval = 2 * time.Hour })
	s := h.must(200, "PUT", "/settings", adminSecret, map[string]any{"grace": "7d", "heartbeat_interval": "30m", "plan_ttls": map[string]string{"monthly": "40d"}})["settings"].(map[string]any)
	if s["grace"] != "7d" || s["heartbeat_interval"] != "2h" || s["plan_ttls"].(map[string]any)["monthly"] != "40d" {
		t.Fatalf("settings %v", s)
	}
	l := h.issue("ten_a", map[string]any{"plan": "monthly"})
	if exp, _ := time.Parse(time.RFC3339, l.raw["expires_at"].(string)); !exp.Equal(t0.Add(40 * 24 * time.Hour)) {
		t.Fatalf("plan ttl from settings: %v", exp)
	}
	resp, err := h.activate(l, l.Primary, "fp")
	if err != nil {
		t.Fatal(err)
	}
	ls := h.lease(resp, l.ID, "fp")
	if ls.ExpiresAt.Sub(ls.IssuedAt) != 7*24*time.Hour || resp.NextHeartbeat != 2*time.Hour {
		t.Fatalf("lease span %v, next %v", ls.ExpiresAt.Sub(ls.IssuedAt), resp.NextHeartbeat)
	}
	h.must(200, "PUT", "/licenses/"+l.ID+"/directives", adminSecret, map[string]any{"grace": "3d", "heartbeat_interval": "10m"})
	resp, err = h.beat(l, l.Primary, "fp")
	if err != nil {
		t.Fatal(err)
	}
	ls = h.lease(resp, l.ID, "fp")
	// This beat comes in the activation's second, so its iat is bumped a
	// second ahead; exp is the clock plus grace all the same.
	if want := h.clock.t.UTC().Truncate(time.Second).Add(3 * 24 * time.Hour); !ls.ExpiresAt.Equal(want) || !ls.IssuedAt.After(h.clock.t) || resp.NextHeartbeat != 10*time.Minute {
		t.Fatalf("directives: lease iat %v exp %v (want %v), next %v", ls.IssuedAt, ls.ExpiresAt, want, resp.NextHeartbeat)
	}
	out := h.must(200, "PUT", "/licenses/"+l.ID+"/directives", adminSecret, `{"grace":null,"heartbeat_interval":null}`)["license"].(map[string]any)
	if d := out["directives"].(map[string]any); d["grace"] != nil || d["heartbeat_interval"] != nil {
		t.Fatalf("null did not clear: %v", d)
	}
	for _, body := range []string{`{"grace":"1m"}`, `{"grace":"-1d"}`, `{"heartbeat_interval":"99999d"}`, `{}`, `{"grace":5}`} {
		if rec := h.do("PUT", "/licenses/"+l.ID+"/directives", adminSecret, body); rec.Code != 400 {
			t.Errorf("directives %s: %d", body, rec.Code)
		}
	}
}

func TestAuditLog(t *testing.T) {
	h := newHarness(t)
	a := h.issue("ten_a", nil)
	b := h.issue("ten_b", nil)
	h.must(200, "POST", "/licenses/"+a.ID+"/suspend", adminSecret, nil)
	h.must(200, "POST", "/licenses/"+b.ID+"/revoke", adminSecret, nil)
	ev := h.must(200, "GET", "/audit", adminSecret, nil)["events"].([]any)
	if first := ev[0].(map[string]any); first["action"] != "license.revoke" || first["target"] != b.ID || first["actor"] != "key_bootstrap" || first["request_id"] == "" {
		t.Fatalf("newest event %v", first)
	}
	if n := len(h.must(200, "GET", "/audit?action=license.issue", adminSecret, nil)["events"].([]any)); n != 2 {
		t.Fatalf("action filter: %d", n)
	}
	ka := h.key("ten_a", "support", "read:events")
	for _, e := range h.must(200, "GET", "/audit", ka, nil)["events"].([]any) {
		if e.(map[string]any)["tenant_id"] != "ten_a" {
			t.Fatalf("tenant key sees %v", e)
		}
	}
	all := h.must(200, "GET", "/audit", adminSecret, nil)["events"].([]any)
	if n := len(h.must(200, "GET", "/audit?since=1h", adminSecret, nil)["events"].([]any)); n != len(all) || n < 5 {
		t.Fatalf("since: %d of %d", n, len(all))
	}
}
