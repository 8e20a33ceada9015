package license

import (
	"strconv"
	"time"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// MaxLearntKeys is how many keys a [Manager] learns from keyset
// statements, on top of the keys it was built with. A statement that
// would take it past this is refused whole ([ErrKeyset]).
const MaxLearntKeys = 16

// maxKeysetKeys bounds the keys one statement may list.
const maxKeysetKeys = 32

// Keyset is a verified keyset statement: the vendor's word, signed by a
// key the verifier already trusted, that these are the signing keys it
// publishes. See [Verifier.VerifyKeyset].
type Keyset struct {
	Issuer   string    // iss
	ID       string    // jti
	IssuedAt time.Time // iat
	// KeyIDs are the kids of the listed keys, each its key's RFC 7638
	// thumbprint, in the order listed.
	KeyIDs []string

	keys []*pubKey
}

// VerifyKeyset checks a keyset statement: a compact JWS with typ
// "keyset+jwt", signed by a key of this verifier's keyring, whose claims
// are iss (equal to the verifier's issuer when one is set), iat, jti and
// keys — 1 to 32 public JWKs, each of an allowed algorithm and with a kid
// that is its RFC 7638 thumbprint, none repeated. It does not judge
// whether the statement is newer than another; a [Manager] does. Errors
// wrap [ErrMalformed], [ErrUnknownKey], [ErrSignature], [ErrAlgorithm],
// [ErrClaims] or [ErrKeyset]. A licence token or a lease is never
// accepted as a statement, nor a statement as either.
func (v *Verifier) VerifyKeyset(token string) (*Keyset, error) {
	payload, err := v.verifySignature(token, typKeyset)
	if err != nil {
		return nil, err
	}
	ks, err := parseKeysetClaims(payload)
	if err != nil {
		return nil, err
	}
	if v.issuer != "" && ks.Issuer != v.issuer {
		return nil, fail(ErrClaims, "keyset issuer mismatch")
	}
	return ks, nil
}

// parseKeysetClaims reads the claims of a keyset statement strictly.
func parseKeysetClaims(payload string) (*Keyset, error) {
	var (
		c    registered
		raws []string
		seen bool
	)
	err := parseClaims(payload, &c, func(r *strictjson.Reader, name string) error {
		if name != "keys" {
			return r.Skip()
		}
		seen = true
		if r.Peek() != strictjson.Array {
			return fail(ErrClaims, "keys must be an array of JWKs")
		}
		return r.Array(func() error {
			if r.Peek() != strictjson.Object {
				return fail(ErrClaims, "keys must be an array of JWKs")
			}
			raw, err := r.Raw()
			raws = append(raws, raw)
			if len(raws) > maxKeysetKeys {
				return fail(ErrClaims, "a keyset statement lists at most "+strconv.Itoa(maxKeysetKeys)+" keys")
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if err := missing(c.have, hasIss|hasJti|hasIat); err != nil {
		return nil, err
	}
	if !seen || len(raws) == 0 {
		return nil, fail(ErrClaims, "keyset lists no keys")
	}
	doc := `{"keys":[`
	for i, raw := range raws {
		if i > 0 {
			doc += ","
		}
		doc += raw
	}
	keys, err := parseJWKS([]byte(doc + "]}"))
	if err != nil {
		return nil, fail(ErrKeyset, err.Error())
	}
	ks := &Keyset{Issuer: c.iss, ID: c.jti, IssuedAt: c.iat, keys: keys}
	for i, k := range keys {
		tp, err := thumbprint(k.public())
		if err != nil || tp != k.kid {
			return nil, fail(ErrKeyset, "key "+strconv.Itoa(i)+": kid "+quote(k.kid)+" is not the key's thumbprint")
		}
		for _, prev := range keys[:i] {
			if prev.kid == k.kid {
				return nil, fail(ErrKeyset, "kid "+quote(k.kid)+" is listed twice")
			}
		}
		ks.KeyIDs = append(ks.KeyIDs, k.kid)
	}
	return ks, nil
}

// grow returns a keyring of k's keys followed by the keys of ks that k
// lacks, and how many were added. A listed key whose kid names another
// key of k is refused ([ErrKeyset]); a key k holds under another kid is
// not added again.
func (k *Keyring) grow(ks *Keyset) (*Keyring, int, error) {
	out := &Keyring{keys: append([]*pubKey(nil), k.keys...), byKid: make(map[string]*pubKey, len(k.keys)+len(ks.keys))}
	for kid, p := range k.byKid {
		out.byKid[kid] = p
	}
	added := 0
next:
	for _, nk := range ks.keys {
		if have := out.byKid[nk.kid]; have != nil {
			if !have.equal(nk) || have.alg != nk.alg {
				return nil, 0, fail(ErrKeyset, "kid "+quote(nk.kid)+" names another key than the one trusted")
			}
			continue
		}
		for _, have := range out.keys {
			if have.equal(nk) {
				continue next
			}
		}
		out.keys = append(out.keys, nk)
		out.byKid[nk.kid] = nk
		added++
	}
	return out, added, nil
}
