package serverapp_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/internal/serverapp"
)

// A licence issued with the generated bootstrap key, activated and beaten
// through the SDK's client; shutting down writes the last beat, which was
// still held in memory.
func TestBeatsAreWrittenAtShutdown(t *testing.T) {
	dir := t.TempDir()
	o := options(dir)
	o.FlushInterval = time.Hour // only the shutdown writes the beats
	r := start(t, o)
	boot := string(r.BootstrapSecret())
	if !strings.HasPrefix(boot, "lk_key_bootstrap_") {
		t.Fatalf("bootstrap secret %q", boot)
	}
	l := issue(t, r.client, r.URL(), boot, "ten_a")

	dev := &heartbeat.Client{BaseURL: r.URL()}
	defer dev.CloseIdleConnections()
	ctx := context.Background()
	req := heartbeat.Request{LicenseID: l.id, Token: l.primary, Fingerprint: "fp-test-1", IdempotencyKey: heartbeat.NewIdempotencyKey()}
	if _, err := dev.Activate(ctx, req); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	var before time.Time
	for range 3 {
		before = time.Now().UTC().Truncate(time.Microsecond)
		resp, err := dev.Heartbeat(ctx, req)
		if err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		if resp.Status != heartbeat.StatusActive || resp.Lease == "" {
			t.Fatalf("Heartbeat answer %+v", resp)
		}
	}
	after := time.Now().UTC()
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	st, err := sqlite.Open(ctx, o.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.GetLicense(ctx, l.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Machines) != 1 {
		t.Fatalf("machines %+v", got.Machines)
	}
	last := got.Machines[0].LastHeartbeatAt
	if last.Before(before) || last.After(after) {
		t.Fatalf("stored last heartbeat %v, want the last beat's, in [%v, %v]", last, before, after)
	}
}

// A restart on the same file keeps the licences, the signing key and the
// API keys; the bootstrap secret is not shown again.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	o := options(dir)
	r := start(t, o)
	boot := string(r.BootstrapSecret())
	l := issue(t, r.client, r.URL(), boot, "ten_a")
	code, out := call(t, r.client, "POST", r.URL()+"/keys", boot,
		map[string]any{"name": "support-1", "tenant_id": "ten_a", "role": "support", "scopes": []string{"admin:tenants"}})
	if code != http.StatusCreated {
		t.Fatalf("POST /keys: %d %v", code, out)
	}
	support := out["key"].(map[string]any)["secret"].(string)
	_, jwks1 := call(t, r.client, "GET", r.URL()+"/.well-known/jwks.json", "", nil)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(o.DB + serverapp.SecretKeySuffix); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", fi, err)
	}

	r2 := start(t, o)
	if s := r2.BootstrapSecret(); s != "" {
		t.Fatal("the bootstrap secret was shown again")
	}
	for _, key := range []string{boot, support} {
		code, out := call(t, r2.client, "GET", r2.URL()+"/licenses/"+l.id, key, nil)
		if code != http.StatusOK || out["license"].(map[string]any)["primary"] != l.primary {
			t.Fatalf("GET licence after restart: %d %v", code, out)
		}
	}
	_, jwks2 := call(t, r2.client, "GET", r2.URL()+"/.well-known/jwks.json", "", nil)
	if kids(jwks1) == "" || kids(jwks1) != kids(jwks2) {
		t.Fatalf("signing keys changed across a restart: %q → %q", kids(jwks1), kids(jwks2))
	}
	// The licence token still verifies for a device: the signing key is the same one.
	dev := &heartbeat.Client{BaseURL: r2.URL()}
	defer dev.CloseIdleConnections()
	if _, err := dev.Activate(context.Background(), heartbeat.Request{LicenseID: l.id, Token: l.primary,
		Fingerprint: "fp-after-restart", IdempotencyKey: heartbeat.NewIdempotencyKey()}); err != nil {
		t.Fatalf("Activate after restart: %v", err)
	}
}

func kids(jwks map[string]any) string {
	var s []string
	keys, _ := jwks["keys"].([]any)
	for _, k := range keys {
		s = append(s, k.(map[string]any)["kid"].(string))
	}
	return strings.Join(s, ",")
}

// Another secret key file, or none beside an existing database, is a
// clear error and changes nothing.
func TestSecretKeyMismatch(t *testing.T) {
	dir := t.TempDir()
	o := options(dir)
	r := start(t, o)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	keyFile := o.DB + serverapp.SecretKeySuffix
	good, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	other := make([]byte, 32)
	rand.Read(other)
	if err := os.WriteFile(keyFile, other, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = serverapp.New(context.Background(), o)
	if !errors.Is(err, controlplane.ErrSecretKey) || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("New with another secret key: %v, want ErrSecretKey naming %s", err, keyFile)
	}

	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	_, err = serverapp.New(context.Background(), o)
	if !errors.Is(err, controlplane.ErrSecretKey) || !strings.Contains(err.Error(), "does not") {
		t.Fatalf("New without the key file: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new secret key file was made beside the old database: %v", err)
	}

	if err := os.WriteFile(keyFile, good, 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, o) // the right key opens it again
}
