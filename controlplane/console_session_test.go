package controlplane_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func sessionHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestConsoleSignIn(t *testing.T) {
	h := newHarness(t)
	b := &browser{t: t, h: h}
	wantPage(t, "wrong secret", b.tryLogin("lk_key_nope_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), http.StatusUnauthorized, "That API key is not valid")
	if b.cookie != nil {
		t.Fatal("a wrong secret got a session cookie")
	}
	before := h.events()
	p := b.tryLogin(adminSecret)
	if p.code != http.StatusSeeOther || p.loc != "/licensing/" {
		t.Fatalf("sign in: %d to %q", p.code, p.loc)
	}
	ck := b.cookie
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/licensing/" || ck.MaxAge != int((24*time.Hour).Seconds()) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure without TLS, Path /licensing/, 24 h", ck)
	}
	sess, err := h.store.GetSession(context.Background(), sessionHash(ck.Value))
	if err != nil {
		t.Fatalf("the store has no session under the token's hash: %v", err)
	}
	if _, err := h.store.GetSession(context.Background(), ck.Value); err == nil {
		t.Fatal("the store keeps the session token itself")
	}
	if s := fmt.Sprintf("%+v", sess); strings.Contains(s, adminSecret) || strings.Contains(s, ck.Value) {
		t.Fatalf("the stored session holds a secret: %s", s)
	}
	if sess.KeyID != "key_bootstrap" || sess.CSRF == "" || !sess.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("stored session %+v", sess)
	}
	if h.events() != before+1 {
		t.Fatalf("sign-in left %d events, want 1", h.events()-before)
	}
	ev := h.must(200, "GET", "/audit?action=console.login", adminSecret, nil)["events"].([]any)
	if len(ev) != 1 || ev[0].(map[string]any)["actor"] != "key_bootstrap" || ev[0].(map[string]any)["target"] != "key_bootstrap" {
		t.Fatalf("console.login events: %v", ev)
	}
	wantPage(t, "signed in", b.get("/licensing/"), http.StatusOK, "<h1>Licenses</h1>")

	// The login form's own token: a post without it signs nobody in.
	form := url.Values{"secret": {adminSecret}}
	req := httptest.NewRequest("POST", "/licensing/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", consoleOrigin)
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || len(rec.Result().Cookies()) > 1 {
		t.Fatalf("login without its form token: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
}

func TestConsoleSecureCookieUnderTLS(t *testing.T) {
	h := newHarness(t)
	get := httptest.NewRequest("GET", "https://example.com/licensing/login", nil)
	get.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, get)
	var login *http.Cookie
	for _, c := range rec.Result().Cookies() {
		login = c
	}
	if login == nil || login.Name != "__Host-licensekit_login" || !login.Secure || login.Path != "/" {
		t.Fatalf("login cookie under TLS: %+v", login)
	}
	tok := loginRe.FindStringSubmatch(rec.Body.String())[1]
	form := url.Values{"secret": {adminSecret}, "login_token": {tok}}
	post := httptest.NewRequest("POST", "https://example.com/licensing/login", strings.NewReader(form.Encode()))
	post.TLS = &tls.ConnectionState{}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Origin", "https://example.com")
	post.AddCookie(login)
	rec = httptest.NewRecorder()
	h.srv.ServeHTTP(rec, post)
	var sess *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge > 0 {
			sess = c
		}
	}
	if rec.Code != http.StatusSeeOther || sess == nil || sess.Name != "__Host-licensekit_session" || !sess.Secure || !sess.HttpOnly ||
		sess.Path != "/" || sess.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie under TLS: %d %+v", rec.Code, sess)
	}
}

func TestConsoleNoSessionRedirectsToLogin(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	anon := &browser{t: t, h: h}
	for _, path := range []string{"/licensing/", "/licensing/licenses/" + l.ID, "/licensing/heartbeats", "/licensing/signing",
		"/licensing/settings", "/licensing/keys", "/licensing/audit", "/licensing/license-new"} {
		p := anon.get(path)
		if p.code != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/licensing/login") {
			t.Errorf("GET %s without a session: %d to %q, want 303 to the login", path, p.code, p.loc)
		}
	}
	if p := anon.get("/licensing/licenses/" + l.ID); p.loc != "/licensing/login?next=%2Flicensing%2Flicenses%2F"+l.ID {
		t.Errorf("the login link does not come back: %q", p.loc)
	}
	before := h.events()
	p := anon.post("/licensing/licenses/"+l.ID+"/suspend", url.Values{"csrf": {"x"}})
	if p.code != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/licensing/login") {
		t.Fatalf("POST without a session: %d to %q", p.code, p.loc)
	}
	if h.licStatus(l.ID) != "active" || h.events() != before {
		t.Fatal("a post without a session changed something")
	}
	// A forged cookie is no session either.
	anon.cookie = &http.Cookie{Name: "licensekit_session", Value: strings.Repeat("A", 43)}
	if p := anon.get("/licensing/"); p.code != http.StatusSeeOther {
		t.Fatalf("a made-up session token: %d", p.code)
	}
}

func TestConsoleSessionLimits(t *testing.T) {
	h := newHarness(t)
	b := h.signIn(adminSecret)
	h.clock.Add(7 * time.Hour)
	wantPage(t, "after 7 h", b.get("/licensing/"), http.StatusOK)
	h.clock.Add(8*time.Hour + time.Minute)
	p := b.get("/licensing/")
	if p.code != http.StatusSeeOther || !strings.Contains(p.loc, "reason=expired") {
		t.Fatalf("after 8 h idle: %d to %q, want the login with reason=expired", p.code, p.loc)
	}
	if p := b.get("/licensing/"); p.code != http.StatusSeeOther || strings.Contains(p.loc, "reason") {
		t.Fatalf("the expired session was not deleted: %d %q", p.code, p.loc)
	}

	// Busy, it still ends 24 h after sign-in.
	b = h.signIn(adminSecret)
	for range 23 {
		h.clock.Add(time.Hour)
		wantPage(t, "busy session", b.get("/licensing/"), http.StatusOK)
	}
	h.clock.Add(time.Hour)
	if p := b.get("/licensing/"); p.code != http.StatusSeeOther || !strings.Contains(p.loc, "reason=expired") {
		t.Fatalf("after 24 h: %d %q", p.code, p.loc)
	}
}

func TestConsoleSessionEndsWithItsKey(t *testing.T) {
	h := newHarness(t)
	id, secret := h.newKey(map[string]any{"name": "desk", "role": "support", "scopes": []string{"admin:tenants", "read:events"}})
	b := h.signIn(secret)
	wantPage(t, "signed in", b.get("/licensing/"), http.StatusOK)
	h.must(200, "POST", "/keys/"+id+"/revoke", adminSecret, nil)
	if p := b.get("/licensing/"); p.code != http.StatusSeeOther || !strings.Contains(p.loc, "reason=ended") {
		t.Fatalf("session of a revoked key: %d to %q", p.code, p.loc)
	}

	_, secret = h.newKey(map[string]any{"name": "short", "role": "support", "scopes": []string{"admin:tenants"}, "expires": "2h"})
	b = h.signIn(secret)
	h.clock.Add(2 * time.Hour)
	if p := b.get("/licensing/"); p.code != http.StatusSeeOther || !strings.Contains(p.loc, "reason=") {
		t.Fatalf("session of an expired key: %d to %q", p.code, p.loc)
	}
}

func TestConsoleSignOut(t *testing.T) {
	h := newHarness(t)
	b := h.signIn(adminSecret)
	token := b.cookie.Value
	if p := b.post("/licensing/logout", url.Values{"csrf": {""}}); p.code != http.StatusForbidden {
		t.Fatalf("sign out without the CSRF token: %d", p.code)
	}
	p := b.post("/licensing/logout", nil)
	if p.code != http.StatusSeeOther || p.loc != "/licensing/login?reason=signedout" {
		t.Fatalf("sign out: %d to %q", p.code, p.loc)
	}
	if _, err := h.store.GetSession(context.Background(), sessionHash(token)); err == nil {
		t.Fatal("sign-out left the session in the store")
	}
	if p := b.get("/licensing/"); p.code != http.StatusSeeOther {
		t.Fatalf("the old cookie after sign-out: %d", p.code)
	}
}

func TestConsoleLoginNextStaysHere(t *testing.T) {
	h := newHarness(t)
	b := &browser{t: t, h: h}
	if p := b.tryLogin(adminSecret, "/licensing/audit?action=key.create"); p.loc != "/licensing/audit?action=key.create" {
		t.Fatalf("a console next is not followed: %q", p.loc)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/licensing/", "/licensing/../x", "/elsewhere", "/licensing/\\evil", "/licensing/login"} {
		req := httptest.NewRequest("GET", "/licensing/login?next="+url.QueryEscape(next), nil)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), "evil") {
			t.Errorf("next=%q is carried into the login form", next)
		}
		p := b.tryLogin(adminSecret, next)
		if p.loc != "/licensing/" {
			t.Errorf("next=%q: sign-in went to %q", next, p.loc)
		}
	}
}
