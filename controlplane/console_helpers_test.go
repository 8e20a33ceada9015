package controlplane_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a console user in handler tests: it keeps the session cookie
// and sends forms as a browser of the same origin would.
type browser struct {
	t      testing.TB
	h      *harness
	cookie *http.Cookie
	csrf   string
}

// page is one console answer.
type page struct {
	code int
	loc  string
	body string
	hdr  http.Header
}

const consoleOrigin = "http://example.com" // httptest.NewRequest's host

// get fetches a console page.
func (b *browser) get(path string) page {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	return b.send(req)
}

// post sends a form with the session's CSRF token (unless form sets csrf)
// and a same-origin Origin header.
func (b *browser) post(path string, form url.Values, header ...string) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", consoleOrigin)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return b.send(req)
}

func (b *browser) send(req *http.Request) page {
	b.t.Helper()
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	rec := httptest.NewRecorder()
	b.h.srv.ServeHTTP(rec, req)
	res := rec.Result()
	data, _ := io.ReadAll(res.Body)
	p := page{code: res.StatusCode, loc: res.Header.Get("Location"), body: string(data), hdr: res.Header}
	if m := csrfRe.FindStringSubmatch(p.body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return p
}

var (
	csrfRe  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	loginRe = regexp.MustCompile(`name="login_token" value="([^"]+)"`)
)

// signIn signs in with secret through the login form and returns the
// signed-in browser.
func (h *harness) signIn(secret string) *browser {
	h.t.Helper()
	b := &browser{t: h.t, h: h}
	p := b.tryLogin(secret)
	if p.code != http.StatusSeeOther {
		h.t.Fatalf("sign in: status %d, want 303; body %s", p.code, p.body)
	}
	if b.cookie == nil {
		h.t.Fatal("sign in: no session cookie")
	}
	b.get("/licensing/") // picks up the CSRF token
	if b.csrf == "" {
		// a key without license.read: another page carries the token
		b.get("/licensing/keys")
		b.get("/licensing/license-new")
	}
	return b
}

// tryLogin fetches the login form and posts secret with its token.
// A next, if given, is posted as the form's next field.
func (b *browser) tryLogin(secret string, next ...string) page {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/licensing/login", nil)
	rec := httptest.NewRecorder()
	b.h.srv.ServeHTTP(rec, req)
	m := loginRe.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.t.Fatalf("login page has no login token: %s", rec.Body.String())
	}
	var loginCk *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "licensekit_login" {
			loginCk = c
		}
	}
	if loginCk == nil {
		b.t.Fatal("login page set no login cookie")
	}
	form := url.Values{"secret": {secret}, "login_token": {m[1]}}
	if len(next) > 0 {
		form.Set("next", next[0])
	}
	post := httptest.NewRequest(http.MethodPost, "/licensing/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Origin", consoleOrigin)
	post.AddCookie(loginCk)
	rec = httptest.NewRecorder()
	b.h.srv.ServeHTTP(rec, post)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.Name == "licensekit_session" && c.MaxAge > 0 {
			b.cookie = c
		}
	}
	data, _ := io.ReadAll(res.Body)
	return page{code: res.StatusCode, loc: res.Header.Get("Location"), body: string(data), hdr: res.Header}
}

// wantPage fails unless the page has the status and holds every text.
func wantPage(t testing.TB, what string, p page, code int, texts ...string) {
	t.Helper()
	if p.code != code {
		t.Fatalf("%s: status %d, want %d; location %q; body %s", what, p.code, code, p.loc, clipBody(p.body))
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: page lacks %q; body %s", what, s, clipBody(p.body))
		}
	}
}

// wantNot fails if the page holds any of texts.
func wantNot(t testing.TB, what string, p page, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(p.body, s) {
			t.Errorf("%s: page holds %q, which it must not", what, s)
		}
	}
}

func clipBody(s string) string {
	if i := strings.Index(s, `<main id="main">`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// newKey creates an API key through the API and returns its secret.
func (h *harness) newKey(body map[string]any) (id, secret string) {
	h.t.Helper()
	out := h.must(http.StatusCreated, "POST", "/keys", adminSecret, body)
	k := out["key"].(map[string]any)
	return k["id"].(string), k["secret"].(string)
}

// licStatus is the licence's status as the API shows it.
func (h *harness) licStatus(id string) string {
	h.t.Helper()
	out := h.must(http.StatusOK, "GET", "/licenses/"+id, adminSecret, nil)
	return out["license"].(map[string]any)["status"].(string)
}
