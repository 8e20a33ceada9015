package licensetest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

var allAlgs = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// TestAlgorithms mints with each of the five algorithms and checks the
// tokens with go-jose, an implementation independent of package license,
// and with package license itself. One issuer holds all keys, so RSA keys
// are generated only twice.
func TestAlgorithms(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms(allAlgs...))
	keys := iss.Keys()
	require.Len(t, keys, len(allAlgs))
	v := iss.Verifier()
	sigSize := map[string]int{"EdDSA": 64, "ES256": 64, "ES384": 96, "RS256": 256, "PS256": 256}
	for n, k := range keys {
		assert.Equal(t, allAlgs[n], k.Alg)
		assert.True(t, samePublic(k.Public, k.Signer.Public()), k.Alg)
		minted := iss.Mint(licensetest.SignWith(k.KID))
		raw := iss.SignRaw(k.KID, []byte(`{"alg":"`+k.Alg+`","kid":"`+k.KID+`"}`), []byte(`{"hello":"world"}`))
		for name, tok := range map[string]string{"Mint": minted, "SignRaw": raw} {
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Alg)})
			require.NoError(t, err, "%s %s", k.Alg, name)
			assert.Equal(t, k.KID, jws.Signatures[0].Header.KeyID, "%s %s", k.Alg, name)
			assert.Equal(t, k.Alg, jws.Signatures[0].Header.Algorithm, "%s %s", k.Alg, name)
			_, err = jws.Verify(k.Public)
			assert.NoError(t, err, "%s %s: go-jose verification", k.Alg, name)
			assert.Len(t, jws.Signatures[0].Signature, sigSize[k.Alg], "%s %s: JOSE signature size", k.Alg, name)
		}
		lic, err := v.Verify(minted)
		if assert.NoError(t, err, "%s: license.Verify", k.Alg) {
			assert.Equal(t, licensetest.DefaultIssuerName, lic.Issuer)
		}
	}
}

// TestECDSAIsP1363 checks many ECDSA signatures are fixed-size r||s, so
// the left-padding of short r or s (1 in 256 signatures) is exercised.
func TestECDSAIsP1363(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("ES256"))
	k := iss.Keys()[0]
	pub := k.Public.(*ecdsa.PublicKey)
	for n := range 600 {
		tok := iss.SignRaw("", []byte(`{"alg":"ES256"}`), []byte(fmt.Sprint(n)))
		dot := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		require.NoError(t, err)
		require.Len(t, sig, 64)
		h := sha256.Sum256([]byte(tok[:dot]))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		require.True(t, ecdsa.Verify(pub, h[:], r, s), "signature %d", n)
	}
}

func TestKIDIsRFC7638Thumbprint(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("EdDSA", "ES256"))
	for _, k := range iss.Keys() {
		tp, err := (&jose.JSONWebKey{Key: k.Public}).Thumbprint(crypto.SHA256)
		require.NoError(t, err)
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(tp), k.KID, k.Alg)
	}
	// By hand for Ed25519 (RFC 7638 §3, RFC 8037 §2): the required members
	// in lexicographic order, no whitespace.
	k := iss.Keys()[0]
	x := base64.RawURLEncoding.EncodeToString(k.Public.(ed25519.PublicKey))
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), k.KID)
}

func TestRotationKeysDiffer(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("EdDSA", "EdDSA", "ES256"))
	keys := iss.Keys()
	assert.NotEqual(t, keys[0].KID, keys[1].KID)
	assert.Equal(t, licensetest.DefaultIssuerName, iss.Name())
	keys[0].KID = "changed"
	assert.NotEqual(t, "changed", iss.Keys()[0].KID, "Keys returns a copy")
	keys = iss.Keys()
	kr := iss.Keyring()
	assert.Equal(t, []string{keys[0].KID, keys[1].KID, keys[2].KID}, kr.KeyIDs())

	// Each key verifies its own tokens; the kid picks it.
	v := iss.Verifier()
	for _, k := range keys {
		_, err := v.Verify(iss.Mint(licensetest.SignWith(k.KID)))
		assert.NoError(t, err, k.KID)
	}
	// Tokens of an issuer with other keys are refused.
	_, err := v.Verify(licensetest.NewIssuer(t).Mint())
	assert.ErrorIs(t, err, license.ErrUnknownKey)
}

func TestJWKS(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("EdDSA", "ES256", "ES384"))
	data := iss.JWKS()
	assert.NotContains(t, string(data), `"d"`, "private material in JWKS")

	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(data, &set))
	require.Len(t, set.Keys, 3)
	for n, k := range iss.Keys() {
		jwk := set.Keys[n]
		assert.True(t, jwk.Valid() && jwk.IsPublic(), k.Alg)
		assert.Equal(t, k.KID, jwk.KeyID)
		assert.Equal(t, k.Alg, jwk.Algorithm)
		assert.Equal(t, "sig", jwk.Use)
		assert.True(t, samePublic(k.Public, jwk.Key), k.Alg)
	}

	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Equal(t, "OKP", doc.Keys[0]["kty"])
	assert.Equal(t, "Ed25519", doc.Keys[0]["crv"])
	assert.Equal(t, "EC", doc.Keys[1]["kty"])
	assert.Equal(t, "P-256", doc.Keys[1]["crv"])
	assert.Equal(t, "P-384", doc.Keys[2]["crv"])
	for _, m := range []string{"x", "y"} {
		assert.Contains(t, doc.Keys[2], m)
	}
}

func TestPEM(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("EdDSA", "ES384"))
	rest := iss.PEM()
	for _, k := range iss.Keys() {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		require.NotNil(t, block)
		assert.Equal(t, "PUBLIC KEY", block.Type)
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		require.NoError(t, err)
		assert.True(t, samePublic(k.Public, pub), k.Alg)
	}
	assert.Empty(t, rest)

	// The same kids come out of PEM, derived as thumbprints.
	kr, err := license.ParseKeyring(iss.PEM())
	require.NoError(t, err)
	assert.Equal(t, iss.Keyring().KeyIDs(), kr.KeyIDs())
}

func TestKeyring(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("ES256", "EdDSA"))
	kr := iss.Keyring()
	require.Equal(t, 2, kr.Len())
	for _, k := range iss.Keys() {
		assert.Equal(t, k.Alg, kr.Algorithm(k.KID))
	}
}

// TestRSAKeyring is the one other test that pays for RSA keys: PS256 must
// survive the JWKS, and a weak key must be refused.
func TestRSAKeyring(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("PS256"), licensetest.RSABits(1024))
	k := iss.Keys()[0]
	assert.Equal(t, 1024, k.Public.(*rsa.PublicKey).N.BitLen())

	// Still signs, go-jose still verifies...
	jws, err := jose.ParseSignedCompact(iss.Mint(), []jose.SignatureAlgorithm{jose.PS256})
	require.NoError(t, err)
	_, err = jws.Verify(k.Public)
	require.NoError(t, err)
	// ...but no keyring accepts it.
	_, err = license.ParseKeyring(iss.JWKS())
	assert.ErrorIs(t, err, license.ErrKeyring)
	_, err = license.ParseKeyring(iss.PEM())
	assert.ErrorIs(t, err, license.ErrKeyring)
}

// fakeT records Fatalf and stops the goroutine like testing does.
type fakeT struct {
	mu  sync.Mutex
	msg string
}

func (f *fakeT) Helper()         {}
func (f *fakeT) Cleanup(func())  {}
func (f *fakeT) TempDir() string { return os.TempDir() }

func (f *fakeT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// run calls fn on a goroutine of its own and returns the Fatalf message,
// or "" when fn returned normally.
func (f *fakeT) run(fn func(licensetest.TB)) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name string
		fn   func(tb licensetest.TB)
		want string
	}{
		{"unknown algorithm", func(tb licensetest.TB) { licensetest.NewIssuer(tb, licensetest.Algorithms("HS256")) }, `unknown algorithm "HS256"`},
		{"no algorithms", func(tb licensetest.TB) { licensetest.NewIssuer(tb, licensetest.Algorithms()) }, "at least one algorithm"},
		{"RSA too small", func(tb licensetest.TB) {
			licensetest.NewIssuer(tb, licensetest.Algorithms("RS256"), licensetest.RSABits(512))
		}, "generating a RS256 key"},
		{"unknown kid", func(tb licensetest.TB) { licensetest.NewIssuer(tb).Mint(licensetest.SignWith("nope")) }, `no key with kid "nope"`},
		{"unknown raw kid", func(tb licensetest.TB) { licensetest.NewIssuer(tb).SignRaw("nope", nil, nil) }, `no key with kid "nope"`},
		{"bad claim", func(tb licensetest.TB) { licensetest.NewIssuer(tb).Mint(licensetest.Claim("x", make(chan int))) }, "licensetest: encoding claims"},
		{"bad header", func(tb licensetest.TB) { licensetest.NewIssuer(tb).Mint(licensetest.Header("x", func() {})) }, "licensetest: signing"},
		{"weak keyring", func(tb licensetest.TB) {
			licensetest.NewIssuer(tb, licensetest.Algorithms("RS256"), licensetest.RSABits(1024)).Keyring()
		}, "licensetest: parsing the issuer's own JWKS"},
		{"bad file field", func(tb licensetest.TB) { licensetest.NewIssuer(tb).KeyFile(licensetest.FileField("x", make(chan int))) }, `encoding key file field "x"`},
		{"fine", func(tb licensetest.TB) { licensetest.NewIssuer(tb).Mint() }, ""},
	}
	for _, tc := range tests {
		f := &fakeT{}
		msg := f.run(tc.fn)
		if tc.want == "" {
			assert.Empty(t, msg, tc.name)
			continue
		}
		assert.Contains(t, msg, tc.want, tc.name)
		assert.True(t, strings.HasPrefix(msg, "licensetest: "), "%s: %q", tc.name, msg)
	}
}

// panicT is a TB whose Fatalf returns: the Issuer must not carry on.
type panicT struct{}

func (panicT) Helper()               {}
func (panicT) Fatalf(string, ...any) {}
func (panicT) Cleanup(func())        {}
func (panicT) TempDir() string       { return os.TempDir() }

func TestFatalfThatReturns(t *testing.T) {
	iss := licensetest.NewIssuer(panicT{})
	assert.PanicsWithValue(t, `licensetest: issuer has no key with kid "nope"`, func() {
		iss.Mint(licensetest.SignWith("nope"))
	})
}

func samePublic(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// TestConcurrentMint: an Issuer is safe for concurrent use (run with -race).
func TestConcurrentMint(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("EdDSA", "ES256"))
	kid := iss.Keys()[1].KID
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for n := range toks {
		wg.Go(func() { toks[n] = iss.Mint(licensetest.SignWith(kid)) + iss.MintLease() + string(iss.KeyFile()) })
	}
	wg.Wait()
	for _, tok := range toks {
		assert.NotEmpty(t, tok)
	}
}
