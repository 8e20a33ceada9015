package mint_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

var sigSize = map[string]int{license.EdDSA: 64, license.ES256: 64, license.ES384: 96, license.RS256: 256, license.PS256: 256}

// TestEveryTokenVerifies signs a licence, a lease, a key file and a raw
// JWS with each algorithm and checks them with package license and with
// go-jose, an implementation independent of both.
func TestEveryTokenVerifies(t *testing.T) {
	for _, k := range testKeys(t) {
		t.Run(k.Alg, func(t *testing.T) {
			s, v := signerAndVerifier(t, k)
			assert.Equal(t, k.KID, s.KID())
			assert.Equal(t, k.Alg, s.Alg())
			assert.Equal(t, "acme", s.Issuer())
			c := validClaims()

			tok, err := s.License(c)
			require.NoError(t, err)
			lic, err := v.Verify(tok)
			require.NoError(t, err)
			assert.Equal(t, &license.License{
				ID: c.ID, Issuer: "acme", Subject: c.Subject, Audience: c.Audience, TenantID: c.TenantID,
				TenantCountry: c.TenantCountry, Plan: c.Plan, Slot: c.Slot, Fingerprint: c.Fingerprint,
				IssuedAt: c.IssuedAt, NotBefore: c.NotBefore, ExpiresAt: c.ExpiresAt,
				Capabilities: c.Capabilities, Metadata: c.Metadata,
			}, lic)
			header, _ := decodeToken(t, tok)
			assert.Equal(t, map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "JWT"}, header)

			lease, err := s.Lease(mint.Lease{ID: "lse_1", LicenseID: c.ID, Fingerprint: "fpr_1", Status: license.LeaseSuspended,
				ExpiresAt: testNow.Add(14 * 24 * time.Hour)})
			require.NoError(t, err)
			l, err := v.VerifyLease(lease)
			require.NoError(t, err)
			assert.Equal(t, &license.Lease{ID: "lse_1", LicenseID: c.ID, Issuer: "acme", Fingerprint: "fpr_1",
				Status: license.LeaseSuspended, IssuedAt: testNow, ExpiresAt: testNow.Add(14 * 24 * time.Hour)}, l)
			header, _ = decodeToken(t, lease)
			assert.Equal(t, map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "lease+jwt"}, header)

			_, err = v.Verify(lease)
			assert.ErrorIs(t, err, license.ErrMalformed, "a lease is not a licence")
			_, err = v.VerifyLease(tok)
			assert.ErrorIs(t, err, license.ErrMalformed, "a licence is not a lease")

			file, primary, secondary, err := s.IssueKeyFile(c)
			require.NoError(t, err)
			kf, err := license.ParseKeyFile(file)
			require.NoError(t, err)
			lic, err = v.VerifyKeyFile(kf)
			require.NoError(t, err)
			assert.Equal(t, c.ID, lic.ID)
			assert.Equal(t, primary, kf.Primary)
			assert.Equal(t, secondary, kf.Secondary)

			raw, err := s.SignCompact(map[string]any{"typ": "JWT"}, []byte(`{"hello":"world"}`))
			require.NoError(t, err)

			for name, token := range map[string]string{"licence": tok, "lease": lease, "primary": primary, "secondary": secondary, "raw": raw} {
				jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Alg)})
				require.NoError(t, err, name)
				_, err = jws.Verify(k.Public())
				assert.NoError(t, err, "%s: go-jose verification", name)
				assert.Len(t, jws.Signatures[0].Signature, sigSize[k.Alg], "%s: JOSE signature size", name)
				assert.Equal(t, k.KID, jws.Signatures[0].Header.KeyID, name)
			}
		})
	}
}

// TestLicenseRefusesBadClaims checks that leaving out any required claim,
// and any value a verifier would refuse, is caught before signing.
func TestLicenseRefusesBadClaims(t *testing.T) {
	k := testKeys(t)[0]
	s, v := signerAndVerifier(t, k)
	tests := []struct {
		name   string
		change func(*mint.Claims)
	}{
		{"no jti", func(c *mint.Claims) { c.ID = "" }},
		{"no sub", func(c *mint.Claims) { c.Subject = "" }},
		{"no aud", func(c *mint.Claims) { c.Audience = nil }},
		{"empty aud", func(c *mint.Claims) { c.Audience = []string{} }},
		{"aud with an empty entry", func(c *mint.Claims) { c.Audience = []string{"A", ""} }},
		{"no tid", func(c *mint.Claims) { c.TenantID = "" }},
		{"no exp", func(c *mint.Claims) { c.ExpiresAt = time.Time{} }},
		{"exp before iat", func(c *mint.Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) }},
		{"exp equal to iat", func(c *mint.Claims) { c.ExpiresAt = c.IssuedAt }},
		{"nbf after exp", func(c *mint.Claims) { c.NotBefore = c.ExpiresAt.Add(time.Second) }},
		{"iat before 1970", func(c *mint.Claims) { c.IssuedAt = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"exp in year 9999", func(c *mint.Claims) { c.ExpiresAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"nbf before 1970", func(c *mint.Claims) { c.NotBefore = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"plan", func(c *mint.Claims) { c.Plan = "lifetime" }},
		{"slot", func(c *mint.Claims) { c.Slot = "tertiary" }},
		{"country lower case", func(c *mint.Claims) { c.TenantCountry = "de" }},
		{"country of three letters", func(c *mint.Claims) { c.TenantCountry = "DEU" }},
		{"sub not UTF-8", func(c *mint.Claims) { c.Subject = "sub_\xff" }},
		{"aud not UTF-8", func(c *mint.Claims) { c.Audience = []string{"\xc3"} }},
		{"capability not UTF-8", func(c *mint.Claims) { c.Capabilities = []string{"a\xff"} }},
		{"metadata key not UTF-8", func(c *mint.Claims) { c.Metadata = map[string]string{"\xff": "v"} }},
		{"metadata value not UTF-8", func(c *mint.Claims) { c.Metadata = map[string]string{"k": "\xff"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims()
			tt.change(&c)
			tok, err := s.License(c)
			assert.ErrorIs(t, err, mint.ErrClaims)
			assert.Empty(t, tok)
			assert.True(t, strings.HasPrefix(err.Error(), "mint: "), err.Error())
		})
	}
	// The baseline signs and verifies, so each refusal is the change's.
	tok, err := s.License(validClaims())
	require.NoError(t, err)
	_, err = v.Verify(tok)
	require.NoError(t, err)

	noIssuer, err := mint.NewSigner(k)
	require.NoError(t, err)
	_, err = noIssuer.License(validClaims())
	assert.ErrorIs(t, err, mint.ErrClaims, "a licence needs an issuer")
	_, err = noIssuer.Lease(mint.Lease{LicenseID: "lic_1", Fingerprint: "f", Status: license.LeaseActive, ExpiresAt: testNow.Add(time.Hour)})
	assert.ErrorIs(t, err, mint.ErrClaims, "a lease needs an issuer")
}

func TestLicenseOptionalClaimsLeftOut(t *testing.T) {
	s, v := signerAndVerifier(t, testKeys(t)[0])
	tok, err := s.License(mint.Claims{ID: "lic_2", Subject: "sub_2", Audience: []string{"B"}, TenantID: "ten_2",
		ExpiresAt: testNow.Add(time.Hour)})
	require.NoError(t, err)
	_, claims := decodeToken(t, tok)
	assert.Equal(t, map[string]any{"iss": "acme", "sub": "sub_2", "aud": []any{"B"}, "jti": "lic_2", "tid": "ten_2",
		"iat": float64(testNow.Unix()), "exp": float64(testNow.Add(time.Hour).Unix())}, claims,
		"iat from the signer's clock; aud an array; optional claims absent")
	lic, err := v.Verify(tok)
	require.NoError(t, err)
	assert.Equal(t, testNow, lic.IssuedAt)
	assert.Nil(t, lic.Metadata)
}

func TestLicenseWholeSeconds(t *testing.T) {
	s, _ := signerAndVerifier(t, testKeys(t)[0])
	c := validClaims()
	c.IssuedAt = testNow.Add(-time.Hour + 900*time.Millisecond)
	c.ExpiresAt = testNow.Add(time.Hour + 999*time.Millisecond)
	tok, err := s.License(c)
	require.NoError(t, err)
	_, claims := decodeToken(t, tok)
	assert.Equal(t, float64(testNow.Add(-time.Hour).Unix()), claims["iat"])
	assert.Equal(t, float64(testNow.Add(time.Hour).Unix()), claims["exp"])
}

func TestLeaseRefusesBadClaims(t *testing.T) {
	s, _ := signerAndVerifier(t, testKeys(t)[0])
	valid := mint.Lease{LicenseID: "lic_1", Fingerprint: "fpr_1", Status: license.LeaseActive, ExpiresAt: testNow.Add(time.Hour)}
	tests := map[string]func(*mint.Lease){
		"no sub":         func(l *mint.Lease) { l.LicenseID = "" },
		"no fpr":         func(l *mint.Lease) { l.Fingerprint = "" },
		"no status":      func(l *mint.Lease) { l.Status = "" },
		"unknown status": func(l *mint.Lease) { l.Status = "expired" },
		"no exp":         func(l *mint.Lease) { l.ExpiresAt = time.Time{} },
		"exp before iat": func(l *mint.Lease) { l.IssuedAt = l.ExpiresAt.Add(time.Second) },
		"iat before 1970": func(l *mint.Lease) {
			l.IssuedAt = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
		},
		"exp in year 9999": func(l *mint.Lease) { l.ExpiresAt = time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC) },
		"jti not UTF-8":    func(l *mint.Lease) { l.ID = "lse_\xff" },
		"fpr not UTF-8":    func(l *mint.Lease) { l.Fingerprint = "\xfe" },
	}
	for name, change := range tests {
		l := valid
		change(&l)
		tok, err := s.Lease(l)
		assert.ErrorIs(t, err, mint.ErrClaims, name)
		assert.Empty(t, tok, name)
	}
	_, err := s.Lease(valid)
	assert.NoError(t, err, "the baseline signs")
}

func TestLeaseIDAndOffline(t *testing.T) {
	s, v := signerAndVerifier(t, testKeys(t)[0])
	base := mint.Lease{LicenseID: "lic_1", Fingerprint: "fpr_1", Status: license.LeaseActive, ExpiresAt: testNow.Add(time.Hour)}
	a, err := s.Lease(base)
	require.NoError(t, err)
	b, err := s.Lease(base)
	require.NoError(t, err)
	la, err := v.VerifyLease(a)
	require.NoError(t, err)
	lb, err := v.VerifyLease(b)
	require.NoError(t, err)
	assert.Regexp(t, `^lse_[0-9a-f]{24}$`, la.ID)
	assert.NotEqual(t, la.ID, lb.ID, "a fresh random jti per lease")
	_, claims := decodeToken(t, a)
	assert.NotContains(t, claims, "offline")

	base.Offline = true
	off, err := s.Lease(base)
	require.NoError(t, err)
	_, claims = decodeToken(t, off)
	assert.Equal(t, true, claims["offline"])
	_, err = v.VerifyLease(off)
	assert.NoError(t, err)
}

func TestSignCompact(t *testing.T) {
	k := testKeys(t)[0]
	s, _ := signerAndVerifier(t, k)
	tok, err := s.SignCompact(map[string]any{"typ": "example+jwt", "alg": k.Alg, "kid": k.KID, "n": 1}, []byte("not even JSON"))
	require.NoError(t, err)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	header, err := b64Decode(parts[0])
	require.NoError(t, err)
	assert.Equal(t, `{"alg":"EdDSA","kid":"`+k.KID+`","n":1,"typ":"example+jwt"}`, string(header))
	payload, err := b64Decode(parts[1])
	require.NoError(t, err)
	assert.Equal(t, "not even JSON", string(payload))

	tok, err = s.SignCompact(nil, []byte("{}"))
	require.NoError(t, err)
	h, _ := decodeToken(t, tok)
	assert.Equal(t, map[string]any{"alg": k.Alg, "kid": k.KID}, h)

	for name, h := range map[string]map[string]any{
		"another alg":   {"alg": "RS256"},
		"alg not text":  {"alg": []string{"EdDSA"}},
		"another kid":   {"kid": "someone-else"},
		"unencodable":   {"x": make(chan int)},
		"kid as number": {"kid": 7},
	} {
		tok, err := s.SignCompact(h, []byte("{}"))
		assert.ErrorIs(t, err, mint.ErrHeader, name)
		assert.Empty(t, tok, name)
	}
}

func TestNewSignerChecksTheKey(t *testing.T) {
	keys := testKeys(t)
	_, err := mint.NewSigner(nil)
	assert.ErrorIs(t, err, mint.ErrKey)
	renamed := *keys[0]
	renamed.KID = "mine"
	_, err = mint.NewSigner(&renamed)
	assert.ErrorIs(t, err, mint.ErrKey, "kid must be the thumbprint")
	realiased := *keys[0]
	realiased.Alg = license.ES256
	_, err = mint.NewSigner(&realiased)
	assert.ErrorIs(t, err, mint.ErrAlgorithm)
	_, err = mint.NewSigner(keys[0], mint.WithIssuer("\xff"))
	assert.ErrorIs(t, err, mint.ErrClaims)
}

func TestSignerConcurrentUse(t *testing.T) {
	s, v := signerAndVerifier(t, testKeys(t)[0])
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Go(func() {
			for range 8 {
				tok, err := s.Lease(mint.Lease{LicenseID: "lic_1", Fingerprint: "fpr_1", Status: license.LeaseActive, ExpiresAt: testNow.Add(time.Hour)})
				if err == nil {
					_, err = v.VerifyLease(tok)
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		assert.NoError(t, err)
		n++
	}
	assert.Equal(t, 64, n)
}
