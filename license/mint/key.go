package mint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/licensekit/licensekit/license"
)

// DefaultRSABits is the size of the RSA keys [GenerateKey] makes.
const DefaultRSABits = 3072

// Key is a private signing key, pinned to one algorithm.
//
// Its String, GoString, Format and LogValue methods show only the algorithm
// and the kid, and MarshalJSON refuses, so that no log line, error or
// accidental json.Marshal carries the private key; write it deliberately
// with [Key.MarshalPrivateJWK]. Treat the fields as read-only: make keys
// with [GenerateKey], [NewKey] or [ParseKey], which check them.
type Key struct {
	Alg     string        // license.EdDSA, license.ES256, license.ES384, license.RS256 or license.PS256
	KID     string        // RFC 7638 SHA-256 thumbprint of the public key, base64url, no padding
	Private crypto.Signer // ed25519.PrivateKey, *ecdsa.PrivateKey or *rsa.PrivateKey
}

// GenerateKey returns a fresh key for alg from crypto/rand. RSA keys
// (RS256, PS256) have [DefaultRSABits] bits.
func GenerateKey(alg string) (*Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case license.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case license.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case license.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case license.RS256, license.PS256:
		return GenerateRSAKey(alg, DefaultRSABits)
	default:
		return nil, unknownAlg(alg)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: generating a %s key: %v", ErrKey, alg, err)
	}
	return NewKey(alg, priv)
}

// GenerateRSAKey returns a fresh RSA key of the given size for alg (RS256
// or PS256). bits must be at least [license.MinRSABits]; tests use 2048
// for speed, production keys the default of [GenerateKey].
func GenerateRSAKey(alg string, bits int) (*Key, error) {
	if alg != license.RS256 && alg != license.PS256 {
		return nil, fmt.Errorf("%w: %q is not an RSA algorithm (RS256 or PS256)", ErrAlgorithm, alg)
	}
	if bits < license.MinRSABits {
		return nil, fmt.Errorf("%w: RSA keys need at least %d bits, not %d", ErrKey, license.MinRSABits, bits)
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("%w: generating an RSA key: %v", ErrKey, err)
	}
	return NewKey(alg, priv)
}

// NewKey pins an existing private key to alg and computes its kid. It
// refuses an algorithm that does not fit the key's type ([ErrAlgorithm]),
// RSA keys under [license.MinRSABits] bits, and keys whose private and
// public halves disagree ([ErrKey]).
func NewKey(alg string, priv crypto.Signer) (*Key, error) {
	if err := checkPrivate(alg, priv); err != nil {
		return nil, err
	}
	kid, err := Thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	return &Key{Alg: alg, KID: kid, Private: priv}, nil
}

// Thumbprint returns the RFC 7638 SHA-256 JWK thumbprint of a public key,
// base64url without padding: the kid of [Key] and the value
// [license.ParseKeyring] derives for a key without one.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("%w: thumbprint: %v", ErrKey, err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// checkPrivate checks that priv is a private key of the type alg needs,
// strong enough, and consistent: a test signature verifies with its
// public half.
func checkPrivate(alg string, priv crypto.Signer) error {
	if err := fits(alg, priv); err != nil {
		return err
	}
	if k, ok := priv.(*rsa.PrivateKey); ok {
		if k.N.BitLen() < license.MinRSABits {
			return fmt.Errorf("%w: RSA key of %d bits; at least %d required", ErrKey, k.N.BitLen(), license.MinRSABits)
		}
		if err := k.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrKey, err)
		}
	}
	probe := []byte("licensekit mint key check")
	k := &Key{Alg: alg, Private: priv}
	sig, err := k.SignInput(probe)
	if err != nil {
		return err
	}
	if !verify(alg, priv.Public(), probe, sig) {
		return fmt.Errorf("%w: the private and public halves of the %s key do not match", ErrKey, alg)
	}
	return nil
}

// fits checks that priv has the type alg signs with.
func fits(alg string, priv crypto.Signer) error {
	var want []string
	kind := ""
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrKey, len(k))
		}
		want, kind = []string{license.EdDSA}, "Ed25519"
	case *ecdsa.PrivateKey:
		if k == nil || k.Curve == nil {
			return fmt.Errorf("%w: empty ECDSA key", ErrKey)
		}
		switch k.Curve {
		case elliptic.P256():
			want = []string{license.ES256}
		case elliptic.P384():
			want = []string{license.ES384}
		default:
			return fmt.Errorf("%w: unsupported curve %s", ErrKey, k.Curve.Params().Name)
		}
		kind = k.Curve.Params().Name
	case *rsa.PrivateKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: empty RSA key", ErrKey)
		}
		want, kind = []string{license.RS256, license.PS256}, "RSA"
	case nil:
		return fmt.Errorf("%w: no private key", ErrKey)
	default:
		return fmt.Errorf("%w: unsupported key type %T", ErrKey, priv)
	}
	if !knownAlg(alg) {
		return unknownAlg(alg)
	}
	if !slices.Contains(want, alg) {
		return fmt.Errorf("%w: %s does not fit a %s key", ErrAlgorithm, alg, kind)
	}
	return nil
}

func knownAlg(alg string) bool {
	switch alg {
	case license.EdDSA, license.ES256, license.ES384, license.RS256, license.PS256:
		return true
	}
	return false
}

func unknownAlg(alg string) error {
	return fmt.Errorf("%w: %q (want EdDSA, ES256, ES384, RS256 or PS256)", ErrAlgorithm, alg)
}

// Public returns the public half of the key.
func (k *Key) Public() crypto.PublicKey { return k.Private.Public() }

// String returns "mint.Key{ALG kid=KID}"; never private material.
func (k Key) String() string { return "mint.Key{" + k.Alg + " kid=" + k.KID + "}" }

// GoString is [Key.String], so %#v shows no private material either.
func (k Key) GoString() string { return k.String() }

// Format writes [Key.String] for every verb, so that no verb (%d, %x,
// %+v) reaches the private key's fields.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue logs the algorithm and kid only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("alg", k.Alg), slog.String("kid", k.KID))
}

// MarshalJSON always fails: a private key is written on purpose with
// [Key.MarshalPrivateJWK], or its public half with [Key.PublicJWK].
func (k Key) MarshalJSON() ([]byte, error) {
	return nil, fmt.Errorf("%w: a private key is not marshalled implicitly; use MarshalPrivateJWK or PublicJWK", ErrKey)
}
