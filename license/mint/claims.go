package mint

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/license"
)

// maxNumericDate is 9999-01-01T00:00:00Z; verifiers refuse dates at or
// after it.
const maxNumericDate = 253370764800

// Claims are the claims of a licence token. Required: ID, Subject,
// Audience, TenantID and ExpiresAt (and the signer's issuer). Optional
// fields are left out of the token when empty. Times are written in whole
// seconds.
type Claims struct {
	ID            string            // jti: the licence id, e.g. "lic_…"; required, shared by both slots of a key file
	Subject       string            // sub: the subscription id; required
	Audience      []string          // aud: the licence holder(s); required, non-empty, written as a JSON array
	TenantID      string            // tid; required
	TenantCountry string            // tenant_ctry: ISO 3166-1 alpha-2, upper case; optional
	Plan          string            // plan: license.PlanMonthly, PlanYearly, PlanCommunity or PlanCustom; optional
	Slot          string            // slot: license.SlotPrimary or SlotSecondary; optional
	Capabilities  []string          // capabilities; optional
	Metadata      map[string]string // metadata, written with sorted keys; optional
	Fingerprint   string            // fpr: the machine the licence is bound to; optional
	IssuedAt      time.Time         // iat; zero means the signer's clock now
	NotBefore     time.Time         // nbf; optional, not after ExpiresAt
	ExpiresAt     time.Time         // exp; required, after IssuedAt
}

// License returns a licence token for c: a compact JWS with the header
// {"alg", "kid", "typ": "JWT"}. It refuses, with an error wrapping
// [ErrClaims], claims a verifier would refuse: a missing required claim,
// an empty audience entry, a plan, slot or country outside their sets,
// exp not after iat, nbf after exp, dates outside 1970–9999, text that is
// not valid UTF-8, or a signer without an issuer.
func (s *Signer) License(c Claims) (string, error) {
	payload, err := s.licensePayload(&c)
	if err != nil {
		return "", err
	}
	return s.sign(s.licenseHeader, payload)
}

func (s *Signer) licensePayload(c *Claims) ([]byte, error) {
	if s.iss == "" {
		return nil, fmt.Errorf("%w: the signer has no issuer (WithIssuer)", ErrClaims)
	}
	for _, req := range [...]struct{ name, v string }{{"jti", c.ID}, {"sub", c.Subject}, {"tid", c.TenantID}} {
		if req.v == "" {
			return nil, fmt.Errorf("%w: %s is required", ErrClaims, req.name)
		}
	}
	if len(c.Audience) == 0 || slices.Contains(c.Audience, "") {
		return nil, fmt.Errorf("%w: aud is required and its entries must not be empty", ErrClaims)
	}
	if c.TenantCountry != "" && !validCountry(c.TenantCountry) {
		return nil, fmt.Errorf("%w: tenant_ctry %q is not an ISO 3166-1 alpha-2 code", ErrClaims, c.TenantCountry)
	}
	switch c.Plan {
	case "", license.PlanMonthly, license.PlanYearly, license.PlanCommunity, license.PlanCustom:
	default:
		return nil, fmt.Errorf("%w: plan %q is not monthly, yearly, community or custom", ErrClaims, c.Plan)
	}
	switch c.Slot {
	case "", license.SlotPrimary, license.SlotSecondary:
	default:
		return nil, fmt.Errorf("%w: slot %q is not primary or secondary", ErrClaims, c.Slot)
	}
	if !validText(c) {
		return nil, fmt.Errorf("%w: a claim is not valid UTF-8", ErrClaims)
	}
	if c.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("%w: exp is required", ErrClaims)
	}
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = s.now()
	}
	iatS, expS := iat.Unix(), c.ExpiresAt.Unix()
	nbfS := int64(-1)
	if !c.NotBefore.IsZero() {
		nbfS = c.NotBefore.Unix()
		if err := checkDate("nbf", nbfS); err != nil {
			return nil, err
		}
		if nbfS > expS {
			return nil, fmt.Errorf("%w: nbf is after exp", ErrClaims)
		}
	}
	if err := checkDate("iat", iatS); err != nil {
		return nil, err
	}
	if err := checkDate("exp", expS); err != nil {
		return nil, err
	}
	if expS <= iatS {
		return nil, fmt.Errorf("%w: exp must be after iat", ErrClaims)
	}

	p := make([]byte, 0, 256)
	p = appendStringMember(append(p, '{'), "iss", s.iss, true)
	p = appendStringMember(p, "sub", c.Subject, false)
	p = appendStrings(appendMember(p, "aud", false), c.Audience)
	p = appendStringMember(p, "jti", c.ID, false)
	p = appendStringMember(p, "tid", c.TenantID, false)
	for _, opt := range [...]struct{ name, v string }{{"tenant_ctry", c.TenantCountry}, {"plan", c.Plan}, {"slot", c.Slot}} {
		if opt.v != "" {
			p = appendStringMember(p, opt.name, opt.v, false)
		}
	}
	if len(c.Capabilities) > 0 {
		p = appendStrings(appendMember(p, "capabilities", false), c.Capabilities)
	}
	if len(c.Metadata) > 0 {
		p = append(appendMember(p, "metadata", false), '{')
		for i, k := range slices.Sorted(maps.Keys(c.Metadata)) {
			if i > 0 {
				p = append(p, ',')
			}
			p = append(appendString(p, k), ':')
			p = appendString(p, c.Metadata[k])
		}
		p = append(p, '}')
	}
	if c.Fingerprint != "" {
		p = appendStringMember(p, "fpr", c.Fingerprint, false)
	}
	p = appendIntMember(p, "iat", iatS)
	if nbfS >= 0 {
		p = appendIntMember(p, "nbf", nbfS)
	}
	p = appendIntMember(p, "exp", expS)
	return append(p, '}'), nil
}

func checkDate(name string, v int64) error {
	if v < 0 || v >= maxNumericDate {
		return fmt.Errorf("%w: %s is outside 1970–9999", ErrClaims, name)
	}
	return nil
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

func validString(s string) bool { return utf8.ValidString(s) }

// validText reports whether every string of c is valid UTF-8, so that the
// token carries exactly the text given.
func validText(c *Claims) bool {
	for _, s := range [...]string{c.ID, c.Subject, c.TenantID, c.Fingerprint} {
		if !validString(s) {
			return false
		}
	}
	for _, list := range [...][]string{c.Audience, c.Capabilities} {
		for _, s := range list {
			if !validString(s) {
				return false
			}
		}
	}
	for k, v := range c.Metadata {
		if !validString(k) || !validString(v) {
			return false
		}
	}
	return true
}
