package controlplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
)

const (
	adminSecret = "test-admin-secret-0123456789"
	issuer      = "acme"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     testing.TB
	srv   *controlplane.Server
	store *memstore.Store
	clock *clock
}

func newHarness(t testing.TB, edit ...func(*controlplane.Config)) *harness {
	t.Helper()
	h := &harness{t: t, store: memstore.New(), clock: &clock{t: t0}}
	cfg := controlplane.Config{
		Store: h.store, Issuer: issuer, AdminKey: adminSecret, Clock: h.clock.Now,
		SecretKey:       bytes.Repeat([]byte{7}, 32),
		DeviceRateLimit: controlplane.RateLimit{PerSecond: -1},
		AdminRateLimit:  controlplane.RateLimit{PerSecond: -1},
		// Tests send many bad secrets from one address; authfail_test.go
		// tests the limit.
		AuthFailureLimit: controlplane.RateLimit{PerSecond: -1},
	}
	for _, e := range edit {
		e(&cfg)
	}
	srv, err := controlplane.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// do sends one request; body is JSON-encoded unless it is a string.
func (h *harness) do(method, path, key string, body any, header ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return rec
}

// must sends a request that must answer want, and decodes the answer.
func (h *harness) must(want int, method, path, key string, body any, header ...string) map[string]any {
	h.t.Helper()
	rec := h.do(method, path, key, body, header...)
	if rec.Code != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, want, rec.Body.String())
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		h.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, rec.Body.String())
	}
	return out
}

// errorCode returns the envelope's code of an answer.
func errorCode(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code == "" {
		t.Fatalf("status %d without an error envelope: %s", rec.Code, rec.Body.String())
	}
	return env.Error.Code
}

type lic struct {
	ID, Primary, Secondary string
	raw                    map[string]any
}

// issue issues a licence as the admin; extra adds members to the body.
func (h *harness) issue(tenant string, extra map[string]any) lic {
	h.t.Helper()
	body := map[string]any{"tenant_id": tenant, "audience": "Acme Health GmbH", "plan": "yearly"}
	for k, v := range extra {
		body[k] = v
	}
	out := h.must(201, "POST", "/licenses", adminSecret, body)
	l := out["license"].(map[string]any)
	return lic{ID: l["id"].(string), Primary: l["primary"].(string), Secondary: l["secondary"].(string), raw: l}
}

// key creates an API key and returns its secret.
func (h *harness) key(tenant, role string, scopes ...string) string {
	h.t.Helper()
	body := map[string]any{"name": "k-" + time.Now().Format("150405.000000000"), "role": role, "scopes": scopes}
	if tenant != "" {
		body["tenant_id"] = tenant
	}
	out := h.must(201, "POST", "/keys", adminSecret, body)
	return out["key"].(map[string]any)["secret"].(string)
}

// roundTripper sends requests straight into the handler.
type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// client is the SDK's device client, wired to the server in memory.
func (h *harness) client() *heartbeat.Client {
	return &heartbeat.Client{BaseURL: "http://cp.test", HTTPClient: &http.Client{Transport: roundTripper{h.srv}}}
}

// verifier checks tokens and leases against the server's published keys.
func (h *harness) verifier() *license.Verifier {
	h.t.Helper()
	rec := h.do("GET", "/.well-known/jwks.json", "", nil)
	if rec.Code != 200 {
		h.t.Fatalf("jwks: %d", rec.Code)
	}
	ring, err := license.ParseKeyring(rec.Body.Bytes())
	if err != nil {
		h.t.Fatalf("jwks: %v", err)
	}
	return license.NewVerifier(ring, license.WithIssuer(issuer), license.WithClock(h.clock.Now))
}

// lease verifies a lease and checks it is for the licence and machine.
func (h *harness) lease(resp *heartbeat.Response, licenseID, fp string) *license.Lease {
	h.t.Helper()
	l, err := h.verifier().VerifyLease(resp.Lease)
	if err != nil {
		h.t.Fatalf("lease does not verify: %v", err)
	}
	if l.LicenseID != licenseID || l.Fingerprint != fp || l.Status != resp.Status || l.Nonce == "" || l.Nonce != resp.Nonce {
		h.t.Fatalf("lease %+v, want licence %s, machine %s, status %s, nonce %q", l, licenseID, fp, resp.Status, resp.Nonce)
	}
	return l
}

func (h *harness) activate(l lic, token, fp string) (*heartbeat.Response, error) {
	return h.client().Activate(context.Background(), heartbeat.Request{LicenseID: l.ID, Token: token, Fingerprint: fp, IdempotencyKey: "idem-" + fp})
}

func (h *harness) beat(l lic, token, fp string) (*heartbeat.Response, error) {
	return h.client().Heartbeat(context.Background(), heartbeat.Request{LicenseID: l.ID, Token: token, Fingerprint: fp})
}

func (h *harness) deactivate(l lic, token, fp string) error {
	return h.client().Deactivate(context.Background(), heartbeat.Request{LicenseID: l.ID, Token: token, Fingerprint: fp})
}

// events returns the number of audit events.
func (h *harness) events() int {
	h.t.Helper()
	n := 0
	cursor := ""
	for {
		out := h.must(200, "GET", "/audit?limit=1000&cursor="+cursor, adminSecret, nil)
		n += len(out["events"].([]any))
		cursor = out["next_cursor"].(string)
		if cursor == "" {
			return n
		}
	}
}
