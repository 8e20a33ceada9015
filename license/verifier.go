package license

import "time"

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = 60 * time.Second

// MaxTokenSize is the largest token, in bytes, a verifier looks at.
const MaxTokenSize = 16 << 10

// Verifier checks licence tokens and leases offline against a [Keyring].
// It is immutable and safe for concurrent use; build it with [NewVerifier].
type Verifier struct {
	keys     *Keyring
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	machine  func(recorded string) bool
}

// Option configures a [Verifier].
type Option func(*Verifier)

// WithIssuer requires the iss claim to equal issuer.
func WithIssuer(issuer string) Option { return func(v *Verifier) { v.issuer = issuer } }

// WithAudience requires the aud claim to contain audience.
func WithAudience(audience string) Option { return func(v *Verifier) { v.audience = audience } }

// WithLeeway sets the tolerated clock skew (default [DefaultLeeway]).
// Negative values count as zero.
func WithLeeway(d time.Duration) Option {
	return func(v *Verifier) { v.leeway = max(d, 0) }
}

// WithClock sets the source of the current time (default [time.Now]).
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithFingerprint makes tokens bound to a machine (a non-empty fpr claim)
// verify only when match(fpr) is true; pass the Matches method of this
// machine's fingerprint. Without it, fpr is reported but not checked.
func WithFingerprint(match func(recorded string) bool) Option {
	return func(v *Verifier) { v.machine = match }
}

// NewVerifier returns a verifier for tokens signed by keys. A nil keyring
// verifies nothing: every token fails with [ErrUnknownKey].
func NewVerifier(keys *Keyring, opts ...Option) *Verifier {
	v := &Verifier{keys: keys, leeway: DefaultLeeway, now: time.Now}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Verify checks a licence token and returns its licence. In order it
// checks: size and compact shape; canonical base64url; the header (only
// alg, kid and typ, typ "JWT" or absent); the key named by kid and the
// algorithm that key is pinned to; the signature; the claims (required,
// typed, no duplicates, sane dates); issuer and audience when configured;
// time with leeway; and the fingerprint binding when configured. Every
// error wraps exactly one sentinel of this package.
func (v *Verifier) Verify(token string) (*License, error) {
	payload, err := v.verifySignature(token, typLicense)
	if err != nil {
		return nil, err
	}
	lic := &License{}
	if err := parseLicenseClaims(payload, lic); err != nil {
		return nil, err
	}
	if v.issuer != "" && lic.Issuer != v.issuer {
		return nil, fail(ErrClaims, "issuer mismatch")
	}
	if v.audience != "" && !contains(lic.Audience, v.audience) {
		return nil, fail(ErrClaims, "audience mismatch")
	}
	now := v.now()
	if now.After(lic.ExpiresAt.Add(v.leeway)) {
		return nil, fail(ErrExpired, "expired at "+lic.ExpiresAt.Format(time.RFC3339))
	}
	if !lic.NotBefore.IsZero() && now.Before(lic.NotBefore.Add(-v.leeway)) {
		return nil, fail(ErrNotYetValid, "not valid before "+lic.NotBefore.Format(time.RFC3339))
	}
	if now.Before(lic.IssuedAt.Add(-v.leeway)) {
		return nil, fail(ErrNotYetValid, "issued in the future ("+lic.IssuedAt.Format(time.RFC3339)+")")
	}
	if lic.Fingerprint != "" && v.machine != nil && !v.machine(lic.Fingerprint) {
		return nil, fail(ErrFingerprint, "licence "+lic.ID+" is bound to another machine")
	}
	return lic, nil
}

// VerifyLease checks a lease token (typ "lease+jwt") with the same
// keys and shape rules as [Verifier.Verify], and returns the lease. It
// checks signature, claims, issuer and — when configured with
// [WithFingerprint] — the machine binding, but not time: whether a lease is
// still good depends on the grace window and the clock's high-water mark,
// which the caller (package grace) judges. A licence token is never
// accepted as a lease, nor a lease as a licence token.
func (v *Verifier) VerifyLease(token string) (*Lease, error) {
	payload, err := v.verifySignature(token, typLease)
	if err != nil {
		return nil, err
	}
	l := &Lease{}
	if err := parseLeaseClaims(payload, l); err != nil {
		return nil, err
	}
	if v.issuer != "" && l.Issuer != v.issuer {
		return nil, fail(ErrClaims, "issuer mismatch")
	}
	if v.machine != nil && !v.machine(l.Fingerprint) {
		return nil, fail(ErrFingerprint, "lease "+l.ID+" was issued to another machine")
	}
	return l, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
