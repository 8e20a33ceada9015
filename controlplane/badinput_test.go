package controlplane_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
)

// snapshot is everything an admin can see, to assert a bad request changed nothing.
func (h *harness) snapshot() string {
	h.t.Helper()
	var b strings.Builder
	for _, p := range []string{"/licenses?limit=1000", "/keys?limit=1000", "/signing-keys", "/settings", "/machines?limit=1000"} {
		b.WriteString(h.do("GET", p, adminSecret, nil).Body.String())
	}
	fmt.Fprint(&b, h.events())
	return b.String()
}

func TestBadRequestsChangeNothing(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.FlushBeats(); err != nil {
		t.Fatal(err)
	}
	before := h.snapshot()
	big := `{"tenant_id":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		method, path, body, ctype string
		want                      int
	}{
		{"POST", "/licenses", `{"tenant_id":"ten_a"`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","tenant_id":"ten_b"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","metadata":{"a":"1","a":"2"}}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","admin":true}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a"} {}`, "application/json", 400},
		{"POST", "/licenses", `[]`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a"}`, "text/plain", 415},
		{"POST", "/licenses", `{"tenant_id":"ten_a"}`, "", 415},
		{"POST", "/licenses", big, "application/json", 413},
		{"POST", "/licenses", `{"tenant_id":"ten_a","ttl":"-5d"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","ttl":"99999999d"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","ttl":"0s"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","max_machines":0}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","max_machines":1e9}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"'; DROP TABLE licenses; --"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","plan":"forever"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","tenant_ctry":"Germany"}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","audience":["ok","\u0000"]}`, "application/json", 400},
		{"POST", "/licenses", `{"tenant_id":"ten_a","capabilities":["a","a"]}`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/reset", `{"slot":"tertiary"}`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/renew", `{"ttl":"forever"}`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/rebind", `{}`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/revoke", `{"why":"x"}`, "application/json", 400},
		{"POST", "/licenses/..%2f..%2fetc%2fpasswd/revoke", ``, "", 404},
		{"POST", "/licenses/lic_1%27%20OR%20%271%27%3D%271/revoke", ``, "", 404},
		{"DELETE", "/licenses/lic_does_not_exist", ``, "", 404},
		{"POST", "/keys", `{"name":"x","role":"god"}`, "application/json", 400},
		{"POST", "/keys", `{"name":"x","scopes":["root"]}`, "application/json", 400},
		{"POST", "/keys", `{"name":"x","expires":"-1d"}`, "application/json", 400},
		{"POST", "/keys", `{"name":""}`, "application/json", 400},
		{"POST", "/keys/key_nope/revoke", ``, "", 404},
		{"PUT", "/settings", `{"grace":"1s"}`, "application/json", 400},
		{"PUT", "/settings", `{"grace":"2h","heartbeat_interval":"3h"}`, "application/json", 400},
		{"PUT", "/settings", `{"plan_ttls":{"lifetime":"10d"}}`, "application/json", 400},
		{"POST", "/signing-keys", `{"alg":"HS256"}`, "application/json", 400},
		{"POST", "/signing-keys", `{"alg":"none"}`, "application/json", 400},
		{"POST", "/signing-keys/nope/activate", ``, "", 404},
		{"POST", "/licenses/validate", `{}`, "application/json", 400},
		{"GET", "/audit?since=yesterday", ``, "", 400},
		{"GET", "/machines?state=zombie", ``, "", 400},
		{"POST", "/licenses/" + l.ID + "/heartbeat", `{"token":"x"`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/heartbeat", `{"token":"x","fingerprint":"fp-A","extra":1}`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/heartbeat", `{"token":"x","token":"y","fingerprint":"fp-A"}`, "application/json", 400},
		{"POST", "/licenses/" + l.ID + "/heartbeat", `{"token":"x","fingerprint":"fp-A"}`, "text/plain", 415},
		{"POST", "/licenses/" + l.ID + "/heartbeat", `{"token":"` + strings.Repeat("a", 70<<10) + `","fingerprint":"f"}`, "application/json", 413},
		{"POST", "/licenses/" + l.ID + "/activate", `{"token":"not.a.jws","fingerprint":"fp-Z","idempotency_key":"k"}`, "application/json", 400},
		{"POST", "/licenses/%27%3B--/activate", `{"token":"x","fingerprint":"f"}`, "application/json", 404},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %s %.60s: %d %s, want %d", c.method, c.path, c.body, rec.Code, rec.Body.String(), c.want)
			continue
		}
		errorCode(t, rec)
	}
	if after := h.snapshot(); after != before {
		t.Fatalf("bad requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := controlplane.Secret("lk_key_abc_supersecret")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", s)
	js, _ := json.Marshal(map[string]any{"s": s})
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), logs.String(), string(js)} {
		if strings.Contains(out, "supersecret") || !strings.Contains(out, "[redacted]") {
			t.Fatalf("secret shown: %s", out)
		}
	}
}

func TestLogsCarryNoSecret(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(c *controlplane.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	l := h.issue("ten_a", nil)
	k := h.key("ten_a", "onboarding", "read:licenses")
	h.do("GET", "/licenses", k, nil)
	if _, err := h.activate(l, l.Primary, "fp"); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{adminSecret, k, l.Primary, l.Secondary} {
		if strings.Contains(logs.String(), secret) {
			t.Fatal("a log line carries a secret or a whole token")
		}
	}
}

func TestLoadOrCreateSecretKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret.key")
	k1, err := controlplane.LoadOrCreateSecretKey(p)
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v %d", err, len(k1))
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	k2, err := controlplane.LoadOrCreateSecretKey(p)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v", err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := controlplane.LoadOrCreateSecretKey(p); err == nil {
		t.Fatal("a world-readable key was accepted")
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("tooshort"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := controlplane.LoadOrCreateSecretKey(short); err == nil {
		t.Fatal("a key of the wrong size was accepted")
	}
}

func TestSealedKeysNeedTheirSecretKey(t *testing.T) {
	h := newHarness(t)
	_, err := controlplane.New(t.Context(), controlplane.Config{Store: h.store, Issuer: issuer, SecretKey: bytes.Repeat([]byte{8}, 32)})
	if err == nil {
		t.Fatal("a server with another secret key opened the sealed signing key")
	}
}

func TestBootstrapSecretShownOnce(t *testing.T) {
	h := newHarness(t, func(c *controlplane.Config) { c.AdminKey = "" })
	sec := h.srv.BootstrapSecret()
	if sec == "" || h.srv.BootstrapSecret() != "" {
		t.Fatal("bootstrap secret not given exactly once")
	}
	if rec := h.do("GET", "/keys", string(sec), nil); rec.Code != 200 {
		t.Fatalf("bootstrap secret: %d", rec.Code)
	}
	// A second start over the same store makes no new one.
	s2, err := controlplane.New(t.Context(), controlplane.Config{Store: h.store, Issuer: issuer, SecretKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.BootstrapSecret() != "" {
		t.Fatal("a second start made another bootstrap secret")
	}
}
