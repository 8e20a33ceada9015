package licensetest_test

import (
	"fmt"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// exampleT stands in for the *testing.T a real test passes to
// [licensetest.NewIssuer]: an Example has none, so it uses this stub of
// the small [licensetest.TB] interface.
type exampleT struct{}

func (exampleT) Helper()                           {}
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// A test mints a licence with the capabilities it needs and checks the
// code under test with the issuer's public keys. In a real test, pass t.
func Example() {
	iss := licensetest.NewIssuer(exampleT{}, licensetest.WithIssuerName("acme"))

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
	iss := licensetest.NewIssuer(exampleT{})
	v := iss.Verifier()

	for _, token := range []string{
		iss.Mint(licensetest.ExpiresIn(-time.Hour)),
		iss.Mint(licensetest.Omit("exp")),
		iss.Mint(licensetest.Claim("aud", 42)),
		iss.Mint(licensetest.Header("jwk", map[string]string{"kty": "OKP"})),
		licensetest.NewIssuer(exampleT{}).Mint(), // another issuer's key
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
	iss := licensetest.NewIssuer(exampleT{})
	data := iss.KeyFile(licensetest.WithMint(licensetest.Tenant("ten_abc123"), licensetest.Country("DE")))

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
	iss := licensetest.NewIssuer(exampleT{})
	header := []byte(`{"alg":"EdDSA","alg":"none"}`) // a duplicate member
	payload := []byte(`{"iss":"licensetest"}`)

	_, err := iss.Verifier().Verify(iss.SignRaw("", header, payload))
	fmt.Println(license.Code(err))
	// Output: MALFORMED
}
