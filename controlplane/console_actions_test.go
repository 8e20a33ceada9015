package controlplane_test

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
)

// newest is the newest audit event.
func (h *harness) newest() map[string]any {
	h.t.Helper()
	ev := h.must(200, "GET", "/audit?limit=1", adminSecret, nil)["events"].([]any)
	if len(ev) == 0 {
		h.t.Fatal("no audit event")
	}
	return ev[0].(map[string]any)
}

// shape is what must match between the console's event and the API's.
func shape(ev map[string]any) string {
	d, _ := ev["details"].(map[string]any)
	return ev["action"].(string) + " by " + ev["actor"].(string) + " tenant " + strOf(ev["tenant_id"]) + " details " + strings.Join(slices.Sorted(maps.Keys(d)), ",")
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

// Every console action leaves the audit event the API would, with the
// signed-in key as the actor.
func TestConsoleActionsAuditLikeTheAPI(t *testing.T) {
	h := newHarness(t)
	supportID, supportSecret := h.newKey(map[string]any{"name": "desk", "role": "support", "scopes": []string{"admin:tenants", "read:events", "admin:keys"}})
	b := h.signIn(supportSecret)
	viaConsole, viaAPI := h.issue("ten_a", nil), h.issue("ten_a", nil)
	steps := []struct {
		name    string
		console func(id string) page
		api     func(id string)
	}{
		{"suspend", func(id string) page { return b.post("/licensing/licenses/"+id+"/suspend", nil) },
			func(id string) { h.must(200, "POST", "/licenses/"+id+"/suspend", supportSecret, nil) }},
		{"restore", func(id string) page { return b.post("/licensing/licenses/"+id+"/restore", nil) },
			func(id string) { h.must(200, "POST", "/licenses/"+id+"/restore", supportSecret, nil) }},
		{"rebind", func(id string) page {
			return b.post("/licensing/licenses/"+id+"/rebind", url.Values{"fingerprint": {"fp1.new"}})
		}, func(id string) {
			h.must(200, "POST", "/licenses/"+id+"/rebind", supportSecret, map[string]string{"fingerprint": "fp1.new"})
		}},
		{"reset", func(id string) page {
			return b.post("/licensing/licenses/"+id+"/reset", url.Values{"slot": {"secondary"}, "confirm": {"yes"}})
		}, func(id string) {
			h.must(200, "POST", "/licenses/"+id+"/reset", supportSecret, map[string]string{"slot": "secondary"})
		}},
		{"renew", func(id string) page { return b.post("/licensing/licenses/"+id+"/renew", url.Values{"ttl": {"30d"}}) },
			func(id string) {
				h.must(200, "POST", "/licenses/"+id+"/renew", supportSecret, map[string]string{"ttl": "30d"})
			}},
		{"directives", func(id string) page {
			return b.post("/licensing/heartbeats/directives", url.Values{"license_id": {id}, "heartbeat_interval": {"30m"}})
		}, func(id string) {
			h.must(200, "PUT", "/licenses/"+id+"/directives", supportSecret, map[string]any{"heartbeat_interval": "30m", "grace": nil})
		}},
		{"revoke", func(id string) page {
			return b.post("/licensing/licenses/"+id+"/revoke", url.Values{"confirm": {"yes"}})
		},
			func(id string) { h.must(200, "POST", "/licenses/"+id+"/revoke", supportSecret, nil) }},
		{"delete", func(id string) page {
			return b.post("/licensing/licenses/"+id+"/delete", url.Values{"confirm_id": {id}})
		},
			func(id string) { h.must(200, "DELETE", "/licenses/"+id, supportSecret, nil) }},
	}
	for _, st := range steps {
		p := st.console(viaConsole.ID)
		if p.code != http.StatusSeeOther {
			t.Fatalf("%s in the console: %d %s", st.name, p.code, clipBody(p.body))
		}
		got := h.newest()
		st.api(viaAPI.ID)
		want := h.newest()
		if shape(got) != shape(want) || got["target"] != viaConsole.ID || got["actor"] != supportID {
			t.Errorf("%s: console event %v, API event %v", st.name, got, want)
		}
		if got["request_id"] == "" || got["request_id"] == want["request_id"] {
			t.Errorf("%s: the console's event has request id %v", st.name, got["request_id"])
		}
	}
	if h.licStatus(viaConsole.ID) != "deleted" {
		t.Fatalf("after the console's steps the licence is %s", h.licStatus(viaConsole.ID))
	}

	// Issue, through the form.
	p := b.post("/licensing/license-new", url.Values{"tenant_id": {"ten_a"}, "audience": {"Acme\nAcme AG"}, "plan": {"monthly"},
		"capabilities": {"a:b, c:d"}, "metadata": {"env=prod\nowner = ops"}, "max_machines": {"3"}, "tenant_ctry": {"de"}})
	if p.code != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/licensing/license-new?issued=lic_") {
		t.Fatalf("issue: %d %q %s", p.code, p.loc, clipBody(p.body))
	}
	id := strings.TrimPrefix(p.loc, "/licensing/license-new?issued=")
	ev := h.newest()
	if ev["action"] != "license.issue" || ev["actor"] != supportID || ev["target"] != id {
		t.Fatalf("issue event %v", ev)
	}
	l := h.must(200, "GET", "/licenses/"+id, adminSecret, nil)["license"].(map[string]any)
	if strings.Join(toStrings(l["audience"]), "|") != "Acme|Acme AG" || strings.Join(toStrings(l["capabilities"]), "|") != "a:b|c:d" ||
		l["metadata"].(map[string]any)["owner"] != "ops" || l["max_machines"] != 3.0 || l["tenant_ctry"] != "DE" || l["plan"] != "monthly" {
		t.Fatalf("issued licence %v", l)
	}
	wantPage(t, "after issue", b.get(p.loc), http.StatusOK, "License issued", l["primary"].(string), ">Download primary</a>", ">Download both</a>")

	// API keys: create and revoke (only super_admin manages keys).
	b = h.signIn(adminSecret)
	supportID = "key_bootstrap"
	p = b.post("/licensing/keys", url.Values{"tenant_id": {"ten_a"}, "name": {"ci"}, "role": {"onboarding"}, "scopes": {"admin:tenants"}})
	wantPage(t, "create key", p, http.StatusCreated, "only time the secret is shown")
	ev = h.newest()
	if ev["action"] != "key.create" || ev["actor"] != supportID {
		t.Fatalf("key.create event %v", ev)
	}
	keyID := ev["target"].(string)
	if p := b.post("/licensing/keys/"+keyID+"/revoke", url.Values{"confirm": {"yes"}}); p.code != http.StatusSeeOther {
		t.Fatalf("revoke key: %d %s", p.code, clipBody(p.body))
	}
	if ev := h.newest(); ev["action"] != "key.revoke" || ev["target"] != keyID || ev["actor"] != supportID {
		t.Fatalf("key.revoke event %v", ev)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// super_admin's screens: signing keys, settings and the sweep.
func TestConsoleSuperAdminActions(t *testing.T) {
	h := newHarness(t)
	b := h.signIn(adminSecret)
	if p := b.post("/licensing/signing", url.Values{"alg": {"ES256"}}); p.code != http.StatusSeeOther {
		t.Fatalf("create signing key: %d %s", p.code, clipBody(p.body))
	}
	ev := h.newest()
	kid := ev["target"].(string)
	if ev["action"] != "signing.manage" || ev["details"].(map[string]any)["op"] != "create" || ev["actor"] != "key_bootstrap" {
		t.Fatalf("signing create event %v", ev)
	}
	wantPage(t, "signing page", b.get("/licensing/signing"), http.StatusOK, ">Activate</button>", ">Retire</a>", "ES256")
	if p := b.post("/licensing/signing/"+kid+"/activate", nil); p.code != http.StatusSeeOther || h.newest()["details"].(map[string]any)["op"] != "activate" {
		t.Fatalf("activate: %d %v", p.code, h.newest())
	}
	keys := h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)
	old := keys[0].(map[string]any)["kid"].(string)
	// Retire asks once more.
	before := h.events()
	if p := b.post("/licensing/signing/"+old+"/retire", nil); p.code != http.StatusSeeOther || p.loc != "/licensing/signing/"+old+"/retire" || h.events() != before {
		t.Fatalf("retire without confirmation: %d %q", p.code, p.loc)
	}
	wantPage(t, "retire confirmation", b.get("/licensing/signing/"+old+"/retire"), http.StatusOK, "stops verifying", `name="confirm" value="yes"`, ">Retire</button>")
	if p := b.post("/licensing/signing/"+old+"/retire", url.Values{"confirm": {"yes"}}); p.code != http.StatusSeeOther {
		t.Fatalf("retire: %d", p.code)
	}
	if ev := h.newest(); ev["target"] != old || ev["details"].(map[string]any)["op"] != "retire" {
		t.Fatalf("retire event %v", ev)
	}
	// The active key cannot be retired: the API's 409, as a page.
	wantPage(t, "retire the active key", b.post("/licensing/signing/"+kid+"/retire", url.Values{"confirm": {"yes"}}), http.StatusConflict, "active key cannot be retired")

	// Settings: only what changed is sent.
	if p := b.post("/licensing/settings", url.Values{"grace": {"14d"}, "heartbeat_interval": {"1h"}}); p.code != http.StatusSeeOther || !strings.Contains(p.loc, "nothing") {
		t.Fatalf("unchanged settings: %d %q", p.code, p.loc)
	}
	if p := b.post("/licensing/settings", url.Values{"grace": {"7d"}, "plan_ttl_monthly": {"30d"}}); p.code != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", p.code, clipBody(p.body))
	}
	ev = h.newest()
	if ev["action"] != "settings.update" || ev["details"].(map[string]any)["grace"] != "7d" || ev["details"].(map[string]any)["plan_ttl.monthly"] != "30d" {
		t.Fatalf("settings event %v", ev)
	}
	wantPage(t, "bad settings", b.post("/licensing/settings", url.Values{"grace": {"1m"}}), http.StatusBadRequest, "grace must be at least")

	// The sweep.
	l := h.issue("ten_a", map[string]any{"ttl": "1d"})
	h.clock.Add(49 * time.Hour)
	b = h.signIn(adminSecret)
	p := b.post("/licensing/heartbeats/sweep", nil)
	if p.code != http.StatusSeeOther || !strings.Contains(p.loc, "expired=1") {
		t.Fatalf("sweep: %d %q", p.code, p.loc)
	}
	wantPage(t, "after the sweep", b.get(p.loc), http.StatusOK, "1 licence expired")
	if ev := h.newest(); ev["action"] != "license.sweep" || ev["target"] != l.ID || ev["actor"] != "key_bootstrap" {
		t.Fatalf("sweep event %v", ev)
	}
}

// Destructive actions ask once more; delete wants the licence id typed.
func TestConsoleConfirmations(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(adminSecret)
	before := h.events()
	if p := b.post("/licensing/licenses/"+l.ID+"/revoke", nil); p.code != http.StatusSeeOther || p.loc != "/licensing/licenses/"+l.ID+"/revoke" {
		t.Fatalf("revoke without confirmation: %d %q", p.code, p.loc)
	}
	if p := b.post("/licensing/licenses/"+l.ID+"/reset", url.Values{"slot": {"primary"}}); p.code != http.StatusSeeOther || !strings.HasSuffix(p.loc, "/reset?slot=primary") {
		t.Fatalf("reset without confirmation: %d %q", p.code, p.loc)
	}
	wantPage(t, "typed the wrong id", b.post("/licensing/licenses/"+l.ID+"/delete", url.Values{"confirm_id": {"lic_other"}}), http.StatusBadRequest, "does not match")
	wantPage(t, "typed nothing", b.post("/licensing/licenses/"+l.ID+"/delete", nil), http.StatusBadRequest, "does not match")
	if h.licStatus(l.ID) != "active" || h.events() != before {
		t.Fatal("an unconfirmed action changed something")
	}
	wantPage(t, "revoke page", b.get("/licensing/licenses/"+l.ID+"/revoke"), http.StatusOK, "cannot be restored", ">Revoke</button>", ">Cancel</a>")
	wantPage(t, "reset page", b.get("/licensing/licenses/"+l.ID+"/reset?slot=secondary"), http.StatusOK, "Acme Health GmbH", "ten_a", ">Reset secondary</button>")
	wantPage(t, "reset page of no slot", b.get("/licensing/licenses/"+l.ID+"/reset?slot=third"), http.StatusBadRequest)
	wantPage(t, "delete page", b.get("/licensing/licenses/"+l.ID+"/delete"), http.StatusOK, "cannot be undone", `<label for="confirm_id">`, ">Delete</button>")
	if p := b.post("/licensing/licenses/"+l.ID+"/delete", url.Values{"confirm_id": {l.ID}}); p.code != http.StatusSeeOther || h.licStatus(l.ID) != "deleted" {
		t.Fatalf("delete with the id typed: %d, status %s", p.code, h.licStatus(l.ID))
	}
	p := b.get("/licensing/licenses/" + l.ID + "?done=delete")
	wantPage(t, "deleted licence", p, http.StatusOK, "keys were deleted", "badge-deleted")
	wantNot(t, "deleted licence", p, ">Delete</a>", ">Reset primary</a>", ">Check</button>")
	// An action the state forbids is the API's 409, shown as a page.
	wantPage(t, "suspend a deleted licence", b.post("/licensing/licenses/"+l.ID+"/suspend", nil), http.StatusConflict, "Only an active licence")
}

// The key file downloads verify; Check asks the server.
func TestConsoleKeyFileAndCheck(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(h.key("", "onboarding", "admin:tenants"))
	for slot, want := range map[string]string{"primary": "license-primary.json", "secondary": "license-secondary.json", "both": "license.json"} {
		p := b.get("/licensing/licenses/" + l.ID + "/keyfile?slot=" + slot)
		if p.code != 200 || p.hdr.Get("Content-Disposition") != `attachment; filename="`+want+`"` || p.hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("keyfile %s: %d %v", slot, p.code, p.hdr)
		}
		kf, err := license.ParseKeyFile([]byte(p.body))
		if err != nil {
			t.Fatalf("keyfile %s: %v", slot, err)
		}
		lic, err := h.verifier().VerifyKeyFile(kf)
		if err != nil || lic.ID != l.ID {
			t.Fatalf("keyfile %s does not verify: %v", slot, err)
		}
		if (slot == "primary") != (kf.Secondary == "") || (slot == "secondary") != (kf.Primary == "") {
			t.Fatalf("keyfile %s holds primary %t secondary %t", slot, kf.Primary != "", kf.Secondary != "")
		}
	}
	wantPage(t, "keyfile of a bad slot", b.get("/licensing/licenses/"+l.ID+"/keyfile?slot=third"), http.StatusBadRequest, "slot must be")
	wantPage(t, "check", b.get("/licensing/licenses/"+l.ID+"?check=primary"), http.StatusOK, "Primary key: License is valid")
	h.must(200, "POST", "/licenses/"+l.ID+"/suspend", adminSecret, nil)
	wantPage(t, "check when suspended", b.get("/licensing/licenses/"+l.ID+"?check=secondary"), http.StatusOK, "Secondary key: License suspended", "SUSPENDED")
}

var secretRe = regexp.MustCompile(`value="(lk_key_[a-z0-9_]+)"`)

// A new API key's secret is on the answer that creates it and nowhere else.
func TestConsoleSecretShownOnce(t *testing.T) {
	h := newHarness(t)
	b := h.signIn(adminSecret)
	p := b.post("/licensing/keys", url.Values{"name": {"ops"}, "role": {"support"}, "scopes": {"admin:tenants", "read:events"}})
	wantPage(t, "create", p, http.StatusCreated, `<label for="new-secret">`, "js-copy")
	if p.hdr.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the secret may be cached")
	}
	m := secretRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret on the page: %s", clipBody(p.body))
	}
	secret := m[1]
	h.must(200, "GET", "/licenses", secret, nil) // it works
	again := b.get("/licensing/keys")
	wantPage(t, "the list", again, http.StatusOK, "ops", "lk_key_")
	wantNot(t, "the list", again, secret, `id="new-secret"`)
	// A name taken is the API's 409, and the form keeps what was typed.
	wantPage(t, "name taken", b.post("/licensing/keys", url.Values{"name": {"ops"}, "role": {"support"}}), http.StatusConflict, "Key name taken", `value="ops"`)
	// A key never makes a key with a permission it lacks.
	s := h.signIn(secret)
	wantPage(t, "support's key form", s.get("/licensing/keys"), http.StatusForbidden, "key.manage") // support has no key.manage
	_, keyAdmin := h.newKey(map[string]any{"tenant_id": "ten_a", "name": "keys", "role": "super_admin", "scopes": []string{"admin:keys", "read:events"}})
	k := h.signIn(keyAdmin)
	wantPage(t, "a tenant's key form", k.get("/licensing/keys"), http.StatusOK, `value="ten_a" spellcheck="false" placeholder="empty: no tenant (every tenant)" readonly`)
	wantPage(t, "a key grants what it lacks", k.post("/licensing/keys", url.Values{"name": {"up"}, "role": {"support"}, "scopes": {"admin:tenants"}}),
		http.StatusForbidden, "Insufficient scope")
	wantPage(t, "a key makes one for another tenant", k.post("/licensing/keys", url.Values{"tenant_id": {"ten_b"}, "name": {"up"}, "scopes": {"read:events"}}),
		http.StatusForbidden, "Insufficient scope")
}

// A form sent twice issues one licence.
func TestConsoleIssueTwiceIsOneLicence(t *testing.T) {
	h := newHarness(t)
	b := h.signIn(adminSecret)
	form := b.get("/licensing/license-new")
	m := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(form.body)
	if m == nil {
		t.Fatal("the form has no idempotency key")
	}
	send := url.Values{"tenant_id": {"ten_a"}, "idempotency_key": {m[1]}}
	first, second := b.post("/licensing/license-new", send), b.post("/licensing/license-new", send)
	if first.code != http.StatusSeeOther || first.loc != second.loc {
		t.Fatalf("twice: %d %q, %d %q", first.code, first.loc, second.code, second.loc)
	}
	if n := len(h.must(200, "GET", "/licenses", adminSecret, nil)["licenses"].([]any)); n != 1 {
		t.Fatalf("%d licences after one form sent twice", n)
	}
	wantPage(t, "bad metadata", b.post("/licensing/license-new", url.Values{"tenant_id": {"ten_a"}, "metadata": {"novalue"}}), http.StatusBadRequest,
		"Metadata line 1", `value="ten_a"`)
	wantPage(t, "bad ttl", b.post("/licensing/license-new", url.Values{"tenant_id": {"ten_a"}, "ttl": {"soon"}}), http.StatusBadRequest, "duration")
}
