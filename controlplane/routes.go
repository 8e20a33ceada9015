package controlplane

import (
	"context"
	"net/http"
	"time"
)

// access says who may call a route.
type access uint8

const (
	accessPublic access = iota // anyone, no key
	accessDevice               // a deployed machine: no key, rate-limited per licence
	accessAnyKey               // any valid API key
	accessPerm                 // an API key with route.perm
)

// route is one row of the route table: the only place a call is declared.
// A request no row matches does not exist (404, or 405 for a known path).
type route struct {
	method, path string
	access       access
	perm         Permission
	handler      func(s *Server, w http.ResponseWriter, r *http.Request, p *principal) error

	// For the OpenAPI document.
	summary string
	query   []string // query parameters
	body    string   // request schema ("" for none)
	answer  string   // success schema
	status  int      // success status
}

func (rt *route) pattern() string { return rt.method + " " + rt.path }

// routeTable is every call the Server answers.
func routeTable() []route {
	lic := func(m, p string, perm Permission, h func(*Server, http.ResponseWriter, *http.Request, *principal) error, summary, body, answer string, status int, query ...string) route {
		return route{method: m, path: p, access: accessPerm, perm: perm, handler: h, summary: summary, body: body, answer: answer, status: status, query: query}
	}
	dev := func(p string, h func(*Server, http.ResponseWriter, *http.Request, *principal) error, summary, answer string) route {
		return route{method: http.MethodPost, path: p, access: accessDevice, handler: h, summary: summary, body: "DeviceRequest", answer: answer, status: 200}
	}
	return []route{
		lic("POST", "/licenses", PermLicenseIssue, (*Server).issueLicense, "Issue a licence", "IssueRequest", "LicenseAnswer", 201),
		lic("GET", "/licenses", PermLicenseRead, (*Server).listLicenses, "List licences", "", "LicenseList", 200,
			"tenant_id", "status", "plan", "expiring_within", "q", "limit", "cursor"),
		lic("GET", "/licenses/{id}", PermLicenseRead, (*Server).showLicense, "Show a licence with its keys", "", "LicenseAnswer", 200),
		lic("GET", "/licenses/{id}/keyfile", PermLicenseRead, (*Server).keyFile, "Download the key file", "", "KeyFile", 200, "slot"),
		{method: "POST", path: "/licenses/validate", access: accessAnyKey, handler: (*Server).validate,
			summary: "Check a licence token", body: "ValidateRequest", answer: "ValidateAnswer", status: 200},
		lic("POST", "/licenses/{id}/revoke", PermLicenseRevoke, (*Server).revoke, "Revoke a licence", "", "LicenseAnswer", 200),
		lic("POST", "/licenses/{id}/suspend", PermLicenseRevoke, (*Server).suspend, "Suspend a licence", "", "LicenseAnswer", 200),
		lic("POST", "/licenses/{id}/restore", PermLicenseRevoke, (*Server).restore, "Restore a suspended licence", "", "LicenseAnswer", 200),
		lic("POST", "/licenses/{id}/rebind", PermLicenseRevoke, (*Server).rebind, "Move a licence to another machine", "RebindRequest", "LicenseAnswer", 200),
		lic("POST", "/licenses/{id}/reset", PermLicenseIssue, (*Server).reset, "Re-issue one slot's key", "ResetRequest", "LicenseAnswer", 200),
		lic("POST", "/licenses/{id}/renew", PermLicenseIssue, (*Server).renew, "Renew a licence", "RenewRequest", "LicenseAnswer", 200),
		lic("DELETE", "/licenses/{id}", PermLicenseRevoke, (*Server).deleteLicense, "Delete a licence's keys for good", "", "LicenseAnswer", 200),
		lic("PUT", "/licenses/{id}/directives", PermLicenseRevoke, (*Server).directives, "Set a licence's heartbeat directives", "DirectivesRequest", "LicenseAnswer", 200),
		lic("POST", "/licenses/{id}/offline-activation", PermLicenseIssue, (*Server).offlineActivate,
			"Answer an air-gapped machine's offline activation request", "OfflineRequest", "OfflineResponse", 200),
		dev("/licenses/{id}/activate", (*Server).activate, "Activate a licence on a machine", "LeaseAnswer"),
		dev("/licenses/{id}/heartbeat", (*Server).heartbeat, "Heartbeat of a bound machine", "LeaseAnswer"),
		dev("/licenses/{id}/deactivate", (*Server).deactivate, "Release a machine's binding", "DeactivateAnswer"),
		lic("GET", "/machines", PermLicenseRead, (*Server).listMachines, "List machine bindings", "", "MachineList", 200,
			"license_id", "tenant_id", "state", "limit", "cursor"),
		lic("POST", "/licenses/health/sweep", PermLicenseRevoke, (*Server).sweep, "Reconcile expired licences and dead machines", "", "SweepAnswer", 200),
		lic("GET", "/settings", PermSigningManage, (*Server).getSettings, "Show the settings", "", "SettingsAnswer", 200),
		lic("PUT", "/settings", PermSigningManage, (*Server).putSettings, "Change the settings", "SettingsRequest", "SettingsAnswer", 200),
		lic("GET", "/signing-keys", PermSigningManage, (*Server).listSigningKeys, "List signing keys", "", "SigningKeyList", 200),
		lic("POST", "/signing-keys", PermSigningManage, (*Server).createSigningKey, "Create a signing key", "SigningKeyRequest", "SigningKeyAnswer", 201),
		lic("POST", "/signing-keys/{kid}/activate", PermSigningManage, (*Server).activateSigningKey, "Make a key the one that signs", "", "SigningKeyAnswer", 200),
		lic("POST", "/signing-keys/{kid}/retire", PermSigningManage, (*Server).retireSigningKey, "Retire a signing key", "", "SigningKeyAnswer", 200),
		{method: "GET", path: "/.well-known/jwks.json", access: accessPublic, handler: (*Server).jwks,
			summary: "The published public keys", answer: "JWKS", status: 200},
		{method: "GET", path: "/.well-known/keyset", access: accessPublic, handler: (*Server).keyset,
			summary: "The newest keyset statement", answer: "KeysetAnswer", status: 200},
		lic("POST", "/keys", PermKeyManage, (*Server).createKey, "Create an API key", "KeyRequest", "KeyAnswer", 201),
		lic("GET", "/keys", PermKeyManage, (*Server).listKeys, "List API keys", "", "KeyList", 200, "tenant_id", "limit", "cursor"),
		lic("POST", "/keys/{id}/revoke", PermKeyManage, (*Server).revokeKey, "Revoke an API key", "", "KeyAnswer", 200),
		lic("GET", "/audit", PermAuditRead, (*Server).listEvents, "List audit events", "", "EventList", 200,
			"action", "target", "actor", "since", "limit", "cursor"),
		{method: "GET", path: "/healthz", access: accessPublic, handler: (*Server).healthz,
			summary: "Whether the store answers", answer: "Health", status: 200},
		{method: "GET", path: "/openapi.json", access: accessPublic, handler: (*Server).openAPI,
			summary: "This API as an OpenAPI 3.1 document", answer: "OpenAPI", status: 200},
	}
}

type ctxKey struct{}

// wrap turns a route into an http.Handler: request id, authentication,
// permission, rate limit, observation and the error envelope.
func (s *Server) wrap(rt *route) http.Handler {
	name := rt.pattern()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rid := incomingRequestID(r)
		w.Header().Set("X-Request-Id", rid)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, rid))
		sw := &statusWriter{ResponseWriter: w}
		err := s.serveRoute(sw, r, rt)
		if err != nil {
			s.writeError(sw, r, err)
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.observe(name, status, start)
	})
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt *route) error {
	var p *principal
	switch rt.access {
	case accessPublic:
	case accessDevice:
		id := r.PathValue("id")
		if !validID(id) {
			return notFound("License")
		}
		// The licence's rate limit is spent in deviceStart, once the token
		// verified for it: a caller without that licence's key cannot
		// spend the limit of the machines that hold it.
		p = &principal{device: true}
	case accessAnyKey, accessPerm:
		var err error
		if p, err = s.authenticate(r); err != nil {
			return err
		}
		if rt.access == accessPerm && !p.perms.has(rt.perm) {
			return errForbidden
		}
		if err := s.admin.allow(p.keyID, s.now()); err != nil {
			return err
		}
	}
	return rt.handler(s, w, r, p)
}

// statusWriter remembers the status written, for the Observer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// incomingRequestID keeps a sane X-Request-Id of the caller, else makes one.
func incomingRequestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); visibleASCII(v, 64) && validID(v) {
		return v
	}
	return randomID("req_", 10)
}

// requestID is the id of the request being served.
func requestID(r *http.Request) string {
	if v, ok := r.Context().Value(ctxKey{}).(string); ok {
		return v
	}
	return ""
}

// healthz answers 200 when the store answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "Store unavailable", cause: err}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
