package license

import (
	"time"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// maxNumericDate is 9999-01-01T00:00:00Z: dates at or after it are refused.
const maxNumericDate = 253370764800

// claimError reports why a claim was refused; it maps to ErrClaims, or to
// ErrMalformed when the JSON itself is invalid.
func claimsFail(err error, detail string) error {
	if err == strictjson.ErrType || err == nil {
		return fail(ErrClaims, detail)
	}
	return fail(ErrMalformed, "claims: "+err.Error())
}

// readDate reads a NumericDate: a JSON integer in [0, year 9999).
func readDate(r *strictjson.Reader, name string) (time.Time, error) {
	v, err := r.Int()
	if err != nil {
		return time.Time{}, claimsFail(err, name+" must be an integer NumericDate")
	}
	if v < 0 || v >= maxNumericDate {
		return time.Time{}, fail(ErrClaims, name+" is out of range")
	}
	return time.Unix(v, 0).UTC(), nil
}

func readString(r *strictjson.Reader, name string) (string, error) {
	s, err := r.String()
	if err != nil {
		return "", claimsFail(err, name+" must be a string")
	}
	return s, nil
}

// readBool reads a JSON true or false.
func readBool(r *strictjson.Reader, name string) (bool, error) {
	if r.Peek() != strictjson.Bool {
		return false, fail(ErrClaims, "claim "+name+" must be true or false")
	}
	v, err := r.Raw()
	return v == "true", err
}

// readStrings reads either a string or an array of strings (the aud form).
func readStrings(r *strictjson.Reader, name string, allowSingle bool) ([]string, error) {
	if allowSingle && r.Peek() == strictjson.String {
		s, err := readString(r, name)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	out := []string{}
	err := r.Array(func() error {
		s, err := r.String()
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, claimsFail(err, name+" must be an array of strings")
	}
	return out, nil
}

func readMetadata(r *strictjson.Reader) (map[string]string, error) {
	m := map[string]string{}
	err := r.Object(func(name string) error {
		v, err := r.String()
		if err != nil {
			return err
		}
		m[name] = v
		return nil
	})
	if err != nil {
		return nil, claimsFail(err, "metadata must be an object of strings")
	}
	return m, nil
}

// skipNull consumes a JSON null and reports whether there was one. Optional
// claims that are null count as absent.
func skipNull(r *strictjson.Reader) bool {
	if r.Peek() == strictjson.Null {
		return r.Skip() == nil
	}
	return false
}

// Claim-presence bits.
const (
	hasIss = 1 << iota
	hasSub
	hasAud
	hasJti
	hasIat
	hasExp
	hasTid
	requiredLicense = hasIss | hasSub | hasAud | hasJti | hasIat | hasExp | hasTid
	requiredLease   = hasIss | hasSub | hasJti | hasIat | hasExp
)

var requiredNames = [...]string{"iss", "sub", "aud", "jti", "iat", "exp", "tid"}

func missing(have, want int) error {
	for i, n := range requiredNames {
		if want&(1<<i) != 0 && have&(1<<i) == 0 {
			return fail(ErrClaims, "required claim "+n+" is missing or empty")
		}
	}
	return nil
}

// wellFormed checks the whole claims document before any claim is typed,
// so that broken JSON is ErrMalformed wherever it stands, and only valid
// JSON of the wrong shape is ErrClaims.
func wellFormed(payload string) error {
	r := strictjson.NewStringReader(payload)
	if err := r.Skip(); err != nil {
		return asClaimsError(err)
	}
	if err := r.End(); err != nil {
		return asClaimsError(err)
	}
	return nil
}

// registered holds the claims licences and leases share.
type registered struct {
	iss, sub, jti string
	iat, exp      time.Time
	have          int // hasIss, … bits of the required claims present
}

// read reads the member name into c if it is one of the shared claims,
// and reports whether it was.
func (c *registered) read(r *strictjson.Reader, name string) (bool, error) {
	var err error
	switch name {
	case "iss":
		c.iss, err = readString(r, name)
		c.have |= nonEmpty(c.iss, hasIss)
	case "sub":
		c.sub, err = readString(r, name)
		c.have |= nonEmpty(c.sub, hasSub)
	case "jti":
		c.jti, err = readString(r, name)
		c.have |= nonEmpty(c.jti, hasJti)
	case "iat":
		c.iat, err = readDate(r, name)
		c.have |= hasIat
	case "exp":
		c.exp, err = readDate(r, name)
		c.have |= hasExp
	default:
		return false, nil
	}
	return true, err
}

// parseClaims checks the claims document, then walks it: the shared
// claims go into c, every other member to other, which must consume it.
func parseClaims(payload string, c *registered, other func(r *strictjson.Reader, name string) error) error {
	if err := wellFormed(payload); err != nil {
		return err
	}
	r := strictjson.NewStringReader(payload)
	err := r.Object(func(name string) error {
		if ok, err := c.read(r, name); ok {
			return err
		}
		return other(r, name)
	})
	if err == nil {
		err = r.End()
	}
	if err != nil {
		return asClaimsError(err)
	}
	return nil
}

// parseLicenseClaims reads the claims of a licence token.
func parseLicenseClaims(payload string, lic *License) error {
	var c registered
	err := parseClaims(payload, &c, func(r *strictjson.Reader, name string) error {
		var err error
		switch name {
		case "aud":
			lic.Audience, err = readStrings(r, "aud", true)
			if err == nil && validAudience(lic.Audience) {
				c.have |= hasAud
			}
		case "tid":
			lic.TenantID, err = readString(r, "tid")
			c.have |= nonEmpty(lic.TenantID, hasTid)
		case "nbf":
			if !skipNull(r) {
				lic.NotBefore, err = readDate(r, "nbf")
			}
		case "tenant_ctry":
			if !skipNull(r) {
				lic.TenantCountry, err = readString(r, "tenant_ctry")
				if err == nil && !validCountry(lic.TenantCountry) {
					err = fail(ErrClaims, "tenant_ctry must be an ISO 3166-1 alpha-2 code")
				}
			}
		case "plan":
			if !skipNull(r) {
				lic.Plan, err = readString(r, "plan")
				if err == nil && !validPlan(lic.Plan) {
					err = fail(ErrClaims, "plan must be monthly, yearly, community or custom")
				}
			}
		case "slot":
			if !skipNull(r) {
				lic.Slot, err = readString(r, "slot")
				if err == nil && lic.Slot != SlotPrimary && lic.Slot != SlotSecondary {
					err = fail(ErrClaims, "slot must be primary or secondary")
				}
			}
		case "capabilities":
			if !skipNull(r) {
				lic.Capabilities, err = readStrings(r, "capabilities", false)
			}
		case "metadata":
			if !skipNull(r) {
				lic.Metadata, err = readMetadata(r)
			}
		case "fpr":
			if !skipNull(r) {
				lic.Fingerprint, err = readString(r, "fpr")
			}
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	lic.Issuer, lic.Subject, lic.ID, lic.IssuedAt, lic.ExpiresAt = c.iss, c.sub, c.jti, c.iat, c.exp
	if err := missing(c.have, requiredLicense); err != nil {
		return err
	}
	return checkDates(lic.IssuedAt, lic.NotBefore, lic.ExpiresAt)
}

// parseLeaseClaims reads the claims of a lease token.
func parseLeaseClaims(payload string, l *Lease) error {
	var c registered
	err := parseClaims(payload, &c, func(r *strictjson.Reader, name string) error {
		var err error
		switch name {
		case "fpr":
			l.Fingerprint, err = readString(r, "fpr")
		case "status":
			l.Status, err = readString(r, "status")
			if err == nil && l.Status != LeaseActive && l.Status != LeaseSuspended && l.Status != LeaseRevoked {
				err = fail(ErrClaims, "lease status must be active, suspended or revoked")
			}
		case "nonce":
			l.Nonce, err = readString(r, "nonce")
		case "offline":
			l.Offline, err = readBool(r, "offline")
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	l.Issuer, l.LicenseID, l.ID, l.IssuedAt, l.ExpiresAt = c.iss, c.sub, c.jti, c.iat, c.exp
	if err := missing(c.have, requiredLease); err != nil {
		return err
	}
	if l.Status == "" {
		return fail(ErrClaims, "lease status is missing")
	}
	if l.Fingerprint == "" {
		return fail(ErrClaims, "lease fpr is missing")
	}
	return checkDates(l.IssuedAt, time.Time{}, l.ExpiresAt)
}

// asClaimsError maps reader errors to sentinels; errors already wrapping a
// sentinel pass through.
func asClaimsError(err error) error {
	if _, ok := err.(*wrapped); ok {
		return err
	}
	switch err {
	case strictjson.ErrType:
		// Only the top-level Object call returns a bare ErrType.
		return fail(ErrMalformed, "claims are not a JSON object")
	case strictjson.ErrDuplicate:
		return fail(ErrMalformed, "claims: duplicate member")
	}
	return fail(ErrMalformed, "claims: "+err.Error())
}

func checkDates(iat, nbf, exp time.Time) error {
	if iat.After(exp) {
		return fail(ErrClaims, "iat is after exp")
	}
	if !nbf.IsZero() && nbf.After(exp) {
		return fail(ErrClaims, "nbf is after exp")
	}
	return nil
}

func nonEmpty(s string, bit int) int {
	if s == "" {
		return 0
	}
	return bit
}

func validAudience(aud []string) bool {
	if len(aud) == 0 {
		return false
	}
	for _, a := range aud {
		if a == "" {
			return false
		}
	}
	return true
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// Plans a licence may name.
const (
	PlanMonthly   = "monthly"
	PlanYearly    = "yearly"
	PlanCommunity = "community"
	PlanCustom    = "custom"
)

// Key-file slots.
const (
	SlotPrimary   = "primary"
	SlotSecondary = "secondary"
)

func validPlan(p string) bool {
	switch p {
	case PlanMonthly, PlanYearly, PlanCommunity, PlanCustom:
		return true
	}
	return false
}
