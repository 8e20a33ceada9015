package productapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/licensekit/licensekit/internal/productapp"
	"github.com/licensekit/licensekit/license/licensetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a log sink safe for the product's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the product offline on a loopback port with keys from iss,
// until stop is called or the test ends.
func start(t *testing.T, iss *licensetest.Issuer, stateDir string, logs io.Writer) (app *productapp.App, stop func()) {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(keys, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := productapp.Parse([]string{"--addr", "127.0.0.1:0", "--keys", keys, "--state-dir", stateDir, "--app-id", "acme-product"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LICENSEKIT_MACHINE_ID", "machine-A")
	app, err = productapp.New(context.Background(), o, nil, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return app, stop
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res.StatusCode, v
}

func TestOfflineLifecycleOverHTTP(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	iss := licensetest.NewIssuer(t)
	logs := &syncBuffer{}
	stateDir := t.TempDir()
	app, stop := start(t, iss, stateDir, logs)
	u := app.URL()
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("URL %q", u)
	}
	if code, v := call(t, "GET", u+"/v1/license", ""); code != 404 || v["code"] != "not_found" {
		t.Fatalf("GET before activation: %d %v", code, v)
	}
	if code, v := call(t, "GET", u+"/v1/reports", ""); code != 403 || v["reason"] != "UNLICENSED" {
		t.Fatalf("reports before activation: %d %v", code, v)
	}
	key := iss.Mint(licensetest.Capabilities("reports:read"))
	body := `{"license_key":"` + key + `"}`
	code, v := call(t, "POST", u+"/v1/license/activate", body)
	if code != 200 || v["license_key"] != key {
		t.Fatalf("activate: %d %v", code, v)
	}
	code, v = call(t, "GET", u+"/v1/license", "")
	if lic, _ := v["license"].(map[string]any); code != 200 || lic["status"] != "active" {
		t.Fatalf("GET after activation: %d %v", code, v)
	}
	if code, v := call(t, "GET", u+"/v1/reports", ""); code != 200 || v["reports"] == nil {
		t.Fatalf("reports: %d %v", code, v)
	}
	if code, v := call(t, "POST", u+"/v1/license/activate", body); code != 409 || v["code"] != "already_activated" {
		t.Fatalf("second activate: %d %v", code, v)
	}
	if code, v := call(t, "POST", u+"/v1/license/deactivate", "{}"); code != 200 || v["success"] != true {
		t.Fatalf("deactivate: %d %v", code, v)
	}
	if code, v := call(t, "GET", u+"/v1/license", ""); code != 404 || v["message"] != "No active license found" {
		t.Fatalf("GET after deactivation: %d %v", code, v)
	}
	// The transitions were logged (by the time the product has stopped:
	// the manager tells its listener of the last change before Close returns).
	stop()
	for _, want := range []string{"product listening", "licence state changed", "state=active", "state=unlicensed"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), key) {
		t.Error("the log holds the licence key")
	}
}

func TestMainUsage(t *testing.T) {
	var out bytes.Buffer
	if code := productapp.Main(context.Background(), []string{"-h"}, nil, &out); code != 0 || !strings.Contains(out.String(), "-control-plane URL") {
		t.Fatalf("-h: %d %s", code, out.String())
	}
	for _, args := range [][]string{{"--nope"}, {"extra"}, {"--addr", "8080"}, {"--app-id", ""}} {
		out.Reset()
		if code := productapp.Main(context.Background(), args, nil, &out); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, out.String())
		}
	}
	// The placeholder keys: a clear refusal, not a product that trusts nothing.
	placeholder, err := os.ReadFile("../../examples/product/keys.jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := productapp.Main(context.Background(), []string{"--addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, placeholder, &out)
	if code != 2 || !strings.Contains(out.String(), "placeholder") || !strings.Contains(out.String(), "--keys") {
		t.Fatalf("placeholder keys: exit %d: %s", code, out.String())
	}
	// A control plane URL that cannot work fails at start.
	iss := licensetest.NewIssuer(t)
	keys := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(keys, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code = productapp.Main(context.Background(), []string{"--addr", "127.0.0.1:0", "--keys", keys, "--state-dir", t.TempDir(),
		"--control-plane", "licensing.example.com"}, nil, &out)
	if code != 2 || !strings.Contains(out.String(), "Config.ServerURL") {
		t.Fatalf("bad --control-plane: exit %d: %s", code, out.String())
	}
}
