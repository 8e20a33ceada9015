package mint

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// MaxJWKSize bounds the input of [ParseKey], in bytes.
const MaxJWKSize = 64 << 10

// jwkMembers are the JWK members go-jose reads; a member that matches one
// of them only without regard to case is refused, since encoding/json
// would silently take it for the real one.
var jwkMembers = []string{"kty", "kid", "crv", "alg", "use", "k", "x", "y", "n", "e", "d", "p", "q", "dp", "dq", "qi", "x5c", "x5u", "x5t", "x5t#S256", "pub", "priv"}

// ParseKey reads a private JWK, as [Key.MarshalPrivateJWK] writes it. alg
// is required and must fit the key; use, when present, must be "sig"; kid,
// when present, must be the key's thumbprint. Public-only and symmetric
// keys, weak RSA keys, inconsistent key halves, duplicate members, and
// anything that is not one JSON object are refused with an error wrapping
// [ErrKey] or [ErrAlgorithm]. The file holds a secret: keep it readable by
// the signing service only.
func ParseKey(privateJWK []byte) (*Key, error) {
	if len(privateJWK) > MaxJWKSize {
		return nil, fmt.Errorf("%w: JWK larger than %d bytes", ErrKey, MaxJWKSize)
	}
	if err := checkMembers(privateJWK); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(privateJWK); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if jwk.IsPublic() {
		return nil, fmt.Errorf("%w: the JWK holds a public key only; a signer needs the private key", ErrKey)
	}
	priv, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: a %T cannot sign (symmetric keys are not supported)", ErrKey, jwk.Key)
	}
	if jwk.Algorithm == "" {
		return nil, fmt.Errorf("%w: the JWK has no alg; a signing key must name its algorithm", ErrAlgorithm)
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Errorf("%w: use %q, want \"sig\"", ErrKey, jwk.Use)
	}
	key, err := NewKey(jwk.Algorithm, priv)
	if err != nil {
		return nil, err
	}
	if jwk.KeyID != "" && jwk.KeyID != key.KID {
		return nil, fmt.Errorf("%w: kid %q is not the key's thumbprint %q", ErrKey, jwk.KeyID, key.KID)
	}
	return key, nil
}

// checkMembers checks that data is exactly one JSON object whose member
// names are unique and, where they resemble a JWK member, spelled exactly.
func checkMembers(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
		name, _ := t.(string)
		if seen[name] {
			return fmt.Errorf("duplicate member %q", name)
		}
		seen[name] = true
		for _, m := range jwkMembers {
			if name != m && strings.EqualFold(name, m) {
				return fmt.Errorf("member %q is not %q", name, m)
			}
		}
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
	}
	if _, err := d.Token(); err != nil {
		return fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("text after the JSON object")
	}
	return nil
}

// MarshalPrivateJWK returns the key as a private JWK with kid, alg and
// "use": "sig": the secret a signing service keeps, read back by
// [ParseKey].
func (k *Key) MarshalPrivateJWK() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	data, err := (&jose.JSONWebKey{Key: k.Private, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return data, nil
}

// PublicJWK returns the public half as one JWK: kty with crv, x (and y)
// or n and e, then kid, alg and "use": "sig". No private material.
func (k *Key) PublicJWK() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	data, err := json.Marshal(k.publicJWK())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return data, nil
}

func (k *Key) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}
}

// JWKS returns the public halves of keys as a JWK Set document,
// {"keys": [...]}, indented and ending in a newline: what
// [license.ParseKeyring] reads and a product embeds. Keys keep their
// order; a repeated kid is refused.
func JWKS(keys ...*Key) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	seen := map[string]bool{}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, err
		}
		if seen[k.KID] {
			return nil, fmt.Errorf("%w: kid %q appears twice", ErrKey, k.KID)
		}
		seen[k.KID] = true
		set.Keys = append(set.Keys, k.publicJWK())
	}
	data, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return append(data, '\n'), nil
}

// check is the cheap check of a key built elsewhere: present, of the
// type its algorithm needs, and named by its thumbprint.
func (k *Key) check() error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrKey)
	}
	if err := fits(k.Alg, k.Private); err != nil {
		return err
	}
	kid, err := Thumbprint(k.Private.Public())
	if err != nil {
		return err
	}
	if kid != k.KID {
		return fmt.Errorf("%w: kid %q is not the key's thumbprint %q", ErrKey, k.KID, kid)
	}
	return nil
}
