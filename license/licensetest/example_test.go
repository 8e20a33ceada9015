package licensetest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// A test mints a licence with the capabilities it needs and checks the
// code under test with the issuer's public keys. An Example has no
// *testing.T, so it passes a [licensetest.Standalone]; in a real test,
// pass t.
func Example() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb, licensetest.IssuerName("acme"))

	token := iss.Mint(
		licensetest.AudienceString("Acme Health GmbH"),
		licensetest.Capabilities("kyc:read", "kyc:write"),
	)

	v := license.NewVerifier(iss.Keyring(), license.WithIssuer("acme"))
	lic, err := v.Verify(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(lic.Audience, lic.Plan, lic.Has("kyc:write"), lic.Has("admin"))
	// Output: [Acme Health GmbH] yearly true false
}

// Broken tokens are one option away; each fails with the sentinel a
// product must handle.
func ExampleIssuer_Mint_broken() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb)
	v := iss.Verifier()

	for _, token := range []string{
		iss.Mint(licensetest.ExpiresIn(-time.Hour)),
		iss.Mint(licensetest.Omit("exp")),
		iss.Mint(licensetest.Claim("aud", 42)),
		iss.Mint(licensetest.Header("jwk", map[string]string{"kty": "OKP"})),
		licensetest.NewIssuer(&tb).Mint(), // another issuer's key
	} {
		_, err := v.Verify(token)
		fmt.Println(license.Code(err))
	}
	// Output:
	// EXPIRED
	// INVALID_CLAIMS
	// INVALID_CLAIMS
	// MALFORMED
	// UNKNOWN_KEY
}

// A key file with two slots, as a customer downloads it.
func ExampleIssuer_KeyFile() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb)
	data := iss.KeyFile(licensetest.Tokens(licensetest.Tenant("ten_abc123"), licensetest.Country("DE")))

	kf, err := license.ParseKeyFile(data)
	if err != nil {
		panic(err)
	}
	lic, err := iss.Verifier().VerifyKeyFile(kf)
	if err != nil {
		panic(err)
	}
	fmt.Println(kf.TenantID, kf.TenantCountry, lic.Slot)
	// Output: ten_abc123 DE primary
}

// SignRaw signs bytes as given, for input no well-behaved issuer would make.
func ExampleIssuer_SignRaw() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb)
	header := []byte(`{"alg":"EdDSA","alg":"none"}`) // a duplicate member
	payload := []byte(`{"iss":"licensetest"}`)

	_, err := iss.Verifier().Verify(iss.SignRaw("", header, payload))
	fmt.Println(license.Code(err))
	// Output: MALFORMED
}

// WriteKeyFile puts a key file where a product reads it: here in a
// directory of the Standalone's TempDir, removed at Close.
func ExampleIssuer_WriteKeyFile() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb)
	path := iss.WriteKeyFile("", licensetest.Tokens(licensetest.Capabilities("reports:export")))

	kf, err := license.LoadKeyFile(path)
	if err != nil {
		panic(err)
	}
	lic, err := iss.Verifier().VerifyKeyFile(kf)
	if err != nil {
		panic(err)
	}
	fmt.Println(filepath.Base(path), lic.Has("reports:export"))
	// Output: license.json true
}

// Configure sets a product's Config up for the issuer, and fails at once
// when the product expects another issuer name, instead of every token
// being refused later.
func ExampleIssuer_Configure() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb) // forgot licensetest.IssuerName("acme")

	cfg := license.Config{Issuer: "acme"} // the product's own
	defer func() { fmt.Println(recover()) }()
	iss.Configure(&cfg)
	// Output: licensetest: the product's Config.Issuer is "acme" but this Issuer signs as "licensetest": make it with licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
}

// The control plane is the reference one, in memory: a device activates,
// the vendor suspends the licence, and the next heartbeat's signed lease
// says so.
func ExampleControlPlane() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb, licensetest.IssuerName("acme"))
	cp := licensetest.NewControlPlane(iss)
	token := iss.Mint(licensetest.ID("lic_example"))

	c := &heartbeat.Client{BaseURL: cp.URL(), HTTPClient: cp.Client()}
	req := heartbeat.Request{LicenseID: "lic_example", Token: token, Fingerprint: "machine-A", IdempotencyKey: "k1", Nonce: "n1"}
	resp, err := c.Activate(context.Background(), req)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, cp.BoundTo("lic_example"))

	cp.Suspend("lic_example")
	req.Nonce = "n2"
	resp, err = c.Heartbeat(context.Background(), req)
	if err != nil {
		panic(err)
	}
	lease, err := iss.Verifier().VerifyLease(resp.Lease)
	if err != nil {
		panic(err)
	}
	fmt.Println(lease.Status, lease.Nonce, cp.Count("heartbeat"))
	// Output:
	// active machine-A
	// suspended n2 1
}
