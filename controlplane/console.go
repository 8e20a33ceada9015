package controlplane

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"strings"

	"github.com/licensekit/licensekit/controlplane/console"
)

// consolePrefix is where the admin console lives.
const consolePrefix = "/licensing"

// isConsolePath reports whether a request is the console's.
func isConsolePath(p string) bool {
	return p == consolePrefix || strings.HasPrefix(p, consolePrefix+"/")
}

// consoleCSP is the Content-Security-Policy of every console answer: no
// inline script or style, nothing from another origin, no framing.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// consoleHandler is what a console route runs once the session, the
// origin, the CSRF token and the permission were checked.
type consoleHandler func(c *consoleUI, w http.ResponseWriter, r *http.Request, u *consoleUser) error

// consoleRoute is one row of the console's route table: a screen or an
// action, and the permission it needs ("" for any signed-in key).
type consoleRoute struct {
	method, path string // path under consolePrefix
	perm         Permission
	public       bool // served without a session: sign-in and assets
	handler      consoleHandler
}

// consoleRoutes is every screen and action of the console. A request no
// row matches is 404.
func consoleRoutes() []consoleRoute {
	return []consoleRoute{
		{method: "GET", path: "/login", public: true, handler: (*consoleUI).loginPage},
		{method: "POST", path: "/login", public: true, handler: (*consoleUI).login},
		{method: "POST", path: "/logout", handler: (*consoleUI).logout},
		{method: "GET", path: "/static/{file}", public: true, handler: (*consoleUI).asset},

		{method: "GET", path: "/{$}", perm: PermLicenseRead, handler: (*consoleUI).licensesPage},
		{method: "GET", path: "/license-new", perm: PermLicenseIssue, handler: (*consoleUI).newLicensePage},
		{method: "POST", path: "/license-new", perm: PermLicenseIssue, handler: (*consoleUI).issue},
		{method: "GET", path: "/licenses/{id}", perm: PermLicenseRead, handler: (*consoleUI).licensePage},
		{method: "GET", path: "/licenses/{id}/keyfile", perm: PermLicenseRead, handler: (*consoleUI).keyFileDownload},
		{method: "POST", path: "/licenses/{id}/suspend", perm: PermLicenseRevoke, handler: licenseAction("suspend")},
		{method: "POST", path: "/licenses/{id}/restore", perm: PermLicenseRevoke, handler: licenseAction("restore")},
		{method: "GET", path: "/licenses/{id}/revoke", perm: PermLicenseRevoke, handler: confirmPage("revoke")},
		{method: "POST", path: "/licenses/{id}/revoke", perm: PermLicenseRevoke, handler: licenseAction("revoke")},
		{method: "POST", path: "/licenses/{id}/rebind", perm: PermLicenseRevoke, handler: licenseAction("rebind")},
		{method: "GET", path: "/licenses/{id}/reset", perm: PermLicenseIssue, handler: confirmPage("reset")},
		{method: "POST", path: "/licenses/{id}/reset", perm: PermLicenseIssue, handler: licenseAction("reset")},
		{method: "POST", path: "/licenses/{id}/renew", perm: PermLicenseIssue, handler: licenseAction("renew")},
		{method: "POST", path: "/licenses/{id}/offline-activation", perm: PermLicenseIssue, handler: (*consoleUI).offlineActivation},
		{method: "GET", path: "/licenses/{id}/delete", perm: PermLicenseRevoke, handler: confirmPage("delete")},
		{method: "POST", path: "/licenses/{id}/delete", perm: PermLicenseRevoke, handler: licenseAction("delete")},

		{method: "GET", path: "/heartbeats", perm: PermLicenseRead, handler: (*consoleUI).heartbeatsPage},
		{method: "POST", path: "/heartbeats/directives", perm: PermLicenseRevoke, handler: (*consoleUI).setDirectives},
		{method: "POST", path: "/heartbeats/sweep", perm: PermLicenseRevoke, handler: (*consoleUI).runSweep},

		{method: "GET", path: "/signing", perm: PermSigningManage, handler: (*consoleUI).signingPage},
		{method: "POST", path: "/signing", perm: PermSigningManage, handler: (*consoleUI).createSigning},
		{method: "POST", path: "/signing/{kid}/activate", perm: PermSigningManage, handler: (*consoleUI).activateSigning},
		{method: "GET", path: "/signing/{kid}/retire", perm: PermSigningManage, handler: (*consoleUI).retireSigningConfirm},
		{method: "POST", path: "/signing/{kid}/retire", perm: PermSigningManage, handler: (*consoleUI).retireSigning},

		{method: "GET", path: "/settings", perm: PermSigningManage, handler: (*consoleUI).settingsPage},
		{method: "POST", path: "/settings", perm: PermSigningManage, handler: (*consoleUI).saveSettings},

		{method: "GET", path: "/keys", perm: PermKeyManage, handler: (*consoleUI).keysPage},
		{method: "POST", path: "/keys", perm: PermKeyManage, handler: (*consoleUI).createAPIKey},
		{method: "GET", path: "/keys/{id}/revoke", perm: PermKeyManage, handler: (*consoleUI).revokeKeyConfirm},
		{method: "POST", path: "/keys/{id}/revoke", perm: PermKeyManage, handler: (*consoleUI).revokeAPIKey},

		{method: "GET", path: "/audit", perm: PermAuditRead, handler: (*consoleUI).auditPage},
	}
}

// consoleUI serves the admin console: server-rendered pages over the same
// route table as the API (see call), behind a session of its own.
type consoleUI struct {
	s      *Server
	mux    *http.ServeMux
	pages  map[string]*template.Template
	static fs.FS
	cop    *http.CrossOriginProtection
}

// newConsole parses the embedded templates and builds the console's mux.
// The templates are part of the binary, so a failure is a build mistake
// that the tests catch; it panics rather than serve a broken console.
func newConsole(s *Server) *consoleUI {
	c := &consoleUI{s: s, mux: http.NewServeMux(), pages: map[string]*template.Template{}, cop: http.NewCrossOriginProtection()}
	static, err := fs.Sub(console.FS, "static")
	if err != nil {
		panic("controlplane: console assets: " + err.Error())
	}
	c.static = static
	names, err := fs.Glob(console.FS, "templates/*.html")
	if err != nil {
		panic("controlplane: console templates: " + err.Error())
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t := template.New(name).Funcs(c.funcs())
		c.pages[name] = template.Must(t.ParseFS(console.FS, "templates/layout.html", "templates/partials.html", n))
	}
	for _, rt := range consoleRoutes() {
		c.mux.Handle(rt.method+" "+consolePrefix+rt.path, c.wrap(rt))
	}
	return c
}

// ServeHTTP answers one console request: security headers on every
// answer, a request id, then the route.
func (c *consoleUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := c.s.now()
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store") // the assets alone say otherwise
	rid := randomID("req_", 10)
	h.Set("X-Request-Id", rid)
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, rid))
	sw := &statusWriter{ResponseWriter: w}
	switch {
	case r.URL.Path == consolePrefix:
		http.Redirect(sw, r, consolePrefix+"/", http.StatusSeeOther)
	case !cleanPath(strings.TrimSuffix(r.URL.Path, "/")):
		c.renderError(sw, r, nil, notFound("Page"))
	default:
		if _, pattern := c.mux.Handler(r); pattern == "" {
			c.renderError(sw, r, c.optionalUser(r), notFound("Page"))
		} else {
			c.mux.ServeHTTP(sw, r)
		}
	}
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	c.s.observe("console", status, start)
}

// wrap checks, in order: the origin of a post, the session, the CSRF token
// of a post, and the route's permission; then runs the handler and renders
// its error, if any.
func (c *consoleUI) wrap(rt consoleRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		post := r.Method == http.MethodPost
		if post {
			if err := c.checkOrigin(r); err != nil {
				c.renderError(w, r, nil, err)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
			if err := parseForm(r); err != nil {
				c.renderError(w, r, nil, validationf("The form could not be read"))
				return
			}
		}
		var u *consoleUser
		if !rt.public {
			var err error
			if u, err = c.user(w, r); err != nil {
				var ae *apiError
				if errors.As(err, &ae) && ae.status >= 500 {
					c.renderError(w, r, nil, err)
					return
				}
				c.toLogin(w, r, err)
				return
			}
			if post && !c.checkCSRF(r, u) {
				c.renderError(w, r, u, newError(http.StatusForbidden, CodeForbidden,
					"This form is missing its security token or comes from an old page. Reload the page and try again."))
				return
			}
			if rt.perm != "" && !u.p.perms.has(rt.perm) {
				c.renderError(w, r, u, newError(http.StatusForbidden, CodeForbidden,
					"Insufficient scope: your key does not have the permission "+string(rt.perm)+"."))
				return
			}
		}
		if err := rt.handler(c, w, r, u); err != nil {
			c.renderError(w, r, u, err)
		}
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
	})
}

// parseForm reads a posted form: URL-encoded, or multipart for a file
// upload, held in memory (the body is at most maxAdminBody).
func parseForm(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return r.ParseMultipartForm(maxAdminBody)
	}
	return r.ParseForm()
}

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the navigation entry to mark as current
	User   *consoleUser
	CSRF   string
	Notice string
	Error  string
	Page   any
}

// render writes a page with the layout around it. The page is rendered to
// a buffer first, so that a template failure is a clean 500.
func (c *consoleUI) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := c.pages[name]
	if !ok {
		c.s.log.LogAttrs(r.Context(), errorLevel, "controlplane: console page missing", logAttrs(r, 500, errors.New(name))...)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	if v.User != nil {
		v.CSRF = v.User.sess.CSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.s.log.LogAttrs(r.Context(), errorLevel, "controlplane: console template failed", logAttrs(r, 500, err)...)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the page of an error.
type errorPage struct {
	Status  int
	Heading string
	Message string
	Back    string // a link back, or ""
}

// renderError shows err as a page: the API's message for an *apiError,
// "Internal error" (and a log line) for anything else.
func (c *consoleUI) renderError(w http.ResponseWriter, r *http.Request, u *consoleUser, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, code: CodeInternal, message: "Internal error", cause: err}
	}
	if ae.status >= 500 {
		c.s.log.LogAttrs(r.Context(), errorLevel, "controlplane: console request failed", logAttrs(r, ae.status, ae.cause)...)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", itoa(ae.retryAfter))
	}
	headings := map[int]string{400: "That did not work", 401: "Sign in first", 403: "Not allowed", 404: "Not found",
		409: "That cannot be done now", 413: "Too large", 429: "Too many requests"}
	p := errorPage{Status: ae.status, Heading: headings[ae.status], Message: ae.message, Back: safeBack(r)}
	if p.Heading == "" {
		p.Heading = "Something went wrong"
	}
	c.render(w, r, ae.status, "error", view{Title: p.Heading, User: u, Page: p})
}

// safeBack is a link back for an error page: the console page a post came
// from, or "".
func safeBack(r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	for _, suffix := range []string{"/suspend", "/restore", "/revoke", "/rebind", "/reset", "/renew", "/delete", "/activate", "/retire", "/offline-activation"} {
		if strings.HasSuffix(p, suffix) {
			p = strings.TrimSuffix(p, suffix)
			break
		}
	}
	if strings.HasPrefix(p, consolePrefix+"/signing/") {
		return consolePrefix + "/signing"
	}
	if strings.HasPrefix(p, consolePrefix+"/keys/") {
		return consolePrefix + "/keys"
	}
	if strings.HasPrefix(p, consolePrefix+"/heartbeats/") {
		return consolePrefix + "/heartbeats"
	}
	if safeNext(p) == p {
		return p
	}
	return ""
}

// asset serves the embedded style sheet and script.
func (c *consoleUI) asset(w http.ResponseWriter, r *http.Request, _ *consoleUser) error {
	name := r.PathValue("file")
	var ctype string
	switch {
	case strings.HasSuffix(name, ".css"):
		ctype = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ctype = "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		ctype = "image/svg+xml"
	default:
		return notFound("Asset")
	}
	data, err := fs.ReadFile(c.static, name)
	if err != nil {
		return notFound("Asset")
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}
