package mint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"math/big"

	"github.com/licensekit/licensekit/license"
)

var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}

// SignInput signs a JWS signing input (base64url(header) "." base64url(payload),
// or any bytes) with the key's algorithm and returns the signature in the
// JOSE format (RFC 7518, section 3): Ed25519's 64 bytes, ECDSA's r||s with
// each half left-padded to the curve size (not ASN.1), or the RSA
// signature. It is the low-level primitive under [Signer]; it checks that
// the key fits its algorithm but, unlike [NewKey], not its strength, so a
// test can sign with a deliberately weak key.
func (k *Key) SignInput(input []byte) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: nil key", ErrKey)
	}
	if err := fits(k.Alg, k.Private); err != nil {
		return nil, err
	}
	switch priv := k.Private.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, input), nil
	case *ecdsa.PrivateKey:
		var digest []byte
		size := 32
		if k.Alg == license.ES256 {
			h := sha256.Sum256(input)
			digest = h[:]
		} else {
			h := sha512.Sum384(input)
			digest, size = h[:], 48
		}
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			return nil, fmt.Errorf("%w: %s signature: %v", ErrKey, k.Alg, err)
		}
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig, nil
	case *rsa.PrivateKey:
		h := sha256.Sum256(input)
		var (
			sig []byte
			err error
		)
		if k.Alg == license.RS256 {
			sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
		} else {
			sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, h[:], pssOptions)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s signature: %v", ErrKey, k.Alg, err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("%w: unsupported key type %T", ErrKey, k.Private)
}

// verify checks a JOSE signature; used to check that a key's halves match.
func verify(alg string, pub crypto.PublicKey, input, sig []byte) bool {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(p, input, sig)
	case *ecdsa.PublicKey:
		size, digest := 32, []byte(nil)
		if alg == license.ES256 {
			h := sha256.Sum256(input)
			digest = h[:]
		} else {
			h := sha512.Sum384(input)
			digest, size = h[:], 48
		}
		if len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(p, digest, r, s)
	case *rsa.PublicKey:
		h := sha256.Sum256(input)
		if alg == license.RS256 {
			return rsa.VerifyPKCS1v15(p, crypto.SHA256, h[:], sig) == nil
		}
		return rsa.VerifyPSS(p, crypto.SHA256, h[:], sig, pssOptions) == nil
	}
	return false
}
