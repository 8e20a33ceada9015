package licensetest_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// decode splits a compact JWS without verifying it.
func decode(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3, tok)
	return decodeJSON(t, parts[0]), decodeJSON(t, parts[1])
}

func decodeJSON(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func TestMintDefaults(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	k := iss.Keys()[0]
	before := time.Now().Unix()
	tok := iss.Mint()
	after := time.Now().Unix()

	header, claims := decode(t, tok)
	assert.Equal(t, map[string]any{"alg": "EdDSA", "kid": k.KID, "typ": "JWT"}, header)

	iat := int64(claims["iat"].(float64))
	assert.True(t, before <= iat && iat <= after, "iat %d not in [%d, %d]", iat, before, after)
	assert.Equal(t, float64(iat+365*24*3600), claims["exp"])
	assert.Regexp(t, regexp.MustCompile(`^lic_[0-9a-f]{24}$`), claims["jti"])
	delete(claims, "iat")
	delete(claims, "exp")
	delete(claims, "jti")
	assert.Equal(t, map[string]any{
		"iss":  "licensetest",
		"sub":  "sub_test",
		"aud":  []any{"Test Customer"},
		"tid":  "ten_test",
		"plan": "yearly",
	}, claims)

	// Fresh jti each time.
	_, again := decode(t, iss.Mint())
	assert.NotEqual(t, claims["jti"], again["jti"])

	lic, err := iss.Verifier(license.WithAudience("Test Customer")).Verify(tok)
	require.NoError(t, err)
	assert.Equal(t, "sub_test", lic.Subject)
	assert.Equal(t, "ten_test", lic.TenantID)
	assert.True(t, lic.NotBefore.IsZero())
}

func TestMintOptions(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 999, time.UTC)
	tests := []struct {
		name  string
		opt   licensetest.MintOption
		claim string
		want  any // nil: the claim must be absent
	}{
		{"Subject", licensetest.Subject("sub_x"), "sub", "sub_x"},
		{"Audience one", licensetest.Audience("A"), "aud", []any{"A"}},
		{"Audience two", licensetest.Audience("A", "B"), "aud", []any{"A", "B"}},
		{"Audience none", licensetest.Audience(), "aud", []any{}},
		{"AudienceString", licensetest.AudienceString("A"), "aud", "A"},
		{"ID", licensetest.ID("lic_1"), "jti", "lic_1"},
		{"Tenant", licensetest.Tenant("ten_1"), "tid", "ten_1"},
		{"Country", licensetest.Country("DE"), "tenant_ctry", "DE"},
		{"Plan", licensetest.Plan("monthly"), "plan", "monthly"},
		{"Slot", licensetest.Slot("secondary"), "slot", "secondary"},
		{"Capabilities", licensetest.Capabilities("a", "b"), "capabilities", []any{"a", "b"}},
		{"Capabilities none", licensetest.Capabilities(), "capabilities", []any{}},
		{"Metadata", licensetest.Metadata(map[string]string{"seats": "5"}), "metadata", map[string]any{"seats": "5"}},
		{"Metadata nil", licensetest.Metadata(nil), "metadata", map[string]any{}},
		{"Fingerprint", licensetest.Fingerprint("fp1"), "fpr", "fp1"},
		{"Status", licensetest.Status("revoked"), "status", "revoked"},
		{"IssuedAt", licensetest.IssuedAt(t0), "iat", float64(t0.Unix())},
		{"ExpiresAt", licensetest.ExpiresAt(t0), "exp", float64(t0.Unix())},
		{"NotBefore", licensetest.NotBefore(t0), "nbf", float64(t0.Unix())},
		{"Claim wrong type", licensetest.Claim("exp", "soon"), "exp", "soon"},
		{"Claim null", licensetest.Claim("sub", nil), "sub", nil},
		{"Claim raw", licensetest.Claim("exp", json.RawMessage(` 1e400 `)), "", nil},
		{"Claim new", licensetest.Claim("x-extra", map[string]int{"n": 1}), "x-extra", map[string]any{"n": float64(1)}},
		{"Omit", licensetest.Omit("exp", "plan"), "exp", nil},
	}
	for _, tc := range tests {
		tok := iss.Mint(tc.opt)
		if tc.name == "Claim raw" {
			payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
			assert.Contains(t, string(payload), `"exp":1e400`)
			continue
		}
		_, claims := decode(t, tok)
		assert.Equal(t, "acme", claims["iss"], tc.name)
		got, ok := claims[tc.claim]
		if tc.want == nil {
			assert.True(t, !ok || got == nil, "%s: %s = %v", tc.name, tc.claim, got)
			if tc.name == "Claim null" {
				assert.True(t, ok, "null is present")
			}
			continue
		}
		assert.Equal(t, tc.want, got, tc.name)
	}
}

func TestMintOrderAndTime(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	_, c := decode(t, iss.Mint(licensetest.Subject("a"), licensetest.Claim("sub", 7), licensetest.Subject("b")))
	assert.Equal(t, "b", c["sub"], "later options win")
	_, c = decode(t, iss.Mint(licensetest.Omit("sub"), licensetest.Subject("c")))
	assert.Equal(t, "c", c["sub"])

	// ExpiresIn is relative to now; an exp in the past drags iat along.
	_, c = decode(t, iss.Mint(licensetest.ExpiresIn(-time.Hour)))
	exp, iat := int64(c["exp"].(float64)), int64(c["iat"].(float64))
	assert.InDelta(t, time.Now().Add(-time.Hour).Unix(), exp, 2)
	assert.Equal(t, exp-365*24*3600, iat)
	// ...unless iat was set.
	_, c = decode(t, iss.Mint(licensetest.ExpiresIn(-time.Hour), licensetest.IssuedAt(time.Now())))
	assert.Greater(t, c["iat"], c["exp"])
	_, c = decode(t, iss.Mint(licensetest.ExpiresIn(31*24*time.Hour)))
	assert.Equal(t, float64(31*24*3600), c["exp"].(float64)-c["iat"].(float64))
}

// TestMintAgainstVerifier checks that each broken token fails package
// license with the sentinel a test would expect.
func TestMintAgainstVerifier(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("EdDSA", "ES256"))
	es := iss.Keys()[1]
	v := iss.Verifier()
	tests := []struct {
		name string
		opts []licensetest.MintOption
		want error // nil: verifies
	}{
		{"default", nil, nil},
		{"full", []licensetest.MintOption{licensetest.Country("DE"), licensetest.Plan("community"), licensetest.Slot("primary"),
			licensetest.Capabilities("kyc:write"), licensetest.Metadata(map[string]string{"a": "b"}), licensetest.Fingerprint("fp"),
			licensetest.NotBefore(time.Now().Add(-time.Minute)), licensetest.AudienceString("Acme")}, nil},
		{"ES256 key", []licensetest.MintOption{licensetest.SignWith(es.KID)}, nil},
		{"typ absent", []licensetest.MintOption{licensetest.OmitHeader("typ")}, nil},
		{"expired", []licensetest.MintOption{licensetest.ExpiresIn(-time.Hour)}, license.ErrExpired},
		{"not yet valid", []licensetest.MintOption{licensetest.NotBefore(time.Now().Add(time.Hour))}, license.ErrNotYetValid},
		{"iat in future", []licensetest.MintOption{licensetest.IssuedAt(time.Now().Add(time.Hour))}, license.ErrNotYetValid},
		{"no exp", []licensetest.MintOption{licensetest.Omit("exp")}, license.ErrClaims},
		{"exp string", []licensetest.MintOption{licensetest.Claim("exp", "soon")}, license.ErrClaims},
		{"no tid", []licensetest.MintOption{licensetest.Omit("tid")}, license.ErrClaims},
		{"bad plan", []licensetest.MintOption{licensetest.Plan("forever")}, license.ErrClaims},
		{"other issuer", []licensetest.MintOption{licensetest.Claim("iss", "evil")}, license.ErrClaims},
		{"jwk header", []licensetest.MintOption{licensetest.Header("jwk", map[string]string{"kty": "OKP"})}, license.ErrMalformed},
		{"lease typ", []licensetest.MintOption{licensetest.Type("lease+jwt")}, license.ErrMalformed},
		{"alg lies", []licensetest.MintOption{licensetest.Header("alg", "ES256")}, license.ErrAlgorithm},
		{"alg none", []licensetest.MintOption{licensetest.Header("alg", "none")}, license.ErrAlgorithm},
		{"no alg", []licensetest.MintOption{licensetest.OmitHeader("alg")}, license.ErrMalformed},
		{"no kid, two keys", []licensetest.MintOption{licensetest.OmitHeader("kid")}, license.ErrUnknownKey},
		{"other kid", []licensetest.MintOption{licensetest.Header("kid", "nope")}, license.ErrUnknownKey},
		{"kid of the other key", []licensetest.MintOption{licensetest.Header("kid", es.KID)}, license.ErrAlgorithm},
		{"kid and alg of the other key", []licensetest.MintOption{licensetest.Header("kid", es.KID), licensetest.Header("alg", "ES256")}, license.ErrSignature},
		{"b64 header", []licensetest.MintOption{licensetest.Header("b64", false)}, license.ErrMalformed},
	}
	for _, tc := range tests {
		_, err := v.Verify(iss.Mint(tc.opts...))
		if tc.want == nil {
			assert.NoError(t, err, tc.name)
		} else {
			assert.ErrorIs(t, err, tc.want, tc.name)
		}
	}
}

func TestHeaderEdits(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	k := iss.Keys()[0]
	h, _ := decode(t, iss.Mint(licensetest.Header("alg", "RS256"), licensetest.Header("cty", "x"), licensetest.OmitHeader("typ")))
	assert.Equal(t, map[string]any{"alg": "RS256", "kid": k.KID, "cty": "x"}, h)

	// Without alg, go-jose cannot sign: the raw path does, with the key's algorithm.
	tok := iss.Mint(licensetest.OmitHeader("alg", "kid"), licensetest.Header("typ", 1))
	h, _ = decode(t, tok)
	assert.Equal(t, map[string]any{"typ": float64(1)}, h)
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	require.NoError(t, err)
	assert.True(t, ed25519.Verify(k.Public.(ed25519.PublicKey), []byte(tok[:dot]), sig))
}

func TestSignRawKeepsBytes(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	k := iss.Keys()[0]
	header := []byte("{\"alg\":\"EdDSA\", \"alg\":\"EdDSA\"\n}")
	payload := []byte(`{"exp":1,"exp":99999999999, "sub":"x"}` + "\t")
	tok := iss.SignRaw(k.KID, header, payload)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	for n, want := range [][]byte{header, payload} {
		got, err := base64.RawURLEncoding.Strict().DecodeString(parts[n])
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	assert.True(t, ed25519.Verify(k.Public.(ed25519.PublicKey), []byte(parts[0]+"."+parts[1]), sig))

	// The verifier refuses duplicate members even under a good signature.
	_, err = iss.Verifier().Verify(tok)
	assert.ErrorIs(t, err, license.ErrMalformed)

	// Empty kid: the first key. Empty header and payload are signed too.
	tok = iss.SignRaw("", nil, nil)
	assert.True(t, strings.HasPrefix(tok, ".."), tok)
}

func TestMintLease(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	k := iss.Keys()[0]
	tok := iss.MintLease()
	h, c := decode(t, tok)
	assert.Equal(t, map[string]any{"alg": "EdDSA", "kid": k.KID, "typ": "lease+jwt"}, h)
	assert.Regexp(t, regexp.MustCompile(`^lse_[0-9a-f]{24}$`), c["jti"])
	assert.Equal(t, float64(14*24*3600), c["exp"].(float64)-c["iat"].(float64))
	delete(c, "jti")
	delete(c, "iat")
	delete(c, "exp")
	assert.Equal(t, map[string]any{"iss": "licensetest", "sub": "lic_test", "fpr": "fpr_test", "status": "active"}, c)

	v := iss.Verifier()
	lease, err := v.VerifyLease(tok)
	require.NoError(t, err)
	assert.Equal(t, "lic_test", lease.LicenseID)
	assert.Equal(t, license.LeaseActive, lease.Status)

	lease, err = v.VerifyLease(iss.MintLease(licensetest.Subject("lic_9"), licensetest.Fingerprint("fp9"),
		licensetest.Claim("status", "revoked"), licensetest.ExpiresIn(time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, "lic_9", lease.LicenseID)
	assert.Equal(t, "fp9", lease.Fingerprint)
	assert.Equal(t, license.LeaseRevoked, lease.Status)
	assert.WithinDuration(t, time.Now().Add(time.Hour), lease.ExpiresAt, 2*time.Second)

	// Never one for the other.
	_, err = v.Verify(tok)
	assert.ErrorIs(t, err, license.ErrMalformed)
	_, err = v.VerifyLease(iss.Mint())
	assert.ErrorIs(t, err, license.ErrMalformed)
	_, err = v.VerifyLease(iss.MintLease(licensetest.Omit("fpr")))
	assert.ErrorIs(t, err, license.ErrClaims)
}

// TestSynctest shows tokens follow the bubble's fake clock.
func TestSynctest(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	v := iss.Verifier()
	synctest.Test(t, func(t *testing.T) {
		tok := iss.Mint(licensetest.ExpiresIn(30 * 24 * time.Hour))
		_, c := decode(t, tok)
		assert.Equal(t, float64(time.Now().Unix()), c["iat"])
		assert.Equal(t, 2000, time.Unix(int64(c["iat"].(float64)), 0).UTC().Year(), "the bubble starts in 2000")

		_, err := v.Verify(tok)
		require.NoError(t, err)
		time.Sleep(30*24*time.Hour + 2*time.Minute) // past exp + leeway
		_, err = v.Verify(tok)
		assert.ErrorIs(t, err, license.ErrExpired)
	})
}

// TestGoJoseParsesMinted checks minted tokens are plain JWTs to another
// library too: go-jose verifies them and reads the claims.
func TestGoJoseParsesMinted(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	tok := iss.Mint(licensetest.Capabilities("x"))
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	require.NoError(t, err)
	payload, err := jws.Verify(iss.Keys()[0].Public)
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(payload, &c))
	assert.Equal(t, []any{"x"}, c["capabilities"])
}
