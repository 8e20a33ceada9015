package licensehttp_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensehttp"
	"github.com/licensekit/licensekit/license/licensetest"
)

// send sends one raw request to the product's mux and returns the recorder.
func (p *product) send(req *http.Request) *httptest.ResponseRecorder {
	p.t.Helper()
	rec := httptest.NewRecorder()
	p.mux.ServeHTTP(rec, req)
	return rec
}

func activated(t *testing.T, p *product) {
	t.Helper()
	p.do("POST", "/v1/license/activate", keyBody(p.key())).want(t, 200, "")
}

// A browser page on another site posts a simple form (text/plain, no
// preflight) to the product on localhost: refused, the licence stays.
func TestAttack2CSRFSimpleFormPost(t *testing.T) {
	p := newProduct(t, false)
	activated(t, p)
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"fetch metadata cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"old browser, foreign Origin", map[string]string{"Origin": "https://evil.example"}},
		{"Origin null (sandboxed frame)", map[string]string{"Origin": "null"}},
		{"no browser headers, text/plain", map[string]string{}},
	} {
		req := httptest.NewRequest("POST", "/v1/license/deactivate", strings.NewReader("{}"))
		req.Host = "localhost:8080"
		req.Header.Set("Content-Type", "text/plain")
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		if rec := p.send(req); rec.Code != http.StatusForbidden && rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: status %d, want 403 or 415: %s", tc.name, rec.Code, rec.Body)
		}
		if p.m.Status().License == nil {
			t.Fatalf("%s: the licence was deactivated", tc.name)
		}
	}
}

// DNS rebinding: a page on evil.example, whose name now resolves to
// 127.0.0.1, is same-origin with the product as far as the browser knows,
// so fetch metadata and Origin do not help; only the Host header tells.
func TestAttack2DNSRebinding(t *testing.T) {
	p := newProduct(t, false)
	activated(t, p)
	for _, path := range []string{"/v1/license", "/v1/license/deactivate", "/v1/license/validate"} {
		method, body := "POST", "{}"
		switch path {
		case "/v1/license":
			method, body = "GET", ""
		case "/v1/license/validate":
			body = keyBody(p.key())
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Host = "evil.example:8080"
		req.Header.Set("Origin", "http://evil.example:8080")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := p.send(req)
		if rec.Code != http.StatusMisdirectedRequest || !strings.Contains(rec.Body.String(), `"code":"misdirected"`) {
			t.Errorf("%s %s from a rebound name: status %d, want 421: %s", method, path, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), p.m.Fingerprint()) {
			t.Errorf("%s %s: the answer leaks the fingerprint", method, path)
		}
	}
	if p.m.Status().License == nil {
		t.Fatal("a rebound page deactivated the licence")
	}
	// The names and addresses of this machine still work; so does a name
	// the product allows.
	for _, host := range []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080", "10.0.0.7:8080", "app.localhost", ""} {
		req := httptest.NewRequest("GET", "/v1/license", nil)
		req.Host = host
		if rec := p.send(req); rec.Code != http.StatusOK {
			t.Errorf("Host %q: status %d, want 200: %s", host, rec.Code, rec.Body)
		}
	}
	api := licensehttp.NewHandler(p.m, licensehttp.WithHosts("Licensing.Example.COM."))
	for host, want := range map[string]int{"licensing.example.com:443": 200, "licensing.example.com": 200, "evil.example": 421, "sub.licensing.example.com": 421} {
		req := httptest.NewRequest("GET", "/v1/license", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("WithHosts, Host %q: status %d, want %d", host, rec.Code, want)
		}
	}
}

// Path tricks reach no call by another name, and methods other than the
// documented ones change nothing.
func TestAttack2PathsAndMethods(t *testing.T) {
	p := newProduct(t, false)
	activated(t, p)
	api := licensehttp.NewHandler(p.m)
	for _, tc := range []struct{ method, target string }{
		{"POST", "/v1/license/../license/deactivate"},
		{"POST", "/v1/license//deactivate"},
		{"POST", "/v1/license/deactivate/"},
		{"POST", "/v1/license/%2e%2e/license/deactivate"},
		{"POST", "/v1/license/Deactivate"},
		{"POST", "/v1/license/deactivate%00"},
		{"PUT", "/v1/license/deactivate"},
		{"DELETE", "/v1/license"},
		{"PATCH", "/v1/license/deactivate"},
		{"HEAD", "/v1/license/deactivate"},
		{"OPTIONS", "/v1/license/deactivate"},
		{"GET", "/v1/license/deactivate"},
	} {
		// Both through a mux (which may redirect a cleaned path) and mounted
		// bare (which sees the path as sent).
		for _, h := range []http.Handler{p.mux, api} {
			req := httptest.NewRequest(tc.method, "/", strings.NewReader("{}"))
			u, err := url.ParseRequestURI(tc.target) // as the server parses it: no dot segments resolved
			if err != nil {
				t.Fatal(err)
			}
			req.URL, req.RequestURI = u, tc.target
			req.Host = "localhost"
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code < 300 {
				t.Errorf("%s %s: status %d: %s", tc.method, tc.target, rec.Code, rec.Body)
			}
		}
		if p.m.Status().License == nil {
			t.Fatalf("%s %s deactivated the licence", tc.method, tc.target)
		}
	}
	// HEAD of the licence is a GET without a body.
	req := httptest.NewRequest("HEAD", "http://localhost/v1/license", nil)
	if rec := p.send(req); rec.Code != 200 {
		t.Fatalf("HEAD /v1/license: %d", rec.Code)
	}
}

// Hostile bodies: nested, huge, repeated, wrong types, control characters.
// Each is a clear 4xx, never a panic, and nothing echoes the key.
func TestAttack2HostileBodies(t *testing.T) {
	p := newProduct(t, false)
	nested := `{"license_key":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	evilKey := "eyJ\x1b[31m\r\nlevel=ERROR msg=forged\u202e" + strings.Repeat("A", 200)
	for name, tc := range map[string]struct {
		body   string
		status int
	}{
		"nested arrays":       {nested, 400},
		"nested object key":   {`{"license_key":{"license_key":"x"}}`, 400},
		"huge":                {`{"license_key":"` + strings.Repeat("A", licensehttp.MaxBodySize) + `"}`, 413},
		"duplicate":           {`{"license_key":"a","license_key":"b"}`, 400},
		"number":              {`{"license_key":1e999}`, 400},
		"two objects":         {`{"license_key":"a"}{"license_key":"b"}`, 400},
		"control characters":  {keyBody(evilKey), 400},
		"case-folded member":  {`{"License_Key":"x"}`, 400},
		"escaped member name": {`{"license\u005fkey":"` + evilKey[:3] + `"}`, 400},
	} {
		a := p.do("POST", "/v1/license/activate", tc.body)
		if a.status != tc.status {
			t.Errorf("%s: status %d, want %d: %.200s", name, a.status, tc.status, a.raw)
		}
		if strings.Contains(a.raw, "\x1b") || strings.Contains(a.raw, "forged") || strings.Contains(a.raw, strings.Repeat("A", 41)) {
			t.Errorf("%s: the answer echoes the key: %.300s", name, a.raw)
		}
	}
	if p.m.Status().License != nil {
		t.Fatal("a hostile body installed a licence")
	}
}

// Nothing the product logs carries a whole licence token, whatever
// happens to it: activated, refused, validated, deactivated.
func TestAttack2NoTokenInLogs(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
	var logs bytes.Buffer
	m, err := license.Open(context.Background(), license.Config{Keys: iss.Keyring(), AppID: "acme-appliance",
		StateDir: filepath.Join(t.TempDir(), "state"), Issuer: "acme", MachineID: "machine-A",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := &product{t: t, iss: iss, m: m, mux: http.NewServeMux()}
	p.mux.Handle("/v1/license/", licensehttp.NewHandler(m))
	good := iss.Mint(licensetest.Capabilities("reports:read"))
	bad := good[:len(good)-6] + "AAAAAA"
	p.do("POST", "/v1/license/validate", keyBody(bad)).want(t, 200, "")
	p.do("POST", "/v1/license/activate", keyBody(bad)).want(t, 400, "invalid_license_key")
	p.do("POST", "/v1/license/activate", keyBody(good)).want(t, 200, "")
	p.do("POST", "/v1/license/validate", keyBody(good)).want(t, 200, "")
	p.do("POST", "/v1/license/deactivate", "{}").want(t, 200, "")
	out, _ := io.ReadAll(&logs)
	for _, tok := range []string{good, bad} {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if bytes.Contains(out, []byte(sig)) {
			t.Fatalf("a log line carries a token's signature:\n%s", out)
		}
	}
	if !bytes.Contains(out, []byte("activated")) {
		t.Fatalf("the test saw no log at all, so it proves nothing:\n%s", out)
	}
}
