package license_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// An air-gapped appliance writes an offline activation request, the vendor
// answers it, and the appliance imports the answer: it is then active with
// no control plane until the offline lease's exp.
func ExampleManager_ImportOffline() {
	vendorKey, _ := mint.GenerateKey(license.EdDSA)
	vendor, _ := mint.NewSigner(vendorKey, mint.WithIssuer("acme"))
	jwks, _ := mint.JWKS(vendorKey)
	keys, _ := license.ParseKeyring(jwks)

	dir, _ := os.MkdirTemp("", "appliance")
	defer os.RemoveAll(dir)
	file, _, _, _ := vendor.IssueKeyFile(mint.Claims{ID: "lic_air", Subject: "sub_1", Audience: []string{"Acme Bank"},
		TenantID: "ten_1", ExpiresAt: time.Now().Add(3 * 365 * 24 * time.Hour)})
	keyFile := filepath.Join(dir, "license.json")
	_ = os.WriteFile(keyFile, file, 0o600)

	m, err := license.Open(context.Background(), license.Config{
		Keys: keys, KeyFile: keyFile, AppID: "acme-appliance", Issuer: "acme",
		StateDir: filepath.Join(dir, "state"), MachineID: "appliance-1",
		OfflineActivation: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	fmt.Println("before:", m.Status().State)

	req, _ := m.OfflineRequest() // carried to the vendor

	// The vendor's side (the control plane does this).
	q, _ := license.ParseOfflineRequest(req)
	lease, _ := vendor.Lease(mint.Lease{LicenseID: q.LicenseID, Fingerprint: q.Fingerprint, Status: license.LeaseActive,
		ExpiresAt: time.Now().Add(365 * 24 * time.Hour), Offline: true, Nonce: q.Nonce})
	resp := (&license.OfflineResponse{LicenseID: q.LicenseID, Lease: lease}).Marshal()

	if err := m.ImportOffline(resp); err != nil { // carried back
		fmt.Println(err)
		return
	}
	fmt.Println("after:", m.Status().State)
	fmt.Println("again:", m.ImportOffline(resp))
	// Output:
	// before: inactive
	// after: active
	// again: <nil>
}
