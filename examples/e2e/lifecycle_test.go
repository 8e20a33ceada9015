//go:build !windows

package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const adminKey = "e2e-admin-secret-0123456789"

// grace is the product's own cap on offline use (LICENSEKIT_GRACE): the
// control plane's shortest grace is an hour and its shortest heartbeat
// interval a minute, so the product shortens the window to seconds and
// is restarted where a run must reach the control plane at once (every
// start of the manager contacts it immediately).
const grace = 10 * time.Second

type world struct {
	t          *testing.T
	dir        string
	serverBin  string
	productBin string
	keys       string // the control plane's JWKS, as the product's --keys
	serverAddr string // host:port, kept across server restarts
	serverURL  string
	server     *proc
	admin      client
	api        client
}

func (w *world) startServer() {
	w.t.Helper()
	addr := "127.0.0.1:0"
	if w.serverAddr != "" {
		addr = w.serverAddr
	}
	w.server, w.serverURL = start(w.t, "server", w.serverBin, []string{"LICENSEKIT_ADMIN_KEY=" + adminKey},
		"control plane listening", "--addr", addr, "--db", filepath.Join(w.dir, "licensekit.db"),
		"--heartbeat-interval", "1m", "--grace", "1h", "--issuer", "acme")
	w.serverAddr = strings.TrimPrefix(w.serverURL, "http://")
}

// startProduct runs the product; cp "" is offline mode.
func (w *world) startProduct(stateDir, cp string) (*proc, string) {
	w.t.Helper()
	args := []string{"--addr", "127.0.0.1:0", "--keys", w.keys, "--state-dir", stateDir, "--app-id", "acme-product"}
	if cp != "" {
		args = append(args, "--control-plane", cp)
	}
	return start(w.t, "product", w.productBin, []string{"LICENSEKIT_MACHINE_ID=e2e-machine", "LICENSEKIT_GRACE=" + grace.String()},
		"product listening", args...)
}

// licence reads the product's GET /v1/license: its status and reason,
// or "none" for a 404.
func (w *world) licence(product string) (status, reason string) {
	w.t.Helper()
	code, v := w.api.call("GET", product+"/v1/license", nil)
	if code == 404 {
		return "none", ""
	}
	lic, ok := v["license"].(map[string]any)
	if code != 200 || !ok {
		w.t.Fatalf("GET /v1/license: %d %v", code, v)
	}
	status, _ = lic["status"].(string)
	reason, _ = lic["reason"].(string)
	return status, reason
}

// await polls the product until its licence is in status (with reason,
// when given), up to a deadline.
func (w *world) await(product, status, reason string, within time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(within)
	var got, why string
	for {
		got, why = w.licence(product)
		if got == status && (reason == "" || why == reason) {
			w.t.Logf("%s: %s %s", time.Now().Format("15:04:05.000"), got, why)
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the licence is %s (%s) after %v, want %s (%s)", got, why, within, status, reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *world) reports(product string) int {
	w.t.Helper()
	code, _ := w.api.call("GET", product+"/v1/reports", nil)
	return code
}

func (w *world) issue() (id, key string) {
	w.t.Helper()
	code, v := w.admin.call("POST", w.serverURL+"/licenses", map[string]any{
		"tenant_id": "ten_e2e", "audience": []string{"E2E Health GmbH"}, "capabilities": []string{"reports:read"}, "plan": "yearly",
	})
	lic, _ := v["license"].(map[string]any)
	if code != 201 || lic == nil {
		w.t.Fatalf("issue: %d %v", code, v)
	}
	return lic["id"].(string), lic["primary"].(string)
}

func (w *world) adminPost(path string) {
	w.t.Helper()
	if code, v := w.admin.call("POST", w.serverURL+path, map[string]any{}); code != 200 {
		w.t.Fatalf("POST %s: %d %v", path, code, v)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	began := time.Now()
	dir := t.TempDir()
	w := &world{t: t, dir: dir, admin: client{t: t, bearer: adminKey}, api: client{t: t}}
	w.serverBin = build(t, dir, "./examples/server")
	w.productBin = build(t, dir, "./examples/product")
	t.Logf("built in %v", time.Since(began).Round(time.Millisecond))
	began = time.Now()

	w.startServer()
	w.keys = filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(w.keys, w.api.raw(w.serverURL+"/.well-known/jwks.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, key := w.issue()
	_, offlineKey := w.issue() // for offline mode, at the end

	// Online: activate through the product.
	stateDir := filepath.Join(dir, "product-state")
	product, url := w.startProduct(stateDir, w.serverURL)
	if st, _ := w.licence(url); st != "none" {
		t.Fatalf("a fresh product has licence status %s", st)
	}
	code, v := w.api.call("POST", url+"/v1/license/activate", map[string]string{"license_key": key})
	if code != 200 || v["license_key"] != key {
		t.Fatalf("activate: %d %v", code, v)
	}
	w.await(url, "active", "", 5*time.Second)
	if got := w.reports(url); got != 200 {
		t.Fatalf("reports while active: %d", got)
	}
	code, v = w.admin.call("GET", w.serverURL+"/licenses/"+id, nil)
	if lic, _ := v["license"].(map[string]any); code != 200 || fmt.Sprint(lic["machines"]) == "[]" {
		t.Fatalf("the control plane shows no machine for %s: %d %v", id, code, v)
	}

	// The control plane goes away: grace, then locked once the lease's
	// (shortened) window has passed.
	w.server.stop()
	product.stop()
	product, url = w.startProduct(stateDir, w.serverURL)
	w.await(url, "grace", "", 5*time.Second)
	if got := w.reports(url); got != 200 {
		t.Fatalf("reports in grace: %d", got)
	}
	w.await(url, "locked", "GRACE_EXPIRED", grace+10*time.Second)
	if got := w.reports(url); got != 403 {
		t.Fatalf("reports while locked: %d", got)
	}

	// It comes back: active again.
	w.startServer()
	product.stop()
	product, url = w.startProduct(stateDir, w.serverURL)
	w.await(url, "active", "", 10*time.Second)

	// Suspended, restored.
	w.adminPost("/licenses/" + id + "/suspend")
	product.stop()
	product, url = w.startProduct(stateDir, w.serverURL)
	w.await(url, "suspended", "SUSPENDED", 10*time.Second)
	if got := w.reports(url); got != 403 {
		t.Fatalf("reports while suspended: %d", got)
	}
	w.adminPost("/licenses/" + id + "/restore")
	product.stop()
	product, url = w.startProduct(stateDir, w.serverURL)
	w.await(url, "active", "", 10*time.Second)

	// Revoked, and it stays so across a restart with no control plane to ask.
	w.adminPost("/licenses/" + id + "/revoke")
	product.stop()
	product, url = w.startProduct(stateDir, w.serverURL)
	w.await(url, "locked", "REVOKED", 10*time.Second)
	product.stop()
	w.server.stop()
	product, url = w.startProduct(stateDir, w.serverURL)
	if st, why := w.licence(url); st != "locked" || why != "REVOKED" {
		t.Fatalf("after a restart the revoked licence is %s (%s)", st, why)
	}
	// Deactivating and activating it again does not clear the revocation.
	if code, v := w.api.call("POST", url+"/v1/license/deactivate", map[string]any{}); code != 503 {
		t.Fatalf("deactivate with the control plane down: %d %v (want 503, nothing changed)", code, v)
	}
	if st, why := w.licence(url); st != "locked" || why != "REVOKED" {
		t.Fatalf("after a failed deactivation the licence is %s (%s)", st, why)
	}
	product.stop()

	// Offline mode: activate, 409, deactivate, 404; no control plane at all.
	product, url = w.startProduct(filepath.Join(dir, "offline-state"), "")
	code, v = w.api.call("POST", url+"/v1/license/activate", map[string]string{"license_key": offlineKey})
	if code != 200 {
		t.Fatalf("offline activate: %d %v", code, v)
	}
	w.await(url, "active", "", time.Second)
	if code, _ := w.api.call("GET", url+"/v1/license", nil); code != 200 {
		t.Fatalf("offline GET: %d", code)
	}
	if code, v := w.api.call("POST", url+"/v1/license/activate", map[string]string{"license_key": offlineKey}); code != 409 {
		t.Fatalf("second offline activate: %d %v", code, v)
	}
	product.stop() // an activated key survives a restart
	product, url = w.startProduct(filepath.Join(dir, "offline-state"), "")
	w.await(url, "active", "", time.Second)
	if code, v := w.api.call("POST", url+"/v1/license/deactivate", map[string]any{}); code != 200 || v["success"] != true {
		t.Fatalf("offline deactivate: %d %v", code, v)
	}
	if code, v := w.api.call("GET", url+"/v1/license", nil); code != 404 || v["code"] != "not_found" {
		t.Fatalf("GET after the offline deactivation: %d %v", code, v)
	}
	product.stop() // the transition to unlicensed is logged by then
	logs := product.logs()
	for _, want := range []string{"licence state changed", "state=active", "state=unlicensed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the product's log lacks %q", want)
		}
	}
	if strings.Contains(logs, offlineKey) {
		t.Error("the product logged the licence key")
	}
	t.Logf("lifecycle in %v", time.Since(began).Round(time.Millisecond))
}
