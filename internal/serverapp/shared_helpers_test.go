package serverapp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/internal/pgtest"
)

// Bounds the servers on one PostgreSQL database keep (docs/deploy.md says
// them too): a key activated, retired or a setting changed through one
// server is what every other one uses after at most this long.
const (
	signingBound  = 5 * time.Second // the control plane rereads the signing keys this often
	settingsBound = 5 * time.Second // and the settings
	slack         = 1500 * time.Millisecond
)

// shared is several server processes on one fresh PostgreSQL database
// that share one secret key file.
type shared struct {
	db, keyFile string
	servers     []*process
	admin       *http.Client
}

// startShared makes a fresh database on admin (the test server when "")
// and a secret key file, and starts n servers on them at the same time,
// with extra flags: they migrate the fresh database and make its first
// signing key together.
func startShared(t *testing.T, admin string, n int, extra ...string) *shared {
	t.Helper()
	sh := &shared{db: pgtest.FreshDB(t, admin), keyFile: filepath.Join(t.TempDir(), "licensekit.secret"),
		admin: &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}}
	t.Cleanup(sh.admin.CloseIdleConnections)
	if _, err := controlplane.LoadOrCreateSecretKey(sh.keyFile); err != nil {
		t.Fatal(err)
	}
	sh.servers = make([]*process, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.servers[i], errs[i] = launch(t, append([]string{"--db", sh.db, "--secret-key-file", sh.keyFile}, extra...)...)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return sh
}

// adminCall is call through the test's admin key, waiting out the admin
// rate limit (429) when a test goes faster.
func (sh *shared) adminCall(t *testing.T, srv int, method, path string, body any) (int, map[string]any) {
	t.Helper()
	for range 20 {
		code, out := call(t, sh.admin, method, sh.servers[srv].url+path, adminSecret, body)
		if code != http.StatusTooManyRequests {
			return code, out
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s %s: still 429 after 10s", method, path)
	return 0, nil
}

// issueMax issues a yearly licence through server srv with max_machines.
func (sh *shared) issueMax(t *testing.T, srv, max int, extra map[string]any) licence {
	t.Helper()
	body := map[string]any{"tenant_id": "ten_shared", "plan": "yearly", "max_machines": max}
	for k, v := range extra {
		body[k] = v
	}
	code, out := sh.adminCall(t, srv, "POST", "/licenses", body)
	if code != http.StatusCreated {
		t.Fatalf("POST /licenses: %d %v", code, out)
	}
	l := out["license"].(map[string]any)
	return licence{id: l["id"].(string), primary: l["primary"].(string)}
}

// device is the SDK's client of server srv.
func (sh *shared) device(t *testing.T, srv int) *heartbeat.Client {
	c := &heartbeat.Client{BaseURL: sh.servers[srv].url, Timeout: 20 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func deviceReq(l licence, fp string) heartbeat.Request {
	return heartbeat.Request{LicenseID: l.id, Token: l.primary, Fingerprint: fp, IdempotencyKey: "idem-" + fp}
}

// leaseKID is the kid in the protected header of a lease (a JWS).
func leaseKID(t *testing.T, jws string) string {
	t.Helper()
	head, _, ok := strings.Cut(jws, ".")
	if !ok {
		t.Fatalf("lease %q is not a JWS", jws)
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.KID == "" {
		t.Fatalf("lease header %s: %v", raw, err)
	}
	return h.KID
}

// eventually polls f every 100 ms until it returns nil or d has passed,
// and returns how long it took, or the last error.
func eventually(d time.Duration, f func() error) (time.Duration, error) {
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start), nil
		}
		if time.Since(start) > d {
			return time.Since(start), fmt.Errorf("after %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// beatStatus beats once and returns the status answered, or the error.
func beatStatus(ctx context.Context, c *heartbeat.Client, r heartbeat.Request) (string, error) {
	resp, err := c.Heartbeat(ctx, r)
	if err != nil {
		return "", err
	}
	return resp.Status, nil
}
