package productapp_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensekit/licensekit/internal/productapp"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
	"github.com/licensekit/licensekit/license/mint"
)

// --offline-request writes a request and exits 0; --offline-response
// imports the vendor's answer at start, and a restart keeps it.
func TestOfflineRequestAndResponseFlags(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
	dir := t.TempDir()
	keys := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(keys, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := iss.WriteKeyFile(dir)
	reqPath, respPath := filepath.Join(dir, "req.json"), filepath.Join(dir, "resp.json")
	t.Setenv("LICENSEKIT_MACHINE_ID", "appliance-1")
	args := []string{"--addr", "127.0.0.1:0", "--keys", keys, "--key-file", keyFile, "--state-dir", filepath.Join(dir, "state"), "--app-id", "acme-product"}
	if code := productapp.Main(context.Background(), append(args, "--offline-request", reqPath), nil, io.Discard); code != 0 {
		t.Fatalf("--offline-request exited %d", code)
	}
	data, err := os.ReadFile(reqPath)
	if err != nil {
		t.Fatal(err)
	}
	q, err := license.ParseOfflineRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mint.NewSigner(iss.Keys()[0].MintKey(), mint.WithIssuer("acme"))
	if err != nil {
		t.Fatal(err)
	}
	lease, err := signer.Lease(mint.Lease{LicenseID: q.LicenseID, Fingerprint: q.Fingerprint, Status: license.LeaseActive,
		ExpiresAt: time.Now().Add(365 * 24 * time.Hour), Offline: true, Nonce: q.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	resp := &license.OfflineResponse{LicenseID: q.LicenseID, Lease: lease}
	if err := os.WriteFile(respPath, resp.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second start: imported already, still active
		o, err := productapp.Parse(append(args, "--offline-response", respPath), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		app, err := productapp.New(context.Background(), o, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		s := app.Manager().Status()
		app.Close()
		if s.State != license.StateActive || s.Online || s.GraceDeadline.IsZero() {
			t.Fatalf("with the offline response: %s (%v), online %v, lease until %v", s.State, s.Err, s.Online, s.GraceDeadline)
		}
	}
}
