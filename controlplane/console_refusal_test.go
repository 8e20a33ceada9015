package controlplane_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// An action the role lacks is not offered, and is refused if posted anyway.
func TestConsoleWrongRole(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(h.key("", "onboarding", "admin:tenants", "read:events"))
	p := b.get("/licensing/licenses/" + l.ID)
	wantPage(t, "onboarding's licence page", p, http.StatusOK, ">Reset primary</a>", ">Renew</button>", ">Download both</a>")
	wantNot(t, "onboarding's licence page", p, ">Suspend</button>", ">Revoke</a>", ">Delete</a>", ">Rebind</button>", "Audit events")
	wantNot(t, "onboarding's navigation", p, `href="/licensing/signing"`, `href="/licensing/settings"`, `href="/licensing/keys"`, `href="/licensing/audit"`)
	for _, path := range []string{"/licensing/signing", "/licensing/settings", "/licensing/keys", "/licensing/audit", "/licensing/licenses/" + l.ID + "/revoke"} {
		wantPage(t, "onboarding at "+path, b.get(path), http.StatusForbidden, "Insufficient scope")
	}
	before := h.events()
	for path, form := range map[string]url.Values{
		"/licensing/licenses/" + l.ID + "/suspend": nil,
		"/licensing/licenses/" + l.ID + "/revoke":  {"confirm": {"yes"}},
		"/licensing/licenses/" + l.ID + "/delete":  {"confirm_id": {l.ID}},
		"/licensing/licenses/" + l.ID + "/rebind":  {"fingerprint": {"fp1.x"}},
		"/licensing/heartbeats/directives":         {"license_id": {l.ID}, "grace": {"2d"}},
		"/licensing/heartbeats/sweep":              nil,
		"/licensing/signing":                       {"alg": {"EdDSA"}},
		"/licensing/settings":                      {"grace": {"2d"}},
		"/licensing/keys":                          {"name": {"x"}},
	} {
		wantPage(t, "onboarding posts "+path, b.post(path, form), http.StatusForbidden, "Insufficient scope")
	}
	if h.licStatus(l.ID) != "active" || h.events() != before {
		t.Fatal("a refused post changed something")
	}

	// support: no signing keys, settings or API keys.
	s := h.signIn(h.key("", "support", "admin:tenants", "read:events"))
	p = s.get("/licensing/licenses/" + l.ID)
	wantPage(t, "support's licence page", p, http.StatusOK, ">Suspend</button>", ">Revoke</a>", ">Delete</a>", "Audit events")
	wantNot(t, "support's navigation", p, `href="/licensing/signing"`, `href="/licensing/settings"`, `href="/licensing/keys"`)
	wantPage(t, "support at signing", s.get("/licensing/signing"), http.StatusForbidden, "signing.manage")
	kids := h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)
	kid := kids[0].(map[string]any)["kid"].(string)
	wantPage(t, "support retires", s.post("/licensing/signing/"+kid+"/retire", url.Values{"confirm": {"yes"}}), http.StatusForbidden)
}

// Another tenant's licence is not found, as in the API.
func TestConsoleWrongTenant(t *testing.T) {
	h := newHarness(t)
	mine, theirs := h.issue("ten_a", nil), h.issue("ten_b", nil)
	b := h.signIn(h.key("ten_a", "support", "admin:tenants", "read:events"))
	list := b.get("/licensing/")
	wantPage(t, "tenant's list", list, http.StatusOK, mine.ID)
	wantNot(t, "tenant's list", list, theirs.ID)
	for _, path := range []string{"/licensing/licenses/" + theirs.ID, "/licensing/licenses/" + theirs.ID + "/keyfile",
		"/licensing/licenses/" + theirs.ID + "/revoke", "/licensing/licenses/" + theirs.ID + "/delete"} {
		wantPage(t, "GET "+path, b.get(path), http.StatusNotFound, "License not found")
	}
	before := h.events()
	for _, action := range []string{"suspend", "revoke", "delete", "renew", "reset"} {
		form := url.Values{"confirm": {"yes"}, "confirm_id": {theirs.ID}, "slot": {"primary"}}
		wantPage(t, action+" of another tenant", b.post("/licensing/licenses/"+theirs.ID+"/"+action, form), http.StatusNotFound)
	}
	wantPage(t, "directives of another tenant", b.post("/licensing/heartbeats/directives", url.Values{"license_id": {theirs.ID}, "grace": {"2d"}}), http.StatusNotFound)
	if h.licStatus(theirs.ID) != "active" || h.events() != before {
		t.Fatal("a post for another tenant changed something")
	}
	wantPage(t, "issue for another tenant", b.post("/licensing/license-new", url.Values{"tenant_id": {"ten_b"}}), http.StatusForbidden, "another tenant")
}

// A post without the session's CSRF token, or with another, is refused.
func TestConsoleCSRF(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(adminSecret)
	other := h.signIn(adminSecret) // a second session, with its own token
	before := h.events()
	for name, token := range map[string]string{"missing": "", "wrong": strings.Repeat("x", 43), "another session's": other.csrf} {
		wantPage(t, name+" token", b.post("/licensing/licenses/"+l.ID+"/suspend", url.Values{"csrf": {token}}), http.StatusForbidden, "security token")
		wantPage(t, name+" token on issue", b.post("/licensing/license-new", url.Values{"csrf": {token}, "tenant_id": {"ten_z"}}), http.StatusForbidden)
	}
	if h.licStatus(l.ID) != "active" || h.events() != before {
		t.Fatal("a post without the right token changed something")
	}
	p := b.post("/licensing/licenses/"+l.ID+"/suspend", nil)
	if p.code != http.StatusSeeOther || h.licStatus(l.ID) != "suspended" {
		t.Fatalf("with the token: %d, status %s", p.code, h.licStatus(l.ID))
	}
}

// A post another site made the browser send is refused, token or not.
func TestConsoleForeignOrigin(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(adminSecret)
	before := h.events()
	for name, hdr := range map[string][]string{
		"Origin":         {"Origin", "https://evil.example"},
		"Sec-Fetch-Site": {"Sec-Fetch-Site", "cross-site", "Origin", ""},
		"Referer":        {"Origin", "", "Referer", "https://evil.example/page"},
	} {
		wantPage(t, "foreign "+name, b.post("/licensing/licenses/"+l.ID+"/suspend", nil, hdr...), http.StatusForbidden, "another site")
	}
	// The sign-in form too.
	bb := &browser{t: t, h: h}
	if p := bb.post("/licensing/login", url.Values{"secret": {adminSecret}}, "Origin", "https://evil.example"); p.code != http.StatusForbidden {
		t.Fatalf("a foreign sign-in post: %d", p.code)
	}
	if h.licStatus(l.ID) != "active" || h.events() != before {
		t.Fatal("a foreign post changed something")
	}
}

// Untrusted text is escaped wherever a page shows it.
func TestConsoleEscapesUntrustedText(t *testing.T) {
	h := newHarness(t)
	evil := `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`
	l := h.issue("ten_a", map[string]any{"audience": []string{evil}, "subject": `sub_"quoted"`, "capabilities": []string{`<b>cap</b>`},
		"metadata": map[string]string{"note": evil, `<i>k</i>`: "v"}})
	h.newKey(map[string]any{"name": evil, "role": "onboarding"})
	b := h.signIn(adminSecret)
	for _, path := range []string{"/licensing/", "/licensing/licenses/" + l.ID, "/licensing/keys", "/licensing/audit",
		"/licensing/licenses/" + l.ID + "/revoke", "/licensing/licenses/" + l.ID + "/reset?slot=primary", "/licensing/license-new?issued=" + l.ID,
		"/licensing/?q=" + url.QueryEscape(evil), "/licensing/audit?target=" + url.QueryEscape(evil)} {
		p := b.get(path)
		wantNot(t, path, p, "<script>alert", "<img src=x", "<b>cap</b>", "<i>k</i>")
		if strings.Count(p.body, "<script") != 1 { // the console's own script tag
			t.Errorf("%s: %d script tags", path, strings.Count(p.body, "<script"))
		}
	}
	wantPage(t, "licence page", b.get("/licensing/licenses/"+l.ID), http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;cap&lt;/b&gt;", "sub_&#34;quoted&#34;")
	wantPage(t, "keys page", b.get("/licensing/keys"), http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

// Every console answer carries the security headers.
func TestConsoleSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	b := h.signIn(adminSecret)
	const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	for _, path := range []string{"/licensing/login", "/licensing/", "/licensing/keys", "/licensing/nope", "/licensing/licenses/lic_missing",
		"/licensing/static/console.css", "/licensing/static/console.js", "/licensing/static/nope.css", "/licensing//x"} {
		p := b.get(path)
		if got := p.hdr.Get("Content-Security-Policy"); got != csp {
			t.Errorf("%s: CSP %q", path, got)
		}
		if p.hdr.Get("X-Content-Type-Options") != "nosniff" || p.hdr.Get("Referrer-Policy") != "same-origin" || p.hdr.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, p.hdr)
		}
		if strings.HasPrefix(p.hdr.Get("Content-Type"), "text/html") && p.hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: an HTML page without Cache-Control: no-store", path)
		}
	}
	if p := b.get("/licensing/nope"); p.code != http.StatusNotFound {
		t.Errorf("an unknown console page: %d", p.code)
	}
	if p := b.get("/licensing/static/console.css"); p.code != 200 || p.hdr.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("the style sheet: %d %s", p.code, p.hdr.Get("Content-Type"))
	}
	if p := b.get("/licensing"); p.code != http.StatusSeeOther || p.loc != "/licensing/" {
		t.Errorf("/licensing: %d %q", p.code, p.loc)
	}
}
