package licensetest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// TB is the part of [testing.TB] licensetest uses: *testing.T, *testing.B
// and *testing.F implement it, and it is the only kind of t the package
// takes — [NewIssuer] keeps it, and everything made from the Issuer (its
// key files, its [ControlPlane]) reports through it, cleans up with its
// Cleanup and writes under its TempDir. It is an interface of its own so
// that code without a test — an Example, a corpus generator — can pass a
// small stand-in (see the package Example). Fatalf must not return
// (testing's calls runtime.Goexit); if a stand-in's does, licensetest
// panics with the same message.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// DefaultIssuerName is the iss claim of tokens minted by an [Issuer] made
// without [IssuerName].
//
// A product that sets license.Config.Issuer (as it should) refuses every
// token whose iss differs, with nothing but "issuer mismatch" to go on. So
// make the Issuer with IssuerName set to the product's name, and let
// [Issuer.Configure] set up the product's Config: it fails the test at once,
// naming both, when the two differ.
const DefaultIssuerName = "licensetest"

// DefaultRSABits is the size of the RSA keys an [Issuer] generates.
const DefaultRSABits = 2048

// Key is one signing key of an [Issuer].
type Key struct {
	Alg    string           // "EdDSA", "ES256", "ES384", "RS256" or "PS256"
	KID    string           // RFC 7638 SHA-256 JWK thumbprint of Public, base64url without padding
	Public crypto.PublicKey // ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey
	Signer crypto.Signer    // the private key: ed25519.PrivateKey, *ecdsa.PrivateKey or *rsa.PrivateKey
}

// MintKey returns the key as a [mint.Key], for a [mint.Signer] of the
// issuer's key (as a control plane under test would hold).
func (k Key) MintKey() *mint.Key { return &mint.Key{Alg: k.Alg, KID: k.KID, Private: k.Signer} }

// Issuer is a fake licence issuer: a set of fresh signing keys and a name.
// It mints licence tokens ([Issuer.Mint]), leases ([Issuer.MintLease]) and
// key files ([Issuer.KeyFile]), and publishes its public keys as JWKS, PEM
// or a ready [license.Keyring]. Make one with [NewIssuer]. An Issuer is
// immutable and safe for concurrent use; failures are reported through the
// TB it was made with.
type Issuer struct {
	t       TB
	name    string
	keys    []Key
	minted  []*mint.Key    // keys[n] as a mint key
	signers []*mint.Signer // a signer of keys[n]; nil for a key mint refuses (RSABits below 2048)
	book    *book          // licence tokens minted since a ControlPlane serves the issuer
}

// IssuerOption configures [NewIssuer].
type IssuerOption func(*issuerConfig)

type issuerConfig struct {
	algs    []string
	name    string
	rsaBits int
}

// Algorithms makes one fresh key per entry, in order, each pinned to
// that algorithm: "EdDSA" (Ed25519), "ES256" (P-256), "ES384" (P-384),
// "RS256" or "PS256" (RSA, [DefaultRSABits] bits unless [RSABits]).
// Repeat an algorithm for several keys of one kind, as in a key rotation.
// The first key signs unless [SignWith] picks another. The default is a
// single "EdDSA" key. RSA key generation takes a noticeable fraction of a
// second; nothing is cached between issuers.
func Algorithms(algs ...string) IssuerOption {
	return func(c *issuerConfig) { c.algs = append([]string(nil), algs...) }
}

// IssuerName sets the iss claim of minted tokens and leases (default
// [DefaultIssuerName]). Give it the name the product under test expects in
// license.Config.Issuer; see [DefaultIssuerName] for why it matters.
func IssuerName(name string) IssuerOption {
	return func(c *issuerConfig) { c.name = name }
}

// RSABits sets the size of generated RSA keys (default
// [DefaultRSABits]). Use 1024 to test that weak keys are refused: such an
// issuer still signs, but [Issuer.Keyring] fails because
// [license.ParseKeyring] refuses the key; test that refusal with
// [Issuer.JWKS] or [Issuer.PEM].
func RSABits(bits int) IssuerOption {
	return func(c *issuerConfig) { c.rsaBits = bits }
}

// NewIssuer returns an issuer with fresh keys. Key generation failures and
// unknown algorithms fail the test.
func NewIssuer(t TB, opts ...IssuerOption) *Issuer {
	t.Helper()
	c := issuerConfig{algs: []string{license.EdDSA}, name: DefaultIssuerName, rsaBits: DefaultRSABits}
	for _, o := range opts {
		o(&c)
	}
	i := &Issuer{t: t, name: c.name, book: &book{}}
	if len(c.algs) == 0 {
		i.fatalf("licensetest: Algorithms needs at least one algorithm")
	}
	for _, alg := range c.algs {
		mk, err := generate(alg, c.rsaBits)
		if err != nil {
			i.fatalf("licensetest: generating a %s key: %v", alg, err)
		}
		i.keys = append(i.keys, Key{Alg: alg, KID: mk.KID, Public: mk.Public(), Signer: mk.Private})
		i.minted = append(i.minted, mk)
		var s *mint.Signer
		if c.rsaBits >= license.MinRSABits || (alg != license.RS256 && alg != license.PS256) {
			if s, err = mint.NewSigner(mk, mint.WithIssuer(c.name)); err != nil {
				i.fatalf("licensetest: a signer for a %s key: %v", alg, err)
			}
		}
		i.signers = append(i.signers, s)
	}
	return i
}

// generate makes a key with mint; RSA keys below the minimum that mint
// refuses are made here, so that a test can check they are refused.
func generate(alg string, rsaBits int) (*mint.Key, error) {
	switch {
	case (alg == license.RS256 || alg == license.PS256) && rsaBits < license.MinRSABits:
		priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, err
		}
		kid, err := mint.Thumbprint(priv.Public())
		if err != nil {
			return nil, err
		}
		return &mint.Key{Alg: alg, KID: kid, Private: priv}, nil
	case alg == license.RS256 || alg == license.PS256:
		return mint.GenerateRSAKey(alg, rsaBits)
	}
	return mint.GenerateKey(alg)
}

// fatalf reports through the issuer's TB and never returns.
func (i *Issuer) fatalf(format string, args ...any) {
	i.t.Helper()
	i.t.Fatalf(format, args...)
	panic(fmt.Sprintf(format, args...)) // only reached with a TB whose Fatalf returns
}

// Name returns the issuer name, the iss claim of minted tokens.
func (i *Issuer) Name() string { return i.name }

// Keys returns the issuer's keys, in the order of [Algorithms]. The
// slice is a copy; the keys themselves must not be modified.
func (i *Issuer) Keys() []Key { return append([]Key(nil), i.keys...) }

// index returns the position of the key with the given kid.
func (i *Issuer) index(kid string) int {
	i.t.Helper()
	for n, k := range i.keys {
		if k.KID == kid {
			return n
		}
	}
	i.fatalf("licensetest: issuer has no key with kid %q", kid)
	return 0
}

// JWKS returns the public keys as a JWK Set document, {"keys": [...]},
// indented. Each key carries kty and its parameters (crv, x, y or n, e),
// kid, alg and "use": "sig"; no private material.
func (i *Issuer) JWKS() []byte {
	i.t.Helper()
	data, err := mint.JWKS(i.minted...)
	if err != nil {
		i.fatalf("licensetest: encoding JWKS: %v", err)
	}
	return data
}

// PEM returns the public keys as PKIX "PUBLIC KEY" PEM blocks, one per key,
// in order. PEM has no room for kid or alg: a reader derives the kid as the
// thumbprint (the same value as [Key.KID]) and takes RSA keys as RS256, so
// a PS256 key only keeps its algorithm in [Issuer.JWKS].
func (i *Issuer) PEM() []byte {
	i.t.Helper()
	var buf bytes.Buffer
	for _, k := range i.keys {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		if err != nil {
			i.fatalf("licensetest: encoding a %s public key: %v", k.Alg, err)
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "PUBLIC KEY", Bytes: der}); err != nil {
			i.fatalf("licensetest: encoding PEM: %v", err)
		}
	}
	return buf.Bytes()
}

// Keyring returns the public keys parsed by [license.ParseKeyring] from
// [Issuer.JWKS], as a product would load them. A parse failure (such as a
// key made weak with [RSABits]) fails the test.
func (i *Issuer) Keyring() *license.Keyring {
	i.t.Helper()
	kr, err := license.ParseKeyring(i.JWKS())
	if err != nil {
		i.fatalf("licensetest: parsing the issuer's own JWKS: %v", err)
	}
	return kr
}

// Verifier returns a [license.Verifier] for this issuer's tokens: its
// [Issuer.Keyring], [license.WithIssuer] set to [Issuer.Name], then opts.
// A product's Manager is set up alike by [Issuer.Configure].
func (i *Issuer) Verifier(opts ...license.Option) *license.Verifier {
	i.t.Helper()
	return license.NewVerifier(i.Keyring(), append([]license.Option{license.WithIssuer(i.name)}, opts...)...)
}

// Configure sets up a product's Config for this issuer: Keys becomes the
// issuer's [Issuer.Keyring], and Issuer is checked — when the product sets
// one (as it should), it must be the issuer's [Issuer.Name], or the test
// fails at once, naming both, instead of every token being refused later
// with "issuer mismatch". An empty Config.Issuer is left empty. Pair it with
// [ControlPlane.Configure] for the online part.
func (i *Issuer) Configure(cfg *license.Config) {
	i.t.Helper()
	if cfg.Issuer != "" && cfg.Issuer != i.name {
		i.fatalf("licensetest: the product's Config.Issuer is %q but this Issuer signs as %q: "+
			"make it with licensetest.NewIssuer(t, licensetest.IssuerName(%q))", cfg.Issuer, i.name, cfg.Issuer)
	}
	cfg.Keys = i.Keyring()
}

// book remembers the licence tokens an Issuer mints once a [ControlPlane]
// serves it, so that the control plane knows those licences before any
// device presents them (a test may revoke a licence before its first
// activation). Until then it remembers nothing, so minting in a loop
// without a control plane costs no memory.
type book struct {
	mu     sync.Mutex
	on     bool
	tokens map[string][]string // jti → licence tokens, in minting order
}

// maxBookTokens bounds the tokens remembered per licence.
const maxBookTokens = 16

func (b *book) start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.on {
		b.on, b.tokens = true, map[string][]string{}
	}
}

func (b *book) record(jti, token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.on && jti != "" && len(b.tokens[jti]) < maxBookTokens {
		b.tokens[jti] = append(b.tokens[jti], token)
	}
}

func (b *book) lookup(jti string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.tokens[jti]...)
}
