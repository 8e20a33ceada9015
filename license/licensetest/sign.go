package licensetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"

	"github.com/licensekit/licensekit/license"
)

var b64 = base64.RawURLEncoding

// SignRaw returns the compact JWS base64url(header).base64url(payload).sig,
// where sig is the signature of the key with the given kid, made with that
// key's algorithm. header and payload are encoded exactly as given — not
// parsed, checked or reformatted — so a test can sign duplicate members,
// odd whitespace, invalid JSON or a header that names another key or
// algorithm. An empty kid picks the issuer's first key; an unknown kid
// fails the test.
func (i *Issuer) SignRaw(kid string, header, payload []byte) string {
	i.t.Helper()
	k := i.keys[0]
	if kid != "" {
		k = i.key(kid)
	}
	tok, err := signCompact(k, header, payload)
	if err != nil {
		i.fatalf("licensetest: signing with %s key %q: %v", k.Alg, k.KID, err)
	}
	return tok
}

// signCompact assembles and signs a compact JWS without any JOSE library.
func signCompact(k Key, header, payload []byte) (string, error) {
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := signInput(k, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// signInput signs a JWS signing input with the key's algorithm, in the
// JOSE signature format (RFC 7518 §3): ECDSA signatures are r||s, each
// left-padded to the curve size (IEEE P1363), not ASN.1.
func signInput(k Key, input []byte) ([]byte, error) {
	switch k.Alg {
	case license.EdDSA:
		priv, ok := k.Signer.(ed25519.PrivateKey)
		if !ok {
			break
		}
		return ed25519.Sign(priv, input), nil
	case license.ES256, license.ES384:
		priv, ok := k.Signer.(*ecdsa.PrivateKey)
		if !ok {
			break
		}
		var digest []byte
		size := 32
		if k.Alg == license.ES256 {
			h := sha256.Sum256(input)
			digest = h[:]
		} else {
			h := sha512.Sum384(input)
			digest, size = h[:], 48
		}
		if got := (priv.Curve.Params().BitSize + 7) / 8; got != size {
			return nil, fmt.Errorf("%s needs a %d-byte curve, key has %d", k.Alg, size, got)
		}
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig, nil
	case license.RS256, license.PS256:
		priv, ok := k.Signer.(*rsa.PrivateKey)
		if !ok {
			break
		}
		h := sha256.Sum256(input)
		if k.Alg == license.RS256 {
			return rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
		}
		return rsa.SignPSS(rand.Reader, priv, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		return nil, fmt.Errorf("unknown algorithm %q", k.Alg)
	}
	return nil, fmt.Errorf("a %T cannot sign %s", k.Signer, k.Alg)
}
