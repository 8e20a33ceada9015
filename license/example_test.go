package license_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/licensekit/licensekit/license"
)

// The examples verify at a fixed moment so that their output never changes.
var exampleNow = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

// A product embeds its vendor's public keys (here read from a file; in a
// real product with //go:embed), verifies a licence token offline and
// checks a capability.
func Example() {
	jwks, _ := os.ReadFile("testdata/example/jwks.json") // //go:embed in a product
	keys, err := license.ParseKeyring(jwks)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := license.NewVerifier(keys, license.WithIssuer("acme"), license.WithClock(exampleNow))

	kf, err := license.LoadKeyFile("testdata/example/license.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	lic, err := v.VerifyKeyFile(kf)
	if err != nil {
		fmt.Println("refused:", license.Code(err))
		return
	}
	fmt.Println(lic.ID, lic.Audience[0], lic.Slot, lic.ExpiresAt.Format(time.DateOnly))
	fmt.Println("kyc:write:", lic.Has("kyc:write"), "billing:admin:", lic.Has("billing:admin"))
	// Output:
	// lic_01JD2X Acme Health GmbH primary 2100-01-01
	// kyc:write: true billing:admin: false
}

// PEM "PUBLIC KEY" blocks work as well as JWKS; a PEM key's kid is its
// RFC 7638 thumbprint, so it matches the JWKS kid of the same key.
func ExampleParseKeyring() {
	pemData, _ := os.ReadFile("testdata/example/keys.pem")
	keys, err := license.ParseKeyring(pemData)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, kid := range keys.KeyIDs() {
		fmt.Println(kid, keys.Algorithm(kid))
	}
	// Output:
	// G8fpejmw0J17y-QW_2LkMXD-8Eo5wFhxt6UjDwS3E3s EdDSA
}

// Every refusal wraps one sentinel error with a stable code: match it with
// errors.Is, report it with license.Code.
func ExampleVerifier_Verify() {
	jwks, _ := os.ReadFile("testdata/example/jwks.json")
	keys, _ := license.ParseKeyring(jwks)
	kf, _ := license.LoadKeyFile("testdata/example/license.json")

	// Far in the future the licence has expired.
	later := func() time.Time { return time.Date(2100, 1, 2, 0, 0, 0, 0, time.UTC) }
	_, err := license.NewVerifier(keys, license.WithClock(later)).Verify(kf.Primary)
	fmt.Println(errors.Is(err, license.ErrExpired), license.Code(err))

	// A token from another vendor is refused before its claims are read.
	_, err = license.NewVerifier(keys, license.WithClock(exampleNow), license.WithIssuer("globex")).Verify(kf.Primary)
	fmt.Println(license.Code(err))

	// So is anything that is not a strict compact JWS.
	_, err = license.NewVerifier(keys).Verify(kf.Primary + " ")
	fmt.Println(license.Code(err))
	// Output:
	// true EXPIRED
	// INVALID_CLAIMS
	// MALFORMED
}

// A key file carries a primary and a secondary token so that one can be
// reset while the other keeps the product running: when the primary no
// longer verifies, the secondary carries.
func ExampleVerifier_VerifyKeyFile() {
	jwks, _ := os.ReadFile("testdata/example/jwks.json")
	keys, _ := license.ParseKeyring(jwks)
	v := license.NewVerifier(keys, license.WithClock(exampleNow))

	kf, _ := license.LoadKeyFile("testdata/example/license.json")
	kf.Primary = kf.Primary[:len(kf.Primary)-4] + "AAAA" // a damaged primary
	lic, err := v.VerifyKeyFile(kf)
	fmt.Println(lic.Slot, lic.ID, err)
	// Output:
	// secondary lic_01JD2Y <nil>
}
