package licensehttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensehttp"
	"github.com/licensekit/licensekit/license/licensetest"
)

// product is a manager with the licence API mounted as a product would.
type product struct {
	t   *testing.T
	iss *licensetest.Issuer
	cp  *licensetest.ControlPlane // nil offline
	m   *license.Manager
	mux *http.ServeMux
}

func newProduct(t *testing.T, online bool) *product {
	t.Helper()
	p := &product{t: t, iss: licensetest.NewIssuer(t, licensetest.IssuerName("acme"))}
	cfg := license.Config{Keys: p.iss.Keyring(), AppID: "acme-appliance", StateDir: filepath.Join(t.TempDir(), "state"),
		Issuer: "acme", MachineID: "machine-A"}
	if online {
		p.cp = licensetest.NewControlPlane(p.iss)
		cfg.ServerURL, cfg.HTTPClient = p.cp.URL(), p.cp.Client()
	}
	m, err := license.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	p.m = m
	p.mux = http.NewServeMux()
	api := licensehttp.NewHandler(m)
	p.mux.Handle("/v1/license", api)
	p.mux.Handle("/v1/license/", api)
	p.mux.Handle("GET /v1/reports", licensehttp.Require(m, "reports:read")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("the reports"))
	})))
	return p
}

// key mints a licence token granting reports:read.
func (p *product) key(opts ...licensetest.MintOption) string {
	return p.iss.Mint(append([]licensetest.MintOption{licensetest.Capabilities("reports:read"),
		licensetest.Subject("sub_partner_bank"), licensetest.Metadata(map[string]string{"environment": "production"})}, opts...)...)
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends one request; body "" sends none, and a JSON body is sent as
// application/json.
func (p *product) do(method, path, body string, header ...string) answer {
	p.t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	p.mux.ServeHTTP(rec, req)
	a := answer{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
			p.t.Fatalf("%s %s: the answer is not a JSON object: %v: %s", method, path, err, a.raw)
		}
	}
	return a
}

func (a answer) want(t *testing.T, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	if code != "" && a.body["code"] != code {
		t.Fatalf("code %v, want %q: %s", a.body["code"], code, a.raw)
	}
}

func (a answer) license(t *testing.T) map[string]any {
	t.Helper()
	l, ok := a.body["license"].(map[string]any)
	if !ok {
		t.Fatalf("no licence object: %s", a.raw)
	}
	return l
}

func keyBody(key string) string {
	b, _ := json.Marshal(map[string]string{"license_key": key})
	return string(b)
}

func TestLifecycleOffline(t *testing.T) {
	p := newProduct(t, false)
	a := p.do("GET", "/v1/license", "")
	a.want(t, 404, "not_found")
	if strings.TrimSpace(a.raw) != `{"code":"not_found","message":"No active license found"}` {
		t.Fatalf("404 body %s", a.raw)
	}
	p.do("GET", "/v1/reports", "").want(t, 403, "forbidden")

	key := p.key()
	a = p.do("POST", "/v1/license/activate", keyBody(key))
	a.want(t, 200, "")
	if a.body["license_key"] != key {
		t.Fatalf("activate did not answer the key: %s", a.raw)
	}
	if l := a.license(t); l["status"] != "active" || l["machine"] != p.m.Fingerprint() {
		t.Fatalf("activated licence %v", l)
	}

	a = p.do("GET", "/v1/license", "")
	a.want(t, 200, "")
	l := a.license(t)
	lic := p.m.Status().License
	for name, want := range map[string]any{
		"id": lic.ID, "status": "active", "issued_to": "sub_partner_bank", "issuer": "acme",
		"issued_at": lic.IssuedAt.UTC().Format(time.RFC3339), "expires_at": lic.ExpiresAt.UTC().Format(time.RFC3339),
		"machine": p.m.Fingerprint(),
	} {
		if l[name] != want {
			t.Errorf("license.%s = %v, want %v", name, l[name], want)
		}
	}
	if caps, _ := l["capabilities"].([]any); len(caps) != 1 || caps[0] != "reports:read" {
		t.Errorf("capabilities %v", l["capabilities"])
	}
	if md, _ := l["metadata"].(map[string]any); md["environment"] != "production" {
		t.Errorf("metadata %v", l["metadata"])
	}
	for _, absent := range []string{"reason", "grace_deadline"} {
		if _, ok := l[absent]; ok {
			t.Errorf("an active offline licence has %s: %v", absent, l[absent])
		}
	}
	if got := p.do("GET", "/v1/reports", ""); got.status != 200 || got.raw != "the reports" {
		t.Fatalf("the gated endpoint: %d %s", got.status, got.raw)
	}
	if got := p.do("HEAD", "/v1/license", ""); got.status != 200 {
		t.Fatalf("HEAD: %d", got.status)
	}

	a = p.do("POST", "/v1/license/activate", keyBody(p.key()))
	a.want(t, 409, "already_activated")
	if a.body["message"] != "License already activated" {
		t.Fatalf("409 message %v", a.body["message"])
	}
	if p.m.Status().License.ID != lic.ID {
		t.Fatal("a refused activation changed the licence")
	}

	a = p.do("POST", "/v1/license/deactivate", "{}")
	a.want(t, 200, "")
	if strings.TrimSpace(a.raw) != `{"success":true}` {
		t.Fatalf("deactivate body %s", a.raw)
	}
	p.do("GET", "/v1/license", "").want(t, 404, "not_found")
	p.do("POST", "/v1/license/deactivate", "").want(t, 404, "not_found")
	p.do("GET", "/v1/reports", "").want(t, 403, "forbidden")
}

func TestActivateRefusesBadKeys(t *testing.T) {
	p := newProduct(t, false)
	good := p.key()
	for _, tc := range []struct {
		name, key, message, reason string
	}{
		{"format", "licensing.example.com", "Invalid license key format", "MALFORMED"},
		{"expired", p.key(licensetest.ExpiresAt(time.Now().Add(-48 * time.Hour))), "License key has expired", "EXPIRED"},
		{"signature", good[:len(good)-4] + "AAAA", "License key signature is invalid", "INVALID_SIGNATURE"},
		{"other vendor", licensetest.NewIssuer(t, licensetest.IssuerName("acme")).Mint(), "License key is signed by an unknown key", "UNKNOWN_KEY"},
		{"other issuer", p.key(licensetest.Claim("iss", "globex")), "License key has invalid claims", "INVALID_CLAIMS"},
		{"not yet", p.key(licensetest.NotBefore(time.Now().Add(48 * time.Hour))), "License key is not yet valid", "NOT_YET_VALID"},
		{"other machine", p.key(licensetest.Fingerprint("fp1.AAAAAAAAAAAAAAAAAAAAAA")), "License key is bound to another machine", "FINGERPRINT_MISMATCH"},
	} {
		a := p.do("POST", "/v1/license/activate", keyBody(tc.key))
		if a.status != 400 || a.body["code"] != "invalid_license_key" || a.body["message"] != tc.message || a.body["reason"] != tc.reason {
			t.Errorf("%s: %d %s", tc.name, a.status, a.raw)
		}
		v := p.do("POST", "/v1/license/validate", keyBody(tc.key))
		if v.status != 200 || v.body["valid"] != false || v.body["message"] != tc.message || v.body["license"] != nil {
			t.Errorf("%s: validate: %d %s", tc.name, v.status, v.raw)
		}
	}
	p.do("GET", "/v1/license", "").want(t, 404, "not_found")
}

func TestValidateDoesNotActivate(t *testing.T) {
	p := newProduct(t, false)
	key := p.key()
	a := p.do("POST", "/v1/license/validate", keyBody(key))
	a.want(t, 200, "")
	if a.body["valid"] != true || a.body["message"] != "License is valid" {
		t.Fatalf("validate: %s", a.raw)
	}
	lic, err := p.m.Validate(key)
	if err != nil {
		t.Fatal(err)
	}
	if l := a.license(t); l["id"] != lic.ID || l["status"] != "active" || l["issued_to"] != "sub_partner_bank" {
		t.Fatalf("validated licence %v", l)
	}
	p.do("GET", "/v1/license", "").want(t, 404, "not_found")
}

func TestBadRequests(t *testing.T) {
	p := newProduct(t, false)
	key := p.key()
	for _, tc := range []struct {
		name, path, body string
	}{
		{"not JSON", "/v1/license/activate", `license_key=` + key},
		{"array", "/v1/license/activate", `["` + key + `"]`},
		{"unknown member", "/v1/license/activate", `{"license_key":"` + key + `","force":"yes"}`},
		{"wrong case", "/v1/license/activate", `{"LICENSE_KEY":"` + key + `"}`},
		{"duplicate", "/v1/license/activate", `{"license_key":"x","license_key":"` + key + `"}`},
		{"number", "/v1/license/activate", `{"license_key":12}`},
		{"null", "/v1/license/activate", `{"license_key":null}`},
		{"missing", "/v1/license/activate", `{}`},
		{"blank", "/v1/license/activate", `{"license_key":"  "}`},
		{"trailing data", "/v1/license/activate", `{"license_key":"` + key + `"} {}`},
		{"truncated", "/v1/license/activate", `{"license_key":"` + key},
		{"validate unknown member", "/v1/license/validate", `{"token":"` + key + `"}`},
		{"deactivate member", "/v1/license/deactivate", `{"force":"yes"}`},
		{"deactivate not JSON", "/v1/license/deactivate", `yes`},
	} {
		a := p.do("POST", tc.path, tc.body)
		if a.status != 400 || a.body["code"] != "bad_request" || a.body["message"] == "" {
			t.Errorf("%s: %d %s", tc.name, a.status, a.raw)
		}
	}
	p.do("GET", "/v1/license", "").want(t, 404, "not_found")

	// Oversized.
	big := `{"license_key":"` + strings.Repeat("A", licensehttp.MaxBodySize) + `"}`
	p.do("POST", "/v1/license/activate", big).want(t, 413, "too_large")
	p.do("POST", "/v1/license/validate", big).want(t, 413, "too_large")
	// Exactly the limit is read (and refused for its content, not its size).
	exact := `{"license_key":"` + strings.Repeat("A", licensehttp.MaxBodySize-len(`{"license_key":""}`)) + `"}`
	p.do("POST", "/v1/license/validate", exact).want(t, 200, "")

	// Not JSON by Content-Type.
	p.do("POST", "/v1/license/activate", keyBody(key), "Content-Type", "text/plain").want(t, 415, "unsupported_media_type")
	p.do("POST", "/v1/license/deactivate", "{}", "Content-Type", "application/x-www-form-urlencoded").want(t, 415, "unsupported_media_type")
	p.do("POST", "/v1/license/activate", keyBody(key), "Content-Type", "application/json; charset=utf-8").want(t, 200, "")
}

func TestMethodsAndPaths(t *testing.T) {
	p := newProduct(t, false)
	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "/v1/license", "GET, HEAD"},
		{"DELETE", "/v1/license", "GET, HEAD"},
		{"E", "/v1/license", "GET, HEAD"},
		{"GET", "/v1/license/activate", "POST"},
		{"PUT", "/v1/license/activate", "POST"},
		{"GET", "/v1/license/deactivate", "POST"},
		{"PATCH", "/v1/license/validate", "POST"},
	} {
		a := p.do(tc.method, tc.path, "")
		if a.status != 405 || a.header.Get("Allow") != tc.allow || a.body["code"] != "method_not_allowed" {
			t.Errorf("%s %s: %d Allow %q %s", tc.method, tc.path, a.status, a.header.Get("Allow"), a.raw)
		}
	}
	for _, path := range []string{"/v1/license/", "/v1/license/activate/", "/v1/license/reload"} {
		p.do("GET", path, "").want(t, 404, "not_found")
	}
	if a := p.do("GET", "/v1/license", ""); a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", a.header.Get("Cache-Control"))
	}
}

// A web page the operator visits cannot change the licence of a product
// listening on localhost.
func TestCrossOriginRefused(t *testing.T) {
	p := newProduct(t, false)
	p.do("POST", "/v1/license/activate", keyBody(p.key())).want(t, 200, "")
	a := p.do("POST", "/v1/license/deactivate", "", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if a.status != 403 {
		t.Fatalf("cross-site deactivate: %d %s", a.status, a.raw)
	}
	if p.m.Status().License == nil {
		t.Fatal("a cross-site request deactivated the licence")
	}
}

func TestWithPrefix(t *testing.T) {
	p := newProduct(t, false)
	mux := http.NewServeMux()
	mux.Handle("/admin/licence", licensehttp.NewHandler(p.m, licensehttp.WithPrefix("/admin/licence/")))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/licence", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "No active license found") {
		t.Fatalf("GET under the prefix: %d %s", rec.Code, rec.Body)
	}
}

func TestLifecycleOnline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newProduct(t, true)
		synctest.Wait()
		key := p.key()
		lic, err := p.m.Validate(key)
		if err != nil {
			t.Fatal(err)
		}
		a := p.do("POST", "/v1/license/activate", keyBody(key))
		a.want(t, 200, "")
		l := a.license(t)
		if l["status"] != "active" || l["grace_deadline"] == nil {
			t.Fatalf("after an online activation: %v", l)
		}
		if got := p.cp.BoundTo(lic.ID); got != l["machine"] {
			t.Fatalf("the control plane bound %q, the API says the machine is %v", got, l["machine"])
		}
		p.do("GET", "/v1/reports", "").want(t, 200, "")

		// Unreachable: deactivate changes nothing and says so.
		p.cp.SetDown(true)
		a = p.do("POST", "/v1/license/deactivate", "{}")
		a.want(t, 503, "unavailable")
		if a.body["reason"] != "UNAVAILABLE" {
			t.Fatalf("503 reason %v", a.body["reason"])
		}
		p.do("GET", "/v1/license", "").want(t, 200, "")
		p.cp.SetDown(false)

		// Revoked: the gated endpoint and GET say why.
		p.cp.Revoke(lic.ID)
		time.Sleep(time.Hour + time.Minute)
		synctest.Wait()
		a = p.do("GET", "/v1/license", "")
		if l := a.license(t); l["status"] != "locked" || l["reason"] != "REVOKED" {
			t.Fatalf("revoked licence: %v", l)
		}
		a = p.do("GET", "/v1/reports", "")
		a.want(t, 403, "forbidden")
		if a.body["state"] != "locked" || a.body["reason"] != "REVOKED" || a.body["capability"] != "reports:read" {
			t.Fatalf("403 body %s", a.raw)
		}

		p.do("POST", "/v1/license/deactivate", "{}").want(t, 200, "")
		if got := p.cp.BoundTo(lic.ID); got != "" {
			t.Fatalf("still bound to %q", got)
		}
		p.do("GET", "/v1/license", "").want(t, 404, "not_found")
	})
}

func TestRequireCapability(t *testing.T) {
	p := newProduct(t, false)
	p.do("POST", "/v1/license/activate", keyBody(p.key(licensetest.Capabilities("kyc:read")))).want(t, 200, "")
	a := p.do("GET", "/v1/reports", "")
	a.want(t, 403, "forbidden")
	if a.body["state"] != "active" || a.body["reason"] != "CAPABILITY_NOT_GRANTED" {
		t.Fatalf("403 body %s", a.raw)
	}
}

// A key that cannot be kept on this machine is not installed: 500, and
// nothing changes.
func TestActivateCannotKeepKey(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := license.Open(context.Background(), license.Config{Keys: iss.Keyring(), AppID: "acme-appliance",
		StateDir: t.TempDir(), MachineID: "machine-A", ActivatedKeyFile: filepath.Join(file, "activated.json")})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := &product{t: t, iss: iss, m: m, mux: http.NewServeMux()}
	p.mux.Handle("/v1/license/", licensehttp.NewHandler(m))
	p.mux.Handle("/v1/license", licensehttp.NewHandler(m))
	a := p.do("POST", "/v1/license/activate", keyBody(iss.Mint()))
	a.want(t, 500, "internal")
	if a.body["reason"] != "CONFIG" {
		t.Fatalf("500 reason %v", a.body["reason"])
	}
	p.do("GET", "/v1/license", "").want(t, 404, "not_found")
}
