package mint_test

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// exampleKey is a fixed Ed25519 key, so that the examples' output is
// stable; real keys come from GenerateKey.
func exampleKey() *mint.Key {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	k, err := mint.NewKey(license.EdDSA, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		panic(err)
	}
	return k
}

// A vendor mints a licence; the product verifies it offline with the
// public keys it embeds.
func ExampleSigner_License() {
	key, err := mint.GenerateKey(license.EdDSA)
	if err != nil {
		panic(err)
	}
	jwks, err := mint.JWKS(key) // what the product embeds
	if err != nil {
		panic(err)
	}
	signer, err := mint.NewSigner(key, mint.WithIssuer("acme"))
	if err != nil {
		panic(err)
	}
	now := time.Now()
	token, err := signer.License(mint.Claims{
		ID:           "lic_8f2k",
		Subject:      "sub_8f2k",
		Audience:     []string{"Acme Health GmbH"},
		TenantID:     "ten_abc123",
		Plan:         license.PlanYearly,
		Capabilities: []string{"kyc:write"},
		ExpiresAt:    now.AddDate(1, 0, 0),
	})
	if err != nil {
		panic(err)
	}

	// On the product's side.
	keys, err := license.ParseKeyring(jwks)
	if err != nil {
		panic(err)
	}
	lic, err := license.NewVerifier(keys, license.WithIssuer("acme")).Verify(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(lic.ID, lic.Audience, lic.Plan, lic.Has("kyc:write"))
	// Output: lic_8f2k [Acme Health GmbH] yearly true
}

// The control plane answers a heartbeat with a lease.
func ExampleSigner_Lease() {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	signer, err := mint.NewSigner(exampleKey(), mint.WithIssuer("acme"), mint.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	lease, err := signer.Lease(mint.Lease{
		LicenseID:   "lic_8f2k",
		Fingerprint: "fp1:abc",
		Status:      license.LeaseActive,
		ExpiresAt:   now.Add(14 * 24 * time.Hour),
	})
	if err != nil {
		panic(err)
	}
	jwks, _ := mint.JWKS(exampleKey())
	keys, _ := license.ParseKeyring(jwks)
	l, err := license.NewVerifier(keys, license.WithIssuer("acme")).VerifyLease(lease)
	if err != nil {
		panic(err)
	}
	fmt.Println(l.LicenseID, l.Status, l.ExpiresAt.Sub(l.IssuedAt))
	// Output: lic_8f2k active 336h0m0s
}

// A key file carries both slots of one licence.
func ExampleSigner_IssueKeyFile() {
	signer, err := mint.NewSigner(exampleKey(), mint.WithIssuer("acme"))
	if err != nil {
		panic(err)
	}
	file, _, _, err := signer.IssueKeyFile(mint.Claims{
		ID: "lic_8f2k", Subject: "sub_8f2k", Audience: []string{"Acme Health GmbH"}, TenantID: "ten_abc123",
		ExpiresAt: time.Now().AddDate(1, 0, 0),
	})
	if err != nil {
		panic(err)
	}
	kf, err := license.ParseKeyFile(file)
	if err != nil {
		panic(err)
	}
	jwks, _ := mint.JWKS(exampleKey())
	keys, _ := license.ParseKeyring(jwks)
	v := license.NewVerifier(keys, license.WithIssuer("acme"))
	for _, token := range []string{kf.Primary, kf.Secondary} {
		lic, err := v.Verify(token)
		if err != nil {
			panic(err)
		}
		fmt.Println(lic.ID, lic.Slot)
	}
	// Output:
	// lic_8f2k primary
	// lic_8f2k secondary
}

// A key prints as its algorithm and kid, never its private half.
func ExampleKey_String() {
	key := exampleKey()
	fmt.Println(key)
	fmt.Printf("%#v\n", key)
	// Output:
	// mint.Key{EdDSA kid=1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y}
	// mint.Key{EdDSA kid=1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y}
}

// The signing service stores its key as a private JWK and loads it back.
func ExampleParseKey() {
	secret, err := exampleKey().MarshalPrivateJWK()
	if err != nil {
		panic(err)
	}
	key, err := mint.ParseKey(secret)
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Alg, key.KID == exampleKey().KID)
	// Output: EdDSA true
}
