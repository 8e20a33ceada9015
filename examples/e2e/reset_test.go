//go:build !windows

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A reset reaches a running product through the binaries, without a
// restart: the product's next heartbeat after the reset is answered with
// the new key, which it checks and runs on. It waits for one heartbeat
// interval (the server's shortest, a minute).
func TestResetReachesRunningProduct(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a heartbeat interval (a minute); run without -short")
	}
	t.Parallel() // with TestLifecycle: each has its own server and product
	dir := t.TempDir()
	w := &world{t: t, dir: dir, admin: client{t: t, bearer: adminKey}, api: client{t: t}}
	w.serverBin = build(t, dir, "./examples/server")
	w.productBin = build(t, dir, "./examples/product")
	w.startServer()
	w.keys = filepath.Join(dir, "jwks.json")
	writeFile(t, w.keys, w.api.raw(w.serverURL+"/.well-known/jwks.json"))
	id, key := w.issue()

	// The product's own grace is left alone: the lease must outlast the
	// minute between heartbeats.
	product, url := start(t, "product", w.productBin, []string{"LICENSEKIT_MACHINE_ID=e2e-reset"}, "product listening",
		"--addr", "127.0.0.1:0", "--keys", w.keys, "--state-dir", filepath.Join(dir, "state"),
		"--app-id", "acme-product", "--control-plane", w.serverURL)
	if code, v := w.api.call("POST", url+"/v1/license/activate", map[string]string{"license_key": key}); code != 200 {
		t.Fatalf("activate: %d %v", code, v)
	}
	w.await(url, "active", "", 5*time.Second)
	before := w.issuedAt(url)

	time.Sleep(1100 * time.Millisecond) // the new key is issued in a later second
	code, v := w.admin.call("POST", w.serverURL+"/licenses/"+id+"/reset", map[string]any{"slot": "primary"})
	lic, _ := v["license"].(map[string]any)
	if code != 200 || lic == nil || lic["primary"] == key {
		t.Fatalf("reset: %d %v", code, v)
	}
	reset := time.Now()
	deadline := reset.Add(90 * time.Second)
	for w.issuedAt(url) == before {
		if time.Now().After(deadline) {
			t.Fatalf("the running product still presents the old key 90 s after the reset")
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the new key reached the running product %v after the reset", time.Since(reset).Round(time.Second))
	if st, why := w.licence(url); st != "active" {
		t.Fatalf("after the reset the licence is %s (%s)", st, why)
	}
	if got := w.reports(url); got != 200 {
		t.Fatalf("reports after the reset: %d", got)
	}
	product.stop()
	logs := product.logs()
	if !strings.Contains(logs, "delivered a new key") {
		t.Errorf("the product's log does not say it took the delivered key:\n%s", logs)
	}
	if strings.Contains(logs, key) || strings.Contains(logs, lic["primary"].(string)) {
		t.Error("the product logged a licence key")
	}
}

// issuedAt is the issued_at of the key the product runs on.
func (w *world) issuedAt(product string) string {
	w.t.Helper()
	code, v := w.api.call("GET", product+"/v1/license", nil)
	lic, _ := v["license"].(map[string]any)
	if code != 200 || lic == nil {
		w.t.Fatalf("GET /v1/license: %d %v", code, v)
	}
	s, _ := lic["issued_at"].(string)
	return s
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
