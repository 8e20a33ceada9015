package license

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"math/big"
	"strconv"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// Token kinds, told apart by the typ header.
type tokenKind uint8

const (
	typLicense tokenKind = iota // typ "JWT" or absent
	typLease                    // typ "lease+jwt", required
	typKeyset                   // typ "keyset+jwt", required
)

// TypeLease is the typ header of a lease token.
const TypeLease = "lease+jwt"

// TypeKeyset is the typ header of a keyset statement.
const TypeKeyset = "keyset+jwt"

var b64 = base64.RawURLEncoding.Strict()

// verifySignature checks everything up to and including the signature and
// returns the decoded claims. Nothing in the token is trusted before the
// signature verifies except to pick the key.
func (v *Verifier) verifySignature(token string, kind tokenKind) (string, error) {
	if len(token) > MaxTokenSize {
		return "", fail(ErrMalformed, "token larger than 16 KiB")
	}
	dot1, dot2, ok := splitCompact(token)
	if !ok {
		return "", fail(ErrMalformed, "not a compact JWS (three base64url segments)")
	}
	raw := []byte(token)
	// One buffer for the three decoded parts.
	hLen, pLen, sLen := b64.DecodedLen(dot1), b64.DecodedLen(dot2-dot1-1), b64.DecodedLen(len(token)-dot2-1)
	buf := make([]byte, hLen+pLen+sLen)
	header, err := decodeSegment(buf[:hLen], raw[:dot1])
	if err != nil {
		return "", err
	}
	payload, err := decodeSegment(buf[hLen:hLen+pLen], raw[dot1+1:dot2])
	if err != nil {
		return "", err
	}
	sig, err := decodeSegment(buf[hLen+pLen:], raw[dot2+1:])
	if err != nil {
		return "", err
	}
	alg, kid, typ, hasKid, err := parseHeader(header)
	if err != nil {
		return "", err
	}
	switch kind {
	case typLicense:
		if typ != "" && !asciiEqualFold(typ, "JWT") {
			return "", fail(ErrMalformed, "typ "+quote(typ)+" is not a licence token")
		}
	case typLease:
		if !asciiEqualFold(typ, TypeLease) {
			return "", fail(ErrMalformed, "typ "+quote(typ)+" is not a lease")
		}
	case typKeyset:
		if !asciiEqualFold(typ, TypeKeyset) {
			return "", fail(ErrMalformed, "typ "+quote(typ)+" is not a keyset statement")
		}
	}
	if !knownAlg(alg) {
		return "", fail(ErrAlgorithm, "alg "+quote(alg)+" is not allowed")
	}
	key, err := v.lookup(kid, hasKid)
	if err != nil {
		return "", err
	}
	if alg != key.alg {
		return "", fail(ErrAlgorithm, "alg "+quote(alg)+" does not match key "+quote(key.kid)+" ("+key.alg+")")
	}
	if !key.verify(raw[:dot2], sig) {
		return "", fail(ErrSignature, "signature does not verify with key "+quote(key.kid))
	}
	return string(payload), nil
}

// b64url marks the bytes of the base64url alphabet.
var b64url = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

// splitCompact checks the strict shape ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$
// and returns the positions of the two dots.
func splitCompact(token string) (dot1, dot2 int, ok bool) {
	dot1, dot2 = -1, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		if b64url[c] {
			continue
		}
		if c != '.' || dot2 >= 0 {
			return 0, 0, false
		}
		if dot1 < 0 {
			dot1 = i
		} else {
			dot2 = i
		}
	}
	// Three non-empty segments.
	if dot1 < 1 || dot2 < dot1+2 || dot2 == len(token)-1 {
		return 0, 0, false
	}
	return dot1, dot2, true
}

// decodeSegment decodes canonical base64url: strict decoding refuses
// non-zero trailing bits, so re-encoding gives the same text.
func decodeSegment(dst, seg []byte) ([]byte, error) {
	n, err := b64.Decode(dst, seg)
	if err != nil {
		return nil, fail(ErrMalformed, "segment is not canonical base64url")
	}
	return dst[:n], nil
}

// parseHeader reads the protected header. Only alg, kid and typ may appear;
// anything else (jwk, jku, x5u, x5c, zip, crit, b64, …) is refused, never
// followed.
func parseHeader(h []byte) (alg, kid, typ string, hasKid bool, err error) {
	r := strictjson.NewReader(h)
	var hasAlg bool
	err = r.Object(func(name string) error {
		var e error
		switch name {
		case "alg":
			alg, e = r.String()
			hasAlg = true
		case "kid":
			kid, e = r.String()
			hasKid = true
		case "typ":
			typ, e = r.String()
		default:
			return fail(ErrMalformed, "forbidden header member "+quote(name))
		}
		if e == strictjson.ErrType {
			return fail(ErrMalformed, "header member "+name+" must be a string")
		}
		return e
	})
	if err == nil {
		err = r.End()
	}
	if err != nil {
		if _, ok := err.(*wrapped); ok {
			return "", "", "", false, err
		}
		return "", "", "", false, fail(ErrMalformed, "header: "+err.Error())
	}
	if !hasAlg {
		return "", "", "", false, fail(ErrMalformed, "header has no alg")
	}
	return alg, kid, typ, hasKid, nil
}

func knownAlg(alg string) bool {
	switch alg {
	case EdDSA, ES256, ES384, RS256, PS256:
		return true
	}
	return false
}

// lookup finds the key a token names. The kid is only a map key: it is
// never a path, URL or query.
func (v *Verifier) lookup(kid string, hasKid bool) (*pubKey, error) {
	if v.keys == nil || len(v.keys.keys) == 0 {
		return nil, fail(ErrUnknownKey, "empty keyring")
	}
	if !hasKid {
		if len(v.keys.keys) == 1 {
			return v.keys.keys[0], nil
		}
		return nil, fail(ErrUnknownKey, "kid required: the keyring holds several keys")
	}
	if k := v.keys.byKid[kid]; k != nil {
		return k, nil
	}
	return nil, fail(ErrUnknownKey, "kid "+quote(kid)+" is not in the keyring")
}

// verify checks sig over the signing input with the key's pinned algorithm.
func (k *pubKey) verify(signingInput, sig []byte) bool {
	switch k.alg {
	case EdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, signingInput, sig)
	case ES256:
		h := sha256.Sum256(signingInput)
		return verifyECDSA(k.ec, h[:], sig, 32)
	case ES384:
		h := sha512.Sum384(signingInput)
		return verifyECDSA(k.ec, h[:], sig, 48)
	case RS256:
		h := sha256.Sum256(signingInput)
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, h[:], sig) == nil
	case PS256:
		h := sha256.Sum256(signingInput)
		return rsa.VerifyPSS(k.rsa, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	}
	return false
}

// verifyECDSA checks a JOSE (IEEE P1363) signature: r||s, each exactly
// size bytes. ecdsa.Verify refuses r or s of zero or not below the order.
func verifyECDSA(pub *ecdsa.PublicKey, hash, sig []byte, size int) bool {
	if len(sig) != 2*size {
		return false
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(pub, hash, r, s)
}

// asciiEqualFold is strings.EqualFold restricted to ASCII: media types
// are case-insensitive ASCII, and Unicode folding would let "leaſe+jwt"
// pass for a lease.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// quote shortens and quotes untrusted text for an error message.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
