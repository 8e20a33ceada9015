package mint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// TypeKeyset is the typ header of a keyset statement.
const TypeKeyset = "keyset+jwt"

// KeysetIDPrefix starts the random jti of a keyset statement signed
// without an ID.
const KeysetIDPrefix = "ks_"

// MaxKeysetKeys bounds how many keys one statement lists.
const MaxKeysetKeys = 16

// Keyset holds the claims of a keyset statement: the vendor's signed word,
// under a key the products already trust, that these are the keys it
// publishes. A product adds the listed keys to the ones it trusts, so a
// new signing key reaches products built before it existed.
type Keyset struct {
	ID       string    // jti; empty means KeysetIDPrefix and 24 random hex digits
	IssuedAt time.Time // iat; zero means the signer's clock now. Products accept only a later iat than the last statement they took.
	Keys     [][]byte  // one public JWK each, with kid (its thumbprint) and alg; 1 to MaxKeysetKeys
}

// Keyset returns a keyset statement for k: a compact JWS with the header
// {"alg", "kid", "typ": "keyset+jwt"} and the claims iss, iat, jti and
// keys, the public JWKs as given (compacted). Every JWK must be a public
// signing key of an allowed algorithm that names its alg, whose kid is
// its RFC 7638 thumbprint, listed once; otherwise the error wraps
// [ErrKey] or [ErrAlgorithm]. A signer without an issuer, or claims out of
// range, wrap [ErrClaims].
func (s *Signer) Keyset(k Keyset) (string, error) {
	if s.iss == "" {
		return "", fmt.Errorf("%w: the signer has no issuer (WithIssuer)", ErrClaims)
	}
	if len(k.Keys) == 0 || len(k.Keys) > MaxKeysetKeys {
		return "", fmt.Errorf("%w: a keyset lists 1 to %d keys, not %d", ErrClaims, MaxKeysetKeys, len(k.Keys))
	}
	if !utf8.ValidString(k.ID) {
		return "", fmt.Errorf("%w: jti is not valid UTF-8", ErrClaims)
	}
	iat := k.IssuedAt
	if iat.IsZero() {
		iat = s.now()
	}
	if err := checkDate("iat", iat.Unix()); err != nil {
		return "", err
	}
	p := appendStringMember([]byte{'{'}, "iss", s.iss, true)
	p = appendIntMember(p, "iat", iat.Unix())
	if k.ID != "" {
		p = appendStringMember(p, "jti", k.ID, false)
	} else {
		p = appendRandomID(appendMember(p, "jti", false), KeysetIDPrefix)
	}
	p = append(appendMember(p, "keys", false), '[')
	seen := map[string]bool{}
	for i, raw := range k.Keys {
		kid, err := checkPublicJWK(raw)
		if err != nil {
			return "", fmt.Errorf("keyset key %d: %w", i, err)
		}
		if seen[kid] {
			return "", fmt.Errorf("%w: keyset lists kid %q twice", ErrKey, kid)
		}
		seen[kid] = true
		if i > 0 {
			p = append(p, ',')
		}
		var c bytes.Buffer
		_ = json.Compact(&c, raw) // checkPublicJWK parsed it
		p = append(p, c.Bytes()...)
	}
	p = append(p, ']', '}')
	return s.sign(s.header(TypeKeyset), p)
}

// checkPublicJWK checks one public JWK of a keyset and returns its kid.
func checkPublicJWK(raw []byte) (string, error) {
	if len(raw) > MaxJWKSize {
		return "", fmt.Errorf("%w: JWK larger than %d bytes", ErrKey, MaxJWKSize)
	}
	if err := checkMembers(raw); err != nil {
		return "", fmt.Errorf("%w: %v", ErrKey, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return "", fmt.Errorf("%w: %v", ErrKey, err)
	}
	if !jwk.IsPublic() {
		return "", fmt.Errorf("%w: a keyset lists public keys only", ErrKey)
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return "", fmt.Errorf("%w: use %q, want \"sig\"", ErrKey, jwk.Use)
	}
	if !knownAlg(jwk.Algorithm) {
		return "", unknownAlg(jwk.Algorithm)
	}
	tp, err := Thumbprint(jwk.Key)
	if err != nil {
		return "", err
	}
	if jwk.KeyID != tp {
		return "", fmt.Errorf("%w: kid %q is not the key's thumbprint %q", ErrKey, jwk.KeyID, tp)
	}
	return tp, nil
}
