package license

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// The signature algorithms a [Keyring] key can be pinned to.
const (
	EdDSA = "EdDSA" // Ed25519
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	ES384 = "ES384" // ECDSA P-384 with SHA-384
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA ≥ 2048 bits
	PS256 = "PS256" // RSASSA-PSS with SHA-256, salt length 32, RSA ≥ 2048 bits
)

// MinRSABits is the smallest RSA modulus a keyring accepts.
const MinRSABits = 2048

// maxKeyringSize bounds the input of [ParseKeyring].
const maxKeyringSize = 1 << 20

// ErrKeyring is returned, wrapped, for any keyring that cannot be used.
var ErrKeyring = errors.New("license: invalid keyring")

// Keyring is an immutable set of public verification keys, each pinned to
// exactly one algorithm and named by a key id (kid). Build one with
// [ParseKeyring]; it is safe for concurrent use.
type Keyring struct {
	keys  []*pubKey
	byKid map[string]*pubKey
}

// pubKey is one key with its algorithm fixed at load time: a token's alg
// header can select a key but never change how it is used.
type pubKey struct {
	kid string
	alg string
	ed  ed25519.PublicKey
	ec  *ecdsa.PublicKey
	rsa *rsa.PublicKey
}

// KeyIDs returns the key ids in the order the keys were given.
func (k *Keyring) KeyIDs() []string {
	ids := make([]string, len(k.keys))
	for i, p := range k.keys {
		ids[i] = p.kid
	}
	return ids
}

// Algorithm returns the algorithm the key with the given id is pinned to,
// or "" if there is no such key.
func (k *Keyring) Algorithm(kid string) string {
	if p := k.byKid[kid]; p != nil {
		return p.alg
	}
	return ""
}

// Len returns the number of keys.
func (k *Keyring) Len() int { return len(k.keys) }

// ParseKeyring reads public keys from a JWKS document ({"keys": [...]}) or
// from one or more PEM "PUBLIC KEY" blocks — what a product embeds with
// //go:embed. Each key is pinned to one algorithm:
//
//	Ed25519 → EdDSA; P-256 → ES256; P-384 → ES384;
//	RSA ≥ 2048 bits → RS256, or PS256 when the JWK says "alg": "PS256".
//
// A JWK's kid is used as given; without one, and for every PEM key, the kid
// is the RFC 7638 SHA-256 thumbprint (base64url). The whole keyring is
// refused if any key is private, symmetric, weak (RSA < 2048), of another
// curve or type, marked for a use other than "sig", has an alg that does not
// fit its type, or repeats a kid or a key.
func ParseKeyring(data []byte) (*Keyring, error) {
	if len(data) > maxKeyringSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrKeyring, maxKeyringSize)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimSpace(data)
	var (
		keys []*pubKey
		err  error
	)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		keys, err = parseJWKS(trimmed)
	case bytes.Contains(trimmed, []byte("-----BEGIN")):
		keys, err = parsePEM(trimmed)
	default:
		return nil, fmt.Errorf("%w: neither a JWKS document nor PEM", ErrKeyring)
	}
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrKeyring)
	}
	kr := &Keyring{keys: keys, byKid: make(map[string]*pubKey, len(keys))}
	for i, k := range keys {
		if kr.byKid[k.kid] != nil {
			return nil, fmt.Errorf("%w: duplicate kid %q", ErrKeyring, k.kid)
		}
		for _, prev := range keys[:i] {
			if prev.equal(k) {
				return nil, fmt.Errorf("%w: key %q repeats key %q", ErrKeyring, k.kid, prev.kid)
			}
		}
		kr.byKid[k.kid] = k
	}
	return kr, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func parseJWKS(data []byte) ([]*pubKey, error) {
	// A strict reader, not encoding/json: that one keeps the last of
	// duplicate members and matches names case-insensitively, so
	// {"keys":[A],"Keys":[B]} would load B.
	var keys []string
	r := strictjson.NewReader(data)
	err := r.Object(func(name string) error {
		switch {
		case name == "keys":
			return r.Array(func() error {
				raw, err := r.Raw()
				keys = append(keys, raw)
				return err
			})
		case strings.EqualFold(name, "keys"):
			return fmt.Errorf("member %q is not \"keys\"", name)
		}
		return r.Skip()
	})
	if err == nil {
		err = r.End()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyring, err)
	}
	out := make([]*pubKey, 0, len(keys))
	for i, raw := range keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(raw)); err != nil {
			return nil, fmt.Errorf("%w: key %d: %v", ErrKeyring, i, err)
		}
		if !jwk.IsPublic() {
			return nil, fmt.Errorf("%w: key %d (%q) is private or symmetric; embed public keys only", ErrKeyring, i, jwk.KeyID)
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			return nil, fmt.Errorf("%w: key %d (%q) has use %q, want \"sig\"", ErrKeyring, i, jwk.KeyID, jwk.Use)
		}
		if err := checkKeyOps(raw); err != nil {
			return nil, fmt.Errorf("%w: key %d (%q): %v", ErrKeyring, i, jwk.KeyID, err)
		}
		k, err := newPubKey(jwk.Key, jwk.Algorithm)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (%q): %v", ErrKeyring, i, jwk.KeyID, err)
		}
		k.kid = jwk.KeyID
		if k.kid == "" {
			if k.kid, err = thumbprint(jwk.Key); err != nil {
				return nil, fmt.Errorf("%w: key %d: %v", ErrKeyring, i, err)
			}
		}
		out = append(out, k)
	}
	return out, nil
}

func parsePEM(data []byte) ([]*pubKey, error) {
	var out []*pubKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: PEM block %q; only \"PUBLIC KEY\" blocks are accepted", ErrKeyring, block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM key %d: %v", ErrKeyring, len(out), err)
		}
		k, err := newPubKey(pub, "")
		if err != nil {
			return nil, fmt.Errorf("%w: PEM key %d: %v", ErrKeyring, len(out), err)
		}
		if k.kid, err = thumbprint(pub); err != nil {
			return nil, fmt.Errorf("%w: PEM key %d: %v", ErrKeyring, len(out), err)
		}
		out = append(out, k)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: text after the last PEM block", ErrKeyring)
	}
	return out, nil
}

// checkKeyOps refuses a JWK whose key_ops (RFC 7517 §4.3), when present,
// does not allow "verify". go-jose does not read key_ops.
func checkKeyOps(raw string) error {
	var ops []string
	found := false
	r := strictjson.NewStringReader(raw)
	err := r.Object(func(name string) error {
		if name != "key_ops" {
			return r.Skip()
		}
		found = true
		return r.Array(func() error {
			op, err := r.String()
			ops = append(ops, op)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("key_ops: %v", err)
	}
	if found && !slices.Contains(ops, "verify") {
		return fmt.Errorf("key_ops %q does not allow \"verify\"", ops)
	}
	return nil
}

// newPubKey pins a public key to its algorithm. alg is the JWK's "alg"
// member ("" when absent).
func newPubKey(pub any, alg string) (*pubKey, error) {
	switch key := pub.(type) {
	case ed25519.PublicKey:
		if alg != "" && alg != EdDSA {
			return nil, fmt.Errorf("alg %q does not fit an Ed25519 key", alg)
		}
		return &pubKey{alg: EdDSA, ed: key}, nil
	case *ecdsa.PublicKey:
		want := ""
		switch key.Curve {
		case elliptic.P256():
			want = ES256
		case elliptic.P384():
			want = ES384
		default:
			return nil, fmt.Errorf("unsupported curve %s", key.Curve.Params().Name)
		}
		if alg != "" && alg != want {
			return nil, fmt.Errorf("alg %q does not fit a %s key", alg, key.Curve.Params().Name)
		}
		return &pubKey{alg: want, ec: key}, nil
	case *rsa.PublicKey:
		if key.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("RSA key of %d bits; at least %d required", key.N.BitLen(), MinRSABits)
		}
		switch alg {
		case "", RS256:
			alg = RS256
		case PS256:
		default:
			return nil, fmt.Errorf("alg %q does not fit an RSA key (RS256 or PS256)", alg)
		}
		return &pubKey{alg: alg, rsa: key}, nil
	case ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey, []byte:
		return nil, errors.New("private or symmetric key")
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

func (k *pubKey) public() crypto.PublicKey {
	switch {
	case k.ed != nil:
		return k.ed
	case k.ec != nil:
		return k.ec
	}
	return k.rsa
}

func (k *pubKey) equal(o *pubKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	return k.public().(equaler).Equal(o.public())
}

// thumbprint is the RFC 7638 SHA-256 JWK thumbprint, base64url without padding.
func thumbprint(pub crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}
