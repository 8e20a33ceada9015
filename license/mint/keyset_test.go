package mint_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// TestKeysetVerifies signs a statement with each algorithm, listing every
// test key, and checks it with go-jose: header, claims, and the listed
// keys, which must be the public halves byte for byte.
func TestKeysetVerifies(t *testing.T) {
	keys := testKeys(t)
	var pubs [][]byte
	for _, k := range keys {
		p, err := k.PublicJWK()
		require.NoError(t, err)
		pubs = append(pubs, p)
	}
	for _, k := range keys {
		t.Run(k.Alg, func(t *testing.T) {
			s, _ := signerAndVerifier(t, k)
			tok, err := s.Keyset(mint.Keyset{ID: "ks_1", Keys: pubs})
			require.NoError(t, err)
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Alg)})
			require.NoError(t, err)
			payload, err := jws.Verify(k.Public())
			require.NoError(t, err)
			header, _ := decodeToken(t, tok)
			assert.Equal(t, map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "keyset+jwt"}, header)
			var claims struct {
				Iss  string            `json:"iss"`
				Iat  int64             `json:"iat"`
				Jti  string            `json:"jti"`
				Keys []json.RawMessage `json:"keys"`
			}
			require.NoError(t, json.Unmarshal(payload, &claims))
			assert.Equal(t, "acme", claims.Iss)
			assert.Equal(t, testNow.Unix(), claims.Iat)
			assert.Equal(t, "ks_1", claims.Jti)
			require.Len(t, claims.Keys, len(pubs))
			for i := range pubs {
				assert.Equal(t, string(pubs[i]), string(claims.Keys[i]))
			}
			// The listed keys are a keyring the product can load.
			ring, err := license.ParseKeyring([]byte(`{"keys":[` + strings.Join(rawStrings(claims.Keys), ",") + `]}`))
			require.NoError(t, err)
			assert.Equal(t, len(keys), ring.Len())
		})
	}
}

func rawStrings(list []json.RawMessage) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = string(r)
	}
	return out
}

func TestKeysetDefaults(t *testing.T) {
	k := testKeys(t)[0]
	s, _ := signerAndVerifier(t, k)
	pub, err := k.PublicJWK()
	require.NoError(t, err)
	at := testNow.Add(time.Hour)
	tok, err := s.Keyset(mint.Keyset{IssuedAt: at, Keys: [][]byte{pub}})
	require.NoError(t, err)
	_, claims := decodeToken(t, tok)
	assert.Equal(t, float64(at.Unix()), claims["iat"])
	jti, _ := claims["jti"].(string)
	assert.True(t, strings.HasPrefix(jti, mint.KeysetIDPrefix) && len(jti) == len(mint.KeysetIDPrefix)+24, jti)
}

func TestKeysetRefuses(t *testing.T) {
	keys := testKeys(t)
	k := keys[0]
	s, _ := signerAndVerifier(t, k)
	pub, err := k.PublicJWK()
	require.NoError(t, err)
	priv, err := k.MarshalPrivateJWK()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(pub, &m))
	edit := func(f func(map[string]any)) []byte {
		c := map[string]any{}
		for n, v := range m {
			c[n] = v
		}
		f(c)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	many := make([][]byte, mint.MaxKeysetKeys+1)
	for i := range many {
		many[i] = pub
	}
	noIssuer, err := mint.NewSigner(k, mint.WithClock(fixedClock))
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		s    *mint.Signer
		keys [][]byte
		want error
	}{
		{"no keys", s, nil, mint.ErrClaims},
		{"too many keys", s, many, mint.ErrClaims},
		{"no issuer", noIssuer, [][]byte{pub}, mint.ErrClaims},
		{"a private key", s, [][]byte{priv}, mint.ErrKey},
		{"a kid that is not the thumbprint", s, [][]byte{edit(func(c map[string]any) { c["kid"] = "k1" })}, mint.ErrKey},
		{"no kid", s, [][]byte{edit(func(c map[string]any) { delete(c, "kid") })}, mint.ErrKey},
		{"no alg", s, [][]byte{edit(func(c map[string]any) { delete(c, "alg") })}, mint.ErrAlgorithm},
		{"another alg", s, [][]byte{edit(func(c map[string]any) { c["alg"] = "HS256" })}, mint.ErrAlgorithm},
		{"use enc", s, [][]byte{edit(func(c map[string]any) { c["use"] = "enc" })}, mint.ErrKey},
		{"a key twice", s, [][]byte{pub, pub}, mint.ErrKey},
		{"a duplicate member", s, [][]byte{[]byte(strings.Replace(string(pub), `{`, `{"kid":"x",`, 1))}, mint.ErrKey},
		{"not JSON", s, [][]byte{[]byte("{")}, mint.ErrKey},
		{"a JWKS, not a JWK", s, [][]byte{[]byte(`{"keys":[` + string(pub) + `]}`)}, mint.ErrKey},
	} {
		_, err := c.s.Keyset(mint.Keyset{Keys: c.keys})
		assert.ErrorIs(t, err, c.want, c.name)
	}
}
