package mint

import (
	"crypto/rand"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/license"
)

// LeaseIDPrefix starts the random jti of a lease signed without an ID.
const LeaseIDPrefix = "lse_"

// Lease holds the claims of a lease: the control plane's signed word that a
// licence may run on one machine until ExpiresAt.
type Lease struct {
	ID          string    // jti of the lease; empty means LeaseIDPrefix and 24 random hex digits
	LicenseID   string    // sub: the licence's jti; required
	Fingerprint string    // fpr: the machine; required
	Status      string    // license.LeaseActive, LeaseSuspended or LeaseRevoked; required
	IssuedAt    time.Time // iat: server time; zero means the signer's clock now
	ExpiresAt   time.Time // exp: iat + the grace window; required, after IssuedAt
	Offline     bool      // "offline": true for an air-gapped activation's lease; omitted when false
	Nonce       string    // "nonce": the request's nonce this lease answers; omitted when empty
}

// Lease returns a lease token for l: a compact JWS with the header
// {"alg", "kid", "typ": "lease+jwt"} and the claims iss, sub, jti, fpr,
// status, iat, exp and, when set, offline and nonce. Missing or invalid claims, and a
// signer without an issuer, are refused with an error wrapping [ErrClaims].
//
// This is the control plane's hot path: the header is encoded once per
// signer and the claims are appended without reflection, so that the
// signature is nearly all of the cost.
func (s *Signer) Lease(l Lease) (string, error) {
	var scratch [320]byte
	payload, err := s.leasePayload(scratch[:0], &l)
	if err != nil {
		return "", err
	}
	return s.sign(s.leaseHeader, payload)
}

func (s *Signer) leasePayload(p []byte, l *Lease) ([]byte, error) {
	switch {
	case s.iss == "":
		return nil, fmt.Errorf("%w: the signer has no issuer (WithIssuer)", ErrClaims)
	case l.LicenseID == "":
		return nil, fmt.Errorf("%w: lease sub (the licence id) is required", ErrClaims)
	case l.Fingerprint == "":
		return nil, fmt.Errorf("%w: lease fpr is required", ErrClaims)
	case l.ExpiresAt.IsZero():
		return nil, fmt.Errorf("%w: lease exp is required", ErrClaims)
	case !utf8.ValidString(l.ID) || !utf8.ValidString(l.LicenseID) || !utf8.ValidString(l.Fingerprint) || !utf8.ValidString(l.Nonce):
		return nil, fmt.Errorf("%w: a lease claim is not valid UTF-8", ErrClaims)
	}
	switch l.Status {
	case license.LeaseActive, license.LeaseSuspended, license.LeaseRevoked:
	default:
		return nil, fmt.Errorf("%w: lease status %q is not active, suspended or revoked", ErrClaims, l.Status)
	}
	iat := l.IssuedAt
	if iat.IsZero() {
		iat = s.now()
	}
	iatS, expS := iat.Unix(), l.ExpiresAt.Unix()
	if err := checkDate("iat", iatS); err != nil {
		return nil, err
	}
	if err := checkDate("exp", expS); err != nil {
		return nil, err
	}
	if expS <= iatS {
		return nil, fmt.Errorf("%w: lease exp must be after iat", ErrClaims)
	}

	p = appendStringMember(append(p, '{'), "iss", s.iss, true)
	p = appendStringMember(p, "sub", l.LicenseID, false)
	if l.ID != "" {
		p = appendStringMember(p, "jti", l.ID, false)
	} else {
		p = appendRandomID(appendMember(p, "jti", false), LeaseIDPrefix)
	}
	p = appendStringMember(p, "fpr", l.Fingerprint, false)
	p = appendStringMember(p, "status", l.Status, false)
	p = appendIntMember(p, "iat", iatS)
	p = appendIntMember(p, "exp", expS)
	if l.Offline {
		p = append(appendMember(p, "offline", false), "true"...)
	}
	if l.Nonce != "" {
		p = appendStringMember(p, "nonce", l.Nonce, false)
	}
	return append(p, '}'), nil
}

// appendRandomID appends a JSON string: prefix and 24 random hex digits.
func appendRandomID(dst []byte, prefix string) []byte {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	dst = append(append(dst, '"'), prefix...)
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return append(dst, '"')
}

// NewID returns prefix followed by 24 random hex digits (96 bits from
// crypto/rand), the form of licence ("lic_") and lease ("lse_") ids.
func NewID(prefix string) string {
	id := appendRandomID(nil, prefix)
	return string(id[1 : len(id)-1])
}
