package mint_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

var allAlgs = []string{license.EdDSA, license.ES256, license.ES384, license.RS256, license.PS256}

// testNow is the fixed time of the tests' signers and verifiers.
var testNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// keysOnce holds one key per algorithm; RSA keys are 2048 bits for speed.
var keysOnce = sync.OnceValues(func() ([]*mint.Key, error) {
	var out []*mint.Key
	for _, alg := range allAlgs {
		var (
			k   *mint.Key
			err error
		)
		if alg == license.RS256 || alg == license.PS256 {
			k, err = mint.GenerateRSAKey(alg, 2048)
		} else {
			k, err = mint.GenerateKey(alg)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
})

// testKeys returns one key per algorithm, in the order of allAlgs.
func testKeys(t testing.TB) []*mint.Key {
	t.Helper()
	keys, err := keysOnce()
	require.NoError(t, err)
	return keys
}

// signerAndVerifier returns a signer for k with issuer "acme" and the
// fixed clock, and a verifier of its tokens built from its JWKS.
func signerAndVerifier(t testing.TB, k *mint.Key) (*mint.Signer, *license.Verifier) {
	t.Helper()
	s, err := mint.NewSigner(k, mint.WithIssuer("acme"), mint.WithClock(fixedClock))
	require.NoError(t, err)
	jwks, err := mint.JWKS(k)
	require.NoError(t, err)
	kr, err := license.ParseKeyring(jwks)
	require.NoError(t, err)
	return s, license.NewVerifier(kr, license.WithIssuer("acme"), license.WithClock(fixedClock))
}

// validClaims is a licence with every claim set.
func validClaims() mint.Claims {
	return mint.Claims{
		ID:            "lic_1",
		Subject:       "sub_1",
		Audience:      []string{"Acme Health GmbH", "Dr. \"Q\" <ü>"},
		TenantID:      "ten_1",
		TenantCountry: "DE",
		Plan:          license.PlanYearly,
		Slot:          license.SlotPrimary,
		Capabilities:  []string{"kyc:write", "reports"},
		Metadata:      map[string]string{"seats": "5", "region": "eu\n1"},
		Fingerprint:   "fpr_1",
		IssuedAt:      testNow.Add(-time.Hour),
		NotBefore:     testNow.Add(-time.Minute),
		ExpiresAt:     testNow.Add(365 * 24 * time.Hour),
	}
}

// decodeToken returns the JSON header and claims of a compact JWS.
func decodeToken(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3, tok)
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, dst), string(raw))
	}
	return header, claims
}

func b64Decode(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }
