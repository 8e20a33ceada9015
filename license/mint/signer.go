package mint

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/license"
)

var b64 = base64.RawURLEncoding

// Signer signs licence tokens, leases and key files with one [Key]. It is
// immutable and safe for concurrent use; make one with [NewSigner].
type Signer struct {
	key *Key
	ed  ed25519.PrivateKey // the key when it is Ed25519: the fast path
	iss string
	now func() time.Time

	// Precomputed base64url protected headers, each followed by '.'.
	licenseHeader []byte // {"alg":…,"kid":…,"typ":"JWT"}
	leaseHeader   []byte // {"alg":…,"kid":…,"typ":"lease+jwt"}
}

// Option configures [NewSigner].
type Option func(*signerConfig)

type signerConfig struct {
	iss string
	now func() time.Time
}

// WithIssuer sets the iss claim of licences and leases: the vendor's name,
// which products check with [license.WithIssuer]. Without it the signer
// still signs raw JWS ([Signer.SignCompact]), but [Signer.License] and
// [Signer.Lease] fail with [ErrClaims].
func WithIssuer(iss string) Option { return func(c *signerConfig) { c.iss = iss } }

// WithClock sets the source of the current time (default [time.Now]),
// used for iat when a claim set leaves it zero.
func WithClock(now func() time.Time) Option {
	return func(c *signerConfig) {
		if now != nil {
			c.now = now
		}
	}
}

// NewSigner returns a signer for key. The key is checked as [NewKey]
// checks it — algorithm, strength, matching halves — and its KID must be
// its thumbprint. The signer keeps its own copy of the key.
func NewSigner(key *Key, opts ...Option) (*Signer, error) {
	if err := key.check(); err != nil {
		return nil, err
	}
	if err := checkPrivate(key.Alg, key.Private); err != nil {
		return nil, err
	}
	c := signerConfig{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if !validString(c.iss) {
		return nil, fmt.Errorf("%w: iss is not valid UTF-8", ErrClaims)
	}
	s := &Signer{key: &Key{Alg: key.Alg, KID: key.KID, Private: key.Private}, iss: c.iss, now: c.now}
	s.ed, _ = key.Private.(ed25519.PrivateKey)
	s.licenseHeader = s.header("JWT")
	s.leaseHeader = s.header(license.TypeLease)
	return s, nil
}

// header encodes {"alg":…,"kid":…,"typ":typ} as base64url followed by '.'.
func (s *Signer) header(typ string) []byte {
	h := appendStringMember([]byte{'{'}, "alg", s.key.Alg, true)
	h = appendStringMember(h, "kid", s.key.KID, false)
	h = appendStringMember(h, "typ", typ, false)
	h = append(h, '}')
	return append(b64.AppendEncode(nil, h), '.')
}

// KID returns the kid of the signing key, set in every token's header.
func (s *Signer) KID() string { return s.key.KID }

// Alg returns the algorithm of the signing key.
func (s *Signer) Alg() string { return s.key.Alg }

// Issuer returns the iss claim the signer writes.
func (s *Signer) Issuer() string { return s.iss }

// sign returns header "." base64url(payload) "." base64url(signature),
// where header is a precomputed segment ending in '.'.
func (s *Signer) sign(header, payload []byte) (string, error) {
	sigLen := 64
	if s.ed == nil {
		sigLen = 512 // RSA-4096; larger keys just grow the slice
	}
	buf := make([]byte, 0, len(header)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(sigLen))
	buf = append(buf, header...)
	buf = b64.AppendEncode(buf, payload)
	var sig []byte
	if s.ed != nil {
		sig = ed25519.Sign(s.ed, buf)
	} else {
		var err error
		if sig, err = s.key.SignInput(buf); err != nil {
			return "", err
		}
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// SignCompact signs payload, exactly as given, under a protected header of
// the given members plus alg and kid of the signing key, encoded with
// encoding/json (members in sorted order). It is the lower level for tests
// and future formats: the caller vouches for payload. A header that names
// another alg or kid, or a value encoding/json cannot encode, is refused
// with [ErrHeader].
func (s *Signer) SignCompact(header map[string]any, payload []byte) (string, error) {
	h := make(map[string]any, len(header)+2)
	for name, v := range header {
		h[name] = v
	}
	for name, want := range map[string]string{"alg": s.key.Alg, "kid": s.key.KID} {
		if v, ok := h[name]; ok {
			if got, isString := v.(string); !isString || got != want {
				return "", fmt.Errorf("%w: %s %v is not the signing key's %q", ErrHeader, name, v, want)
			}
		}
		h[name] = want
	}
	data, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrHeader, err)
	}
	return s.sign(append(b64.AppendEncode(nil, data), '.'), payload)
}
