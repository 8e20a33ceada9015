package cmd_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// TestVerifyPEMAndExpiry: verify reads PEM public keys as well as a JWKS,
// and an expired key file is exit 4 with EXPIRED, a keys file that is no
// keyring exit 4 too — all without a server.
func TestVerifyPEMAndExpiry(t *testing.T) {
	dir := t.TempDir()
	key, err := mint.GenerateKey(license.ES256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemPath := filepath.Join(dir, "keys.pem")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := mint.NewSigner(key, mint.WithIssuer("acme"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, exp time.Time) string {
		c := mint.Claims{ID: "lic_pem", Subject: "sub_pem", Audience: []string{"Acme"}, TenantID: "ten_pem",
			IssuedAt: time.Now().Add(-48 * time.Hour), ExpiresAt: exp, Slot: license.SlotPrimary}
		tok, err := signer.License(c)
		if err != nil {
			t.Fatal(err)
		}
		file, err := mint.KeyFile(c, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.json", time.Now().Add(24*time.Hour))
	expired := write("expired.json", time.Now().Add(-24*time.Hour))

	r := want(t, ctl(t, nil, "", "verify", "--keys", pemPath, "--key-file", good, "-o", "json"), 0, "verify with PEM keys")
	v := decode[struct {
		Valid   bool
		License struct{ ID, Slot string }
		Slots   []struct{ Slot string }
	}](t, r)
	if !v.Valid || v.License.ID != "lic_pem" || v.License.Slot != "primary" || len(v.Slots) != 1 {
		t.Fatalf("verify a one-slot key file: %+v", v)
	}
	wantErr(t, ctl(t, nil, "", "verify", "--keys", pemPath, "--key-file", expired), 4, "verify an expired key file", "EXPIRED")
	wantErr(t, ctl(t, nil, "", "verify", "--keys", good, "--key-file", good), 4, "a key file given as the keys", "--keys")
	wantErr(t, ctl(t, nil, "", "verify", "--keys", pemPath, "--key-file", pemPath), 4, "PEM given as the key file", "INVALID_KEY_FILE")
	wantErr(t, ctl(t, nil, "not a token", "verify", "--keys", pemPath, "--token", "-"), 4, "garbage as a token", "MALFORMED")
}
