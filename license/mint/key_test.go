package mint_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

func TestGenerateKey(t *testing.T) {
	for n, k := range testKeys(t) {
		assert.Equal(t, allAlgs[n], k.Alg)
		switch priv := k.Private.(type) {
		case ed25519.PrivateKey:
			assert.Equal(t, license.EdDSA, k.Alg)
		case *ecdsa.PrivateKey:
			want := map[string]elliptic.Curve{license.ES256: elliptic.P256(), license.ES384: elliptic.P384()}[k.Alg]
			assert.Equal(t, want, priv.Curve, k.Alg)
		case *rsa.PrivateKey:
			assert.Equal(t, 2048, priv.N.BitLen(), k.Alg)
		default:
			t.Fatalf("%s: unexpected key type %T", k.Alg, priv)
		}
	}
	a, err := mint.GenerateKey(license.EdDSA)
	require.NoError(t, err)
	b, err := mint.GenerateKey(license.EdDSA)
	require.NoError(t, err)
	assert.NotEqual(t, a.KID, b.KID, "two fresh keys")
}

func TestGenerateKeyRSADefault(t *testing.T) {
	k, err := mint.GenerateKey(license.PS256)
	require.NoError(t, err)
	assert.Equal(t, mint.DefaultRSABits, k.Private.(*rsa.PrivateKey).N.BitLen())
	assert.Equal(t, 3072, mint.DefaultRSABits)
}

func TestGenerateKeyRefusals(t *testing.T) {
	for _, alg := range []string{"", "none", "HS256", "ES512", "eddsa", "RS384"} {
		_, err := mint.GenerateKey(alg)
		assert.ErrorIs(t, err, mint.ErrAlgorithm, "%q", alg)
	}
	_, err := mint.GenerateRSAKey(license.RS256, 1024)
	assert.ErrorIs(t, err, mint.ErrKey)
	_, err = mint.GenerateRSAKey(license.EdDSA, 2048)
	assert.ErrorIs(t, err, mint.ErrAlgorithm)
}

// TestKIDIsThumbprint checks that the kid is what package license derives
// for a key that arrives without one (as every PEM key does).
func TestKIDIsThumbprint(t *testing.T) {
	for _, k := range testKeys(t) {
		der, err := x509.MarshalPKIXPublicKey(k.Public())
		require.NoError(t, err)
		kr, err := license.ParseKeyring(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		require.NoError(t, err)
		assert.Equal(t, []string{k.KID}, kr.KeyIDs(), k.Alg)
		tp, err := mint.Thumbprint(k.Public())
		require.NoError(t, err)
		assert.Equal(t, k.KID, tp, k.Alg)
	}
}

func TestNewKeyRefusals(t *testing.T) {
	keys := testKeys(t)
	ed, es256, es384, rsaKey := keys[0].Private, keys[1].Private, keys[2].Private, keys[3].Private
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	// An Ed25519 key whose public half belongs to another seed.
	mixed := append(ed25519.PrivateKey(nil), ed.(ed25519.PrivateKey)[:32]...)
	mixed = append(mixed, keys[0].Public().(ed25519.PublicKey)...)
	mixed[0] ^= 1

	tests := []struct {
		name string
		alg  string
		priv crypto.Signer
		want error
	}{
		{"Ed25519 as ES256", license.ES256, ed, mint.ErrAlgorithm},
		{"Ed25519 as RS256", license.RS256, ed, mint.ErrAlgorithm},
		{"P-256 as ES384", license.ES384, es256, mint.ErrAlgorithm},
		{"P-384 as ES256", license.ES256, es384, mint.ErrAlgorithm},
		{"P-256 as EdDSA", license.EdDSA, es256, mint.ErrAlgorithm},
		{"RSA as EdDSA", license.EdDSA, rsaKey, mint.ErrAlgorithm},
		{"RSA as ES256", license.ES256, rsaKey, mint.ErrAlgorithm},
		{"unknown alg", "HS256", ed, mint.ErrAlgorithm},
		{"alg none", "none", ed, mint.ErrAlgorithm},
		{"P-521", license.ES256, p521, mint.ErrKey},
		{"RSA 1024", license.RS256, weak, mint.ErrKey},
		{"nil", license.EdDSA, nil, mint.ErrKey},
		{"nil ECDSA", license.ES256, (*ecdsa.PrivateKey)(nil), mint.ErrKey},
		{"short Ed25519", license.EdDSA, ed25519.PrivateKey(make([]byte, 10)), mint.ErrKey},
		{"halves disagree", license.EdDSA, mixed, mint.ErrKey},
		{"not a key", license.EdDSA, fakeSigner{}, mint.ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := mint.NewKey(tt.alg, tt.priv)
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, k)
			assert.True(t, strings.HasPrefix(err.Error(), "mint: "), err.Error())
		})
	}
}

type fakeSigner struct{}

func (fakeSigner) Public() crypto.PublicKey { return nil }
func (fakeSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("no")
}

// TestKeyNeverShowsPrivateMaterial prints, formats, logs and marshals keys
// every way a careless caller might, and looks for the private key.
func TestKeyNeverShowsPrivateMaterial(t *testing.T) {
	for _, k := range testKeys(t) {
		jwk, err := k.MarshalPrivateJWK()
		require.NoError(t, err)
		var priv struct{ D string }
		require.NoError(t, json.Unmarshal(jwk, &priv))
		require.NotEmpty(t, priv.D)
		secrets := []string{priv.D, privateDecimal(k.Private)}

		want := "mint.Key{" + k.Alg + " kid=" + k.KID + "}"
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			for _, v := range []any{k, *k} {
				assert.Equal(t, want, fmt.Sprintf(verb, v), "%s of %T", verb, v)
			}
		}
		assert.Equal(t, "["+want+"]", fmt.Sprint([]*mint.Key{k}))

		var logs bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&logs, nil))
		logger.Info("loaded", "key", k, "value", *k)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "key", k)
		assert.Contains(t, logs.String(), k.KID)

		_, err = json.Marshal(k)
		assert.ErrorIs(t, err, mint.ErrKey)
		_, err = json.Marshal(struct{ Key mint.Key }{*k})
		assert.ErrorIs(t, err, mint.ErrKey)

		out := logs.String() + fmt.Sprintf("%v %+v %#v %d %x", k, k, k, k, k)
		for _, s := range secrets {
			assert.NotContains(t, out, s, k.Alg)
		}
	}
}

// privateDecimal is the private scalar or exponent in decimal, as %d of
// the raw key would print it; for Ed25519, the seed in hex.
func privateDecimal(priv crypto.Signer) string {
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		b, _ := p.Bytes()
		return fmt.Sprintf("%x", b)
	case *rsa.PrivateKey:
		return p.D.String()
	case ed25519.PrivateKey:
		return fmt.Sprintf("%x", p.Seed())
	}
	return "unreachable"
}

func TestPublicOfAnEmptyKey(t *testing.T) {
	var k *mint.Key
	assert.Nil(t, k.Public())
	assert.Nil(t, (&mint.Key{Alg: license.EdDSA}).Public())
	_, err := (&mint.Key{Alg: license.EdDSA}).SignInput([]byte("x"))
	assert.ErrorIs(t, err, mint.ErrKey)
	_, err = k.MarshalPrivateJWK()
	assert.ErrorIs(t, err, mint.ErrKey)
	_, err = (&mint.Key{Alg: license.EdDSA}).PublicJWK()
	assert.ErrorIs(t, err, mint.ErrKey)
}
