package controlplane

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits of a console session: it ends after sessionIdle without a request,
// and after sessionMax whatever the activity, and with its key.
const (
	sessionIdle       = 8 * time.Hour
	sessionMax        = 24 * time.Hour
	sessionTouchEvery = time.Minute // SeenAt is written at most this often
	tokenBytes        = 32
)

// Cookie names. Under TLS the session cookie is Secure and carries the
// __Host- prefix, which a browser only accepts for a Secure cookie of Path
// "/" set by this very host: no subdomain and no plain-HTTP page can plant
// or overwrite it.
const (
	sessionCookie       = "licensekit_session"
	secureSessionCookie = "__Host-licensekit_session"
	loginCookie         = "licensekit_login"
	secureLoginCookie   = "__Host-licensekit_login"
)

// Why a request has no usable session; the sign-in page says which.
var (
	errNoSession      = newError(http.StatusUnauthorized, CodeUnauthenticated, "Sign in to use the console")
	errSessionExpired = newError(http.StatusUnauthorized, CodeUnauthenticated, "Your session has expired; sign in again")
	errSessionEnded   = newError(http.StatusUnauthorized, CodeUnauthenticated, "The API key of your session was revoked, expired or replaced; sign in again")
)

// consoleUser is the signed-in key of a console request.
type consoleUser struct {
	p    *principal
	key  APIKey
	sess Session
}

// Can reports whether the user's key has the permission, for templates:
// an action the key lacks is not offered.
func (u *consoleUser) Can(perm string) bool { return u != nil && u.p.perms.has(Permission(perm)) }

// KeyID, Name, Role and Tenant describe the signed-in key.
func (u *consoleUser) KeyID() string  { return u.key.ID }
func (u *consoleUser) Name() string   { return u.key.Name }
func (u *consoleUser) Role() string   { return u.key.Role }
func (u *consoleUser) Tenant() string { return u.key.TenantID }

// principalOf is the principal of a stored key, as authenticate makes it.
func principalOf(k APIKey) *principal {
	return &principal{keyID: k.ID, tenant: k.TenantID, role: k.Role, scopes: k.Scopes,
		perms: keyPerms(k.TenantID, k.Role, k.Scopes), expires: k.ExpiresAt}
}

func newToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validToken reports whether s has the shape of a token newToken made.
func validToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// sessionID is what the store keeps of a session token.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// secretTag identifies the secret a key signs in with: a digest of its
// stored hash, or of the configured admin key's for the bootstrap key. A
// changed LICENSEKIT_ADMIN_KEY thus ends the sessions of the old one.
func (s *Server) secretTag(k APIKey) string {
	h := k.Hash
	if k.ID == bootstrapKeyID && s.adminHash != nil {
		h = s.adminHash
	}
	sum := sha256.Sum256(h)
	return hex.EncodeToString(sum[:16])
}

func cookieName(r *http.Request, plain, secure string) string {
	if r.TLS != nil {
		return secure
	}
	return plain
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) one of the console's
// cookies: HttpOnly, SameSite=Strict, and under TLS Secure with Path "/".
func setCookie(w http.ResponseWriter, r *http.Request, plain, secure, value string, maxAge int) {
	ck := &http.Cookie{Name: cookieName(r, plain, secure), Value: value, Path: consolePrefix + "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: maxAge}
	if r.TLS != nil {
		ck.Secure, ck.Path = true, "/"
	}
	http.SetCookie(w, ck)
}

// user finds the request's session and checks it and its key, as on every
// request: a session past its limits, or whose key was revoked, expired
// or given another secret, is deleted and refused.
func (c *consoleUI) user(w http.ResponseWriter, r *http.Request) (*consoleUser, error) {
	ck, err := r.Cookie(cookieName(r, sessionCookie, secureSessionCookie))
	if err != nil || !validToken(ck.Value) {
		return nil, errNoSession
	}
	ctx, s := r.Context(), c.s
	id := sessionID(ck.Value)
	sess, err := s.store.GetSession(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, storeError(err, "Session")
	}
	end := func(why error) (*consoleUser, error) {
		_ = s.store.DeleteSession(ctx, id) // gone already is fine
		setCookie(w, r, sessionCookie, secureSessionCookie, "", -1)
		return nil, why
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.SeenAt) >= sessionIdle {
		return end(errSessionExpired)
	}
	k, err := s.store.GetAPIKey(ctx, sess.KeyID)
	if errors.Is(err, ErrNotFound) {
		return end(errSessionEnded)
	}
	if err != nil {
		return nil, storeError(err, "API key")
	}
	if !k.RevokedAt.IsZero() || (!k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)) ||
		subtle.ConstantTimeCompare([]byte(s.secretTag(k)), []byte(sess.SecretTag)) != 1 {
		return end(errSessionEnded)
	}
	if now.Sub(sess.SeenAt) >= sessionTouchEvery {
		if err := s.store.TouchSession(ctx, id, now); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, storeError(err, "Session")
		}
	}
	return &consoleUser{p: principalOf(k), key: k, sess: sess}, nil
}

// optionalUser is the signed-in user if there is one, for pages (404)
// that show the navigation when they can.
func (c *consoleUI) optionalUser(r *http.Request) *consoleUser {
	u, err := c.user(discardHeaders{}, r)
	if err != nil {
		return nil
	}
	return u
}

// discardHeaders is a ResponseWriter that drops what is written.
type discardHeaders struct{}

func (discardHeaders) Header() http.Header         { return http.Header{} }
func (discardHeaders) Write(b []byte) (int, error) { return len(b), nil }
func (discardHeaders) WriteHeader(int)             {}

// toLogin sends a request without a usable session to the sign-in page,
// which says why and comes back to the page asked for.
func (c *consoleUI) toLogin(w http.ResponseWriter, r *http.Request, why error) {
	q := url.Values{}
	switch why {
	case errSessionExpired:
		q.Set("reason", "expired")
	case errSessionEnded:
		q.Set("reason", "ended")
	}
	if r.Method == http.MethodGet {
		if next := safeNext(r.URL.RequestURI()); next != consolePrefix+"/" {
			q.Set("next", next)
		}
	}
	target := consolePrefix + "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns next when it is a console page of this host, else the
// console's home: a sign-in link never sends anyone elsewhere. A request
// URI always has quotes, angle brackets and spaces escaped, so a next
// holding them raw was made by hand and is not echoed into a Location.
func safeNext(next string) string {
	home := consolePrefix + "/"
	if len(next) > 2048 || !strings.HasPrefix(next, home) || strings.HasPrefix(next, home+"login") ||
		strings.ContainsAny(next, "\\\x00\r\n\t \"'<>`") || strings.Contains(next, "//") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !cleanPath(strings.TrimSuffix(u.Path, "/")) {
		return home
	}
	return next
}

// checkOrigin refuses a post another site made the browser send: Go's
// cross-origin protection (Sec-Fetch-Site, then Origin against Host), and
// a Referer of another host when a browser sent no Origin. A request with
// neither (a script, not a browser) still needs the CSRF token.
func (c *consoleUI) checkOrigin(r *http.Request) error {
	forbidden := newError(http.StatusForbidden, CodeForbidden, "This form was sent from another site and was refused.")
	if err := c.cop.Check(r); err != nil {
		return forbidden
	}
	if r.Header.Get("Origin") == "" {
		if ref := r.Header.Get("Referer"); ref != "" {
			u, err := url.Parse(ref)
			if err != nil || u.Host != r.Host {
				return forbidden
			}
		}
	}
	return nil
}

// checkCSRF compares the form's token with the session's in constant time.
func (c *consoleUI) checkCSRF(r *http.Request, u *consoleUser) bool {
	got := r.PostForm.Get("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(u.sess.CSRF)) == 1
}

// loginView is the sign-in page.
type loginView struct {
	Next   string
	Token  string // the form's anti-forgery token, also in a cookie
	Reason string
}

var loginReasons = map[string]string{
	"expired":   "Your session has expired. Sign in again.",
	"ended":     "The API key of your session was revoked, expired or replaced. Sign in again.",
	"signedout": "You are signed out.",
}

func (c *consoleUI) loginPage(w http.ResponseWriter, r *http.Request, _ *consoleUser) error {
	q := r.URL.Query()
	if u := c.optionalUser(r); u != nil {
		http.Redirect(w, r, c.landing(u, q.Get("next")), http.StatusSeeOther)
		return nil
	}
	c.showLogin(w, r, http.StatusOK, q.Get("next"), loginReasons[q.Get("reason")], "")
	return nil
}

// showLogin renders the sign-in form with a fresh anti-forgery token: a
// login form cannot carry a session's token, so it carries one of its
// own, doubled in a cookie.
func (c *consoleUI) showLogin(w http.ResponseWriter, r *http.Request, status int, next, notice, problem string) {
	tok := newToken()
	setCookie(w, r, loginCookie, secureLoginCookie, tok, int((15 * time.Minute).Seconds()))
	c.render(w, r, status, "login", view{Title: "Sign in", Notice: notice, Error: problem,
		Page: loginView{Next: safeNext(next), Token: tok}})
}

// login turns an API key secret into a session. The secret is checked as
// the API checks a bearer secret, and is kept nowhere: the session names
// the key by id.
func (c *consoleUI) login(w http.ResponseWriter, r *http.Request, _ *consoleUser) error {
	next := r.PostForm.Get("next")
	ck, err := r.Cookie(cookieName(r, loginCookie, secureLoginCookie))
	if form := r.PostForm.Get("login_token"); err != nil || form == "" ||
		subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		c.showLogin(w, r, http.StatusForbidden, next, "", "The sign-in form expired. Sign in again.")
		return nil
	}
	secret := strings.TrimSpace(r.PostForm.Get("secret"))
	probe := r.Clone(r.Context())
	probe.Header = http.Header{"Authorization": {"Bearer " + secret}}
	p, err := c.s.authenticate(probe)
	if err != nil {
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.status == http.StatusUnauthorized:
			c.showLogin(w, r, http.StatusUnauthorized, next, "", "That API key is not valid: it is unknown, revoked or expired.")
			return nil
		case errors.As(err, &ae) && ae.status == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
			c.showLogin(w, r, http.StatusTooManyRequests, next, "",
				"Too many failed sign-ins from your address. Wait "+strconv.Itoa(ae.retryAfter)+" seconds and try again.")
			return nil
		}
		return err
	}
	ctx := r.Context()
	k, err := c.s.store.GetAPIKey(ctx, p.keyID)
	if err != nil {
		return storeError(err, "API key")
	}
	now := c.s.now()
	tok := newToken()
	sess := Session{ID: sessionID(tok), KeyID: k.ID, SecretTag: c.s.secretTag(k), CSRF: newToken(),
		CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(sessionMax)}
	if !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(sess.ExpiresAt) {
		sess.ExpiresAt = k.ExpiresAt
	}
	// Sessions past their limits go at each sign-in; a failure here only
	// leaves them for the next one.
	_, _ = c.s.store.DeleteExpiredSessions(ctx, now, now.Add(-sessionIdle))
	ev := c.s.event(r, p, "console.login", k.ID, k.TenantID, nil)
	if err := c.s.store.CreateSession(ctx, sess, ev); err != nil {
		return storeError(err, "Session")
	}
	setCookie(w, r, loginCookie, secureLoginCookie, "", -1)
	setCookie(w, r, sessionCookie, secureSessionCookie, tok, int(sess.ExpiresAt.Sub(now).Seconds()))
	u := &consoleUser{p: p, key: k, sess: sess}
	http.Redirect(w, r, c.landing(u, next), http.StatusSeeOther)
	return nil
}

// landing is where a signed-in user goes: the page asked for, else the
// first screen the key may see.
func (c *consoleUI) landing(u *consoleUser, next string) string {
	if n := safeNext(next); n != consolePrefix+"/" {
		return n
	}
	for _, s := range []struct {
		perm Permission
		path string
	}{{PermLicenseRead, "/"}, {PermLicenseIssue, "/license-new"}, {PermKeyManage, "/keys"}, {PermAuditRead, "/audit"}, {PermSigningManage, "/signing"}} {
		if u.p.perms.has(s.perm) {
			return consolePrefix + s.path
		}
	}
	return consolePrefix + "/"
}

// logout deletes the session and its cookie.
func (c *consoleUI) logout(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	if err := c.s.store.DeleteSession(r.Context(), u.sess.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return storeError(err, "Session")
	}
	setCookie(w, r, sessionCookie, secureSessionCookie, "", -1)
	http.Redirect(w, r, consolePrefix+"/login?reason=signedout", http.StatusSeeOther)
	return nil
}
