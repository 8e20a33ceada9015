package controlplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/console"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func wantSecurityHeaders(t *testing.T, what string, p page) {
	t.Helper()
	if got := p.hdr.Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("%s (%d): CSP %q", what, p.code, got)
	}
	if p.hdr.Get("X-Content-Type-Options") != "nosniff" || p.hdr.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s (%d): headers %v", what, p.code, p.hdr)
	}
	if !strings.HasPrefix(what, "asset") && p.hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("%s (%d): Cache-Control %q", what, p.code, p.hdr.Get("Cache-Control"))
	}
}

// The security headers are on refusals, redirects and errors too, not
// only on pages that render.
func TestAttack2ConsoleHeadersOnEveryAnswer(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	anon := &browser{t: t, h: h}
	wantSecurityHeaders(t, "no session redirect", anon.get("/licensing/licenses/"+l.ID))
	wantSecurityHeaders(t, "no session post", anon.post("/licensing/licenses/"+l.ID+"/suspend", nil))
	wantSecurityHeaders(t, "/licensing redirect", anon.get("/licensing"))
	wantSecurityHeaders(t, "bad path", anon.get("/licensing/licenses/..%2f..%2fkeys"))
	b := h.signIn(adminSecret)
	wantSecurityHeaders(t, "CSRF refusal", b.post("/licensing/licenses/"+l.ID+"/suspend", url.Values{"csrf": {"x"}}))
	wantSecurityHeaders(t, "foreign origin", b.post("/licensing/licenses/"+l.ID+"/suspend", nil, "Origin", "https://evil.example"))
	wantSecurityHeaders(t, "action redirect", b.post("/licensing/licenses/"+l.ID+"/suspend", nil))
	wantSecurityHeaders(t, "unknown method", b.send(httptest.NewRequest("PUT", "/licensing/licenses/"+l.ID, nil)))
	wantSecurityHeaders(t, "logout redirect", b.post("/licensing/logout", nil))
	big := url.Values{"name": {strings.Repeat("x", 2<<20)}}
	wantSecurityHeaders(t, "too large", b.post("/licensing/keys", big))
}

// Origin null (a sandboxed frame, a data: page) and a Referer of another
// host are another site's; no GET, HEAD or method override changes
// anything.
func TestAttack2ConsoleNoStateChangeWithoutAPost(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(adminSecret)
	before := h.events()
	wantPage(t, "Origin null", b.post("/licensing/licenses/"+l.ID+"/suspend", nil, "Origin", "null"), http.StatusForbidden, "another site")
	for _, tc := range []struct{ method, path string }{
		{"GET", "/licensing/licenses/" + l.ID + "/suspend"},
		{"GET", "/licensing/licenses/" + l.ID + "/revoke?confirm=yes"},
		{"GET", "/licensing/licenses/" + l.ID + "/delete?confirm_id=" + l.ID},
		{"HEAD", "/licensing/licenses/" + l.ID + "/suspend"},
		{"GET", "/licensing/logout"},
		{"GET", "/licensing/heartbeats/sweep"},
		{"PUT", "/licensing/licenses/" + l.ID + "/suspend"},
		{"DELETE", "/licensing/licenses/" + l.ID},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Header.Set("X-HTTP-Method-Override", "POST")
		p := b.send(req)
		if p.code == http.StatusSeeOther && !strings.HasPrefix(p.loc, "/licensing/login") {
			t.Errorf("%s %s redirected to %q like a done action", tc.method, tc.path, p.loc)
		}
	}
	// A POST asking, by _method or header, to be a DELETE is the POST it is.
	p := b.post("/licensing/licenses/"+l.ID+"/revoke", url.Values{"_method": {"DELETE"}}, "X-HTTP-Method-Override", "DELETE")
	if p.code != http.StatusSeeOther || h.licStatus(l.ID) != "active" {
		t.Fatalf("a revoke post without confirmation: %d %q, licence %s", p.code, p.loc, h.licStatus(l.ID))
	}
	if h.licStatus(l.ID) != "active" || h.events() != before {
		t.Fatal("a request that is not a confirmed same-origin post changed something")
	}
	if p := b.get("/licensing/"); p.code != http.StatusOK {
		t.Fatalf("GET /licensing/logout signed the user out: %d", p.code)
	}
}

// A session token planted before sign-in (session fixation) is not the
// session after it; logging out ends only one's own session; a changed
// LICENSEKIT_ADMIN_KEY ends the old key's sessions.
func TestAttack2ConsoleSessionFixationAndLogout(t *testing.T) {
	h := newHarness(t)
	planted := &http.Cookie{Name: "licensekit_session", Value: strings.Repeat("A", 43)}
	b := &browser{t: t, h: h, cookie: planted}
	if p := b.get("/licensing/"); p.code != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/licensing/login") {
		t.Fatalf("a planted token: %d %q", p.code, p.loc)
	}
	if p := b.tryLogin(adminSecret); p.code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", p.code)
	}
	if b.cookie.Value == planted.Value {
		t.Fatal("sign-in kept the planted session token")
	}
	victim := &browser{t: t, h: h, cookie: planted}
	if p := victim.get("/licensing/"); p.code != http.StatusSeeOther {
		t.Fatalf("the planted token became a session: %d", p.code)
	}

	one, two := h.signIn(adminSecret), h.signIn(adminSecret)
	// Logging out with one's own token, whatever else the form says.
	p := one.post("/licensing/logout", url.Values{"session": {two.cookie.Value}, "id": {two.cookie.Value}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.code)
	}
	if p := one.get("/licensing/"); p.code != http.StatusSeeOther {
		t.Fatalf("the logged-out session still works: %d", p.code)
	}
	if p := two.get("/licensing/"); p.code != http.StatusOK {
		t.Fatalf("another session was logged out too: %d", p.code)
	}

	// The same store, restarted with another admin key: the old key's
	// sessions end.
	srv2, err := controlplane.New(context.Background(), controlplane.Config{
		Store: h.store, Issuer: issuer, AdminKey: "another-admin-secret-0123", Clock: h.clock.Now,
		SecretKey: bytes.Repeat([]byte{7}, 32), AdminRateLimit: controlplane.RateLimit{PerSecond: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	req := httptest.NewRequest("GET", "/licensing/", nil)
	req.AddCookie(two.cookie)
	rec := httptest.NewRecorder()
	srv2.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "reason=ended") {
		t.Fatalf("a session of the old admin key after the key changed: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// The API-key revoke confirmation reads the store directly: another
// tenant's key is not found there, and cannot be revoked.
func TestAttack2ConsoleForeignTenantKey(t *testing.T) {
	h := newHarness(t)
	theirs, _ := h.newKey(map[string]any{"name": "theirs-secret-name", "tenant_id": "ten_b", "role": "onboarding", "scopes": []string{"admin:tenants"}})
	b := h.signIn(h.key("ten_a", "super_admin", "admin:keys", "admin:tenants"))
	p := b.get("/licensing/keys/" + theirs + "/revoke")
	wantPage(t, "another tenant's key", p, http.StatusNotFound)
	wantNot(t, "another tenant's key", p, "theirs-secret-name")
	before := h.events()
	wantPage(t, "revoke another tenant's key", b.post("/licensing/keys/"+theirs+"/revoke", url.Values{"confirm": {"yes"}}), http.StatusNotFound)
	if h.events() != before {
		t.Fatal("revoking another tenant's key changed something")
	}
	wantNot(t, "tenant's key list", b.get("/licensing/keys?tenant_id=ten_b"), "theirs-secret-name")
}

// The download's file name is fixed: a slot cannot inject into the
// Content-Disposition header.
func TestAttack2ConsoleDownloadFilename(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	b := h.signIn(adminSecret)
	for _, slot := range []string{`primary"; filename="evil.exe`, "primary\r\nSet-Cookie: x=y", "../../etc/passwd", "primary"} {
		p := b.get("/licensing/licenses/" + l.ID + "/keyfile?slot=" + url.QueryEscape(slot))
		cd := p.hdr.Get("Content-Disposition")
		if p.code == http.StatusOK && !regexp.MustCompile(`^attachment; filename="license(-primary|-secondary)?\.json"$`).MatchString(cd) {
			t.Errorf("slot %q: Content-Disposition %q", slot, cd)
		}
		if p.hdr.Get("Set-Cookie") != "" && strings.Contains(p.hdr.Get("Set-Cookie"), "x=y") {
			t.Errorf("slot %q injected a header", slot)
		}
	}
}

// The sign-in page's next parameter: never a link or redirect elsewhere,
// never markup.
func TestAttack2ConsoleNextParameter(t *testing.T) {
	h := newHarness(t)
	for _, next := range []string{"javascript:alert(1)", "//evil.example/licensing/", "/licensing/../../evil", "https://evil.example",
		"/licensing/\"><script>alert(1)</script>", "/licensing/%0d%0aSet-Cookie:x=y", "/\\evil.example", "/licensing/\\\\evil.example"} {
		anon := &browser{t: t, h: h}
		p := anon.get("/licensing/login?next=" + url.QueryEscape(next))
		wantNot(t, "login page for next "+next, p, "<script>alert", "javascript:", "evil.example")
		b := &browser{t: t, h: h}
		p = b.tryLogin(adminSecret, next)
		if p.code != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/licensing/") || strings.HasPrefix(p.loc, "/licensing//") ||
			strings.ContainsAny(p.loc, "\r\n\"<>\\") || strings.Contains(p.loc, "evil") {
			t.Errorf("next %q: after sign-in %d to %q", next, p.code, p.loc)
		}
	}
}

// No template or asset carries inline script, inline style, an event
// handler attribute or a javascript: URL, which the CSP would refuse.
func TestAttack2ConsoleNoInlineScriptOrStyle(t *testing.T) {
	inline := regexp.MustCompile(`(?i)\sstyle\s*=|<style|\son[a-z]+\s*=|javascript:`)
	script := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	n := 0
	err := fs.WalkDir(console.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		n++
		data, err := fs.ReadFile(console.FS, path)
		if err != nil {
			return err
		}
		for _, m := range inline.FindAllString(string(data), -1) {
			t.Errorf("%s: inline script or style: %q", path, m)
		}
		if strings.Count(strings.ToLower(string(data)), "<script") != len(script.FindAllString(string(data), -1)) {
			t.Errorf("%s: a script tag that is not <script src=…></script>", path)
		}
		for _, m := range script.FindAllStringSubmatch(string(data), -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script %q", path, m[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d templates found; the walk looked in the wrong place", n)
	}
}

// Neither a secret typed into the sign-in form (right or wrong) nor a
// session token reaches the server's logs or the audit.
func TestAttack2ConsoleSecretsNotLogged(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(c *controlplane.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	wrong := "wrong-secret-" + strings.Repeat("Z", 20)
	anon := &browser{t: t, h: h}
	if p := anon.tryLogin(wrong); p.code != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %d", p.code)
	}
	b := h.signIn(adminSecret)
	b.get("/licensing/audit")
	b.post("/licensing/logout", nil)
	audit := h.must(http.StatusOK, "GET", "/audit?limit=200", adminSecret, nil)
	dump, _ := json.Marshal(audit)
	for name, s := range map[string]string{"wrong secret": wrong, "admin secret": adminSecret, "session token": b.cookie.Value, "CSRF token": b.csrf} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the logs carry the %s", name)
		}
		if bytes.Contains(dump, []byte(s)) {
			t.Errorf("the audit carries the %s", name)
		}
	}
	if !bytes.Contains(dump, []byte("console.login")) {
		t.Fatal("no console.login event: the test looked at the wrong audit")
	}
}
