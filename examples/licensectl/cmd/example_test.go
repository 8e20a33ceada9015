package cmd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/licensekit/licensekit/examples/licensectl/cmd"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// ExampleRun checks a customer's key file offline, as a support desk would
// with "licensectl verify", and reads the exit code a script would see.
func ExampleRun() {
	// The vendor's signing key and its published JWKS; a key file signed with it.
	key, _ := mint.GenerateKey(license.EdDSA)
	signer, _ := mint.NewSigner(key, mint.WithIssuer("acme"))
	claims := mint.Claims{ID: "lic_example", Subject: "sub_example", Audience: []string{"Acme Health GmbH"},
		TenantID: "ten_abc123", Plan: license.PlanYearly, Capabilities: []string{"kyc:write"},
		IssuedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}
	claims.Slot = license.SlotPrimary
	primary, _ := signer.License(claims)
	claims.Slot = license.SlotSecondary
	secondary, _ := signer.License(claims)
	file, _ := mint.KeyFile(claims, primary, secondary)
	jwks, _ := mint.JWKS(key)

	dir, _ := os.MkdirTemp("", "licensectl-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "jwks.json"), jwks, 0o600)
	_ = os.WriteFile(filepath.Join(dir, "license.json"), file, 0o600)

	code := cmd.Run(context.Background(), []string{"verify",
		"--keys", filepath.Join(dir, "jwks.json"), "--key-file", filepath.Join(dir, "license.json"), "--issuer", "acme",
	}, cmd.Env{Stdout: os.Stdout, Stderr: os.Stdout})
	fmt.Println("exit", code)
	// Output:
	// VALID         true
	// LICENSE       lic_example
	// SLOT          primary
	// ISSUER        acme
	// TENANT        ten_abc123
	// AUDIENCE      Acme Health GmbH
	// SUBJECT       sub_example
	// PLAN          yearly
	// CAPABILITIES  kyc:write
	// ISSUED        2025-01-01T00:00:00Z
	// EXPIRES       2099-01-01T00:00:00Z
	//
	// SLOT       VALID  CODE
	// primary    true   -
	// secondary  true   -
	// exit 0
}
