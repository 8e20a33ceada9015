package mint_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

type equaler interface {
	Equal(x crypto.PrivateKey) bool
}

type pubEqualer interface{ Equal(x crypto.PublicKey) bool }

func TestPrivateJWKRoundTrip(t *testing.T) {
	for _, k := range testKeys(t) {
		data, err := k.MarshalPrivateJWK()
		require.NoError(t, err, k.Alg)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		assert.Equal(t, k.KID, m["kid"], k.Alg)
		assert.Equal(t, k.Alg, m["alg"], k.Alg)
		assert.Equal(t, "sig", m["use"], k.Alg)
		assert.NotEmpty(t, m["d"], k.Alg)

		back, err := mint.ParseKey(data)
		require.NoError(t, err, k.Alg)
		assert.Equal(t, k.Alg, back.Alg)
		assert.Equal(t, k.KID, back.KID)
		assert.True(t, back.Private.(equaler).Equal(k.Private), "%s: same private key", k.Alg)

		again, err := back.MarshalPrivateJWK()
		require.NoError(t, err)
		assert.JSONEq(t, string(data), string(again), k.Alg)
	}
}

func TestPublicJWKAndJWKS(t *testing.T) {
	keys := testKeys(t)
	for _, k := range keys {
		data, err := k.PublicJWK()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			assert.NotContains(t, m, private, k.Alg)
		}
		assert.Equal(t, k.KID, m["kid"])
		assert.Equal(t, k.Alg, m["alg"])
		assert.Equal(t, "sig", m["use"])
		var jwk jose.JSONWebKey
		require.NoError(t, jwk.UnmarshalJSON(data))
		assert.True(t, jwk.IsPublic())
		assert.True(t, jwk.Key.(pubEqualer).Equal(k.Public()), k.Alg)
	}

	set, err := mint.JWKS(keys...)
	require.NoError(t, err)
	kr, err := license.ParseKeyring(set)
	require.NoError(t, err)
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.KID)
		assert.Equal(t, k.Alg, kr.Algorithm(k.KID), "the keyring pins the key's own alg (PS256 too)")
	}
	assert.Equal(t, ids, kr.KeyIDs())
	assert.NotContains(t, string(set), `"d"`)

	_, err = mint.JWKS(keys[0], keys[1], keys[0])
	assert.ErrorIs(t, err, mint.ErrKey, "repeated kid")
	_, err = mint.JWKS(nil)
	assert.ErrorIs(t, err, mint.ErrKey)
	forged := *keys[0]
	forged.KID = "chosen"
	_, err = mint.JWKS(&forged)
	assert.ErrorIs(t, err, mint.ErrKey, "a kid that is not the thumbprint")
}

// jwkWith returns the private JWK of k with members changed (nil deletes).
func jwkWith(t testing.TB, k *mint.Key, members map[string]any) []byte {
	t.Helper()
	data, err := k.MarshalPrivateJWK()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	for name, v := range members {
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// hostileJWKs are private JWKs ParseKey must refuse, with the sentinel.
func hostileJWKs(t testing.TB) map[string]struct {
	data []byte
	want error
} {
	keys := testKeys(t)
	ed, es256, rs := keys[0], keys[1], keys[3]
	pub := func(k *mint.Key) []byte {
		data, err := k.PublicJWK()
		require.NoError(t, err)
		return data
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	p521JWK, err := (&jose.JSONWebKey{Key: p521, Algorithm: "ES512"}).MarshalJSON()
	require.NoError(t, err)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	weakJWK, err := (&jose.JSONWebKey{Key: weak, Algorithm: license.RS256}).MarshalJSON()
	require.NoError(t, err)
	other, err := mint.GenerateKey(license.EdDSA)
	require.NoError(t, err)
	otherPriv, err := other.MarshalPrivateJWK()
	require.NoError(t, err)
	var otherD struct{ D string }
	require.NoError(t, json.Unmarshal(otherPriv, &otherD))
	edJWK, err := ed.MarshalPrivateJWK()
	require.NoError(t, err)

	type c = struct {
		data []byte
		want error
	}
	return map[string]c{
		"Ed25519 as ES256":      {jwkWith(t, ed, map[string]any{"alg": "ES256"}), mint.ErrAlgorithm},
		"Ed25519 as RS256":      {jwkWith(t, ed, map[string]any{"alg": "RS256"}), mint.ErrAlgorithm},
		"P-256 as ES384":        {jwkWith(t, es256, map[string]any{"alg": "ES384"}), mint.ErrAlgorithm},
		"P-256 as HS256":        {jwkWith(t, es256, map[string]any{"alg": "HS256"}), mint.ErrAlgorithm},
		"RSA as EdDSA":          {jwkWith(t, rs, map[string]any{"alg": "EdDSA"}), mint.ErrAlgorithm},
		"alg none":              {jwkWith(t, ed, map[string]any{"alg": "none"}), mint.ErrAlgorithm},
		"missing alg":           {jwkWith(t, ed, map[string]any{"alg": nil}), mint.ErrAlgorithm},
		"empty alg":             {jwkWith(t, es256, map[string]any{"alg": ""}), mint.ErrAlgorithm},
		"public Ed25519":        {pub(ed), mint.ErrKey},
		"public P-256":          {pub(es256), mint.ErrKey},
		"public RSA":            {pub(rs), mint.ErrKey},
		"symmetric":             {[]byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","alg":"HS256"}`), mint.ErrKey},
		"use enc":               {jwkWith(t, ed, map[string]any{"use": "enc"}), mint.ErrKey},
		"kid not thumbprint":    {jwkWith(t, ed, map[string]any{"kid": "my-key"}), mint.ErrKey},
		"d of another key":      {jwkWith(t, ed, map[string]any{"d": otherD.D}), mint.ErrKey},
		"RSA without primes":    {jwkWith(t, rs, map[string]any{"p": nil, "q": nil}), mint.ErrKey},
		"P-521":                 {p521JWK, mint.ErrKey},
		"RSA 1024":              {weakJWK, mint.ErrKey},
		"duplicate alg":         {[]byte(strings.Replace(string(edJWK), `"alg":"EdDSA"`, `"alg":"EdDSA","alg":"EdDSA"`, 1)), mint.ErrKey},
		"ALG in capitals":       {[]byte(strings.Replace(string(edJWK), `"alg":"EdDSA"`, `"alg":"EdDSA","ALG":"EdDSA"`, 1)), mint.ErrKey},
		"garbage":               {[]byte("not a key"), mint.ErrKey},
		"empty":                 {nil, mint.ErrKey},
		"null":                  {[]byte("null"), mint.ErrKey},
		"array":                 {[]byte("[" + string(edJWK) + "]"), mint.ErrKey},
		"truncated":             {edJWK[:len(edJWK)-2], mint.ErrKey},
		"two objects":           {append(append([]byte{}, edJWK...), edJWK...), mint.ErrKey},
		"PEM":                   {[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), mint.ErrKey},
		"unknown kty":           {[]byte(`{"kty":"XYZ","alg":"EdDSA","d":"AA"}`), mint.ErrKey},
		"huge":                  {[]byte(`{"x":"` + strings.Repeat("A", mint.MaxJWKSize) + `"}`), mint.ErrKey},
		"Ed25519 short d":       {jwkWith(t, ed, map[string]any{"d": "AAAA"}), mint.ErrKey},
		"number for alg":        {jwkWith(t, ed, map[string]any{"alg": 7}), mint.ErrKey},
		"kty missing":           {jwkWith(t, ed, map[string]any{"kty": nil}), mint.ErrKey},
		"x5c not a certificate": {jwkWith(t, ed, map[string]any{"x5c": []string{"AAAA"}}), mint.ErrKey},
	}
}

func TestParseKeyRefusesHostileJWKs(t *testing.T) {
	for name, tt := range hostileJWKs(t) {
		t.Run(name, func(t *testing.T) {
			k, err := mint.ParseKey(tt.data)
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, k)
			if err != nil {
				assert.True(t, strings.HasPrefix(err.Error(), "mint: "), err.Error())
			}
		})
	}
}

func TestParseKeyAcceptsWithoutKidOrUse(t *testing.T) {
	k := testKeys(t)[1]
	back, err := mint.ParseKey(jwkWith(t, k, map[string]any{"kid": nil, "use": nil, "key_ops": []string{"sign"}}))
	require.NoError(t, err)
	assert.Equal(t, k.KID, back.KID, "kid derived as the thumbprint")
}

func FuzzParseKey(f *testing.F) {
	for _, k := range testKeys(f) {
		data, err := k.MarshalPrivateJWK()
		require.NoError(f, err)
		f.Add(data)
	}
	for _, tt := range hostileJWKs(f) {
		if len(tt.data) < 4096 {
			f.Add(tt.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := mint.ParseKey(data)
		if err != nil {
			assert.Nil(t, k)
			return
		}
		// Whatever parses is a whole, consistent key that round-trips.
		out, err := k.MarshalPrivateJWK()
		require.NoError(t, err)
		back, err := mint.ParseKey(out)
		require.NoError(t, err)
		assert.Equal(t, k.KID, back.KID)
		assert.Equal(t, k.Alg, back.Alg)
		sig, err := k.SignInput([]byte("x"))
		require.NoError(t, err)
		assert.NotEmpty(t, sig)
		_, isEd := k.Private.(ed25519.PrivateKey)
		assert.True(t, isEd || k.Alg != license.EdDSA)
	})
}
