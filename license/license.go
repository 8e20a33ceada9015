package license

import "time"

// License is a verified licence: the claims of a token that passed every
// check of [Verifier.Verify]. Its fields are read-only by convention; the
// verifier returns a fresh value on every call.
type License struct {
	ID            string            // jti: the licence id, e.g. "lic_…"
	Issuer        string            // iss: the vendor
	Subject       string            // sub: the subscription id
	Audience      []string          // aud: the licence holder(s)
	TenantID      string            // tid
	TenantCountry string            // tenant_ctry: ISO 3166-1 alpha-2, or ""
	Plan          string            // "monthly", "yearly", "community", "custom", or ""
	Slot          string            // "primary" or "secondary": the key-file slot that carried the token
	Fingerprint   string            // fpr: the machine this token is bound to, or "" when unbound
	IssuedAt      time.Time         // iat
	NotBefore     time.Time         // nbf; zero when absent
	ExpiresAt     time.Time         // exp
	Capabilities  []string          // granted permissions, e.g. "kyc:write"
	Metadata      map[string]string // free key/value data; nil when absent
}

// Has reports whether the licence grants capability. The comparison is
// exact: no wildcards, no case folding.
func (l *License) Has(capability string) bool {
	if l == nil {
		return false
	}
	for _, c := range l.Capabilities {
		if c == capability {
			return true
		}
	}
	return false
}

// Lease is a verified lease: the control plane's signed word that
// a licence may be used on one machine until ExpiresAt.
type Lease struct {
	ID          string    // jti: this lease's own id
	LicenseID   string    // sub: the licence's jti
	Issuer      string    // iss
	Fingerprint string    // fpr: the machine the lease was issued to
	Status      string    // "active", "suspended" or "revoked"
	IssuedAt    time.Time // iat: server time when issued
	ExpiresAt   time.Time // exp: end of the offline grace window
	Nonce       string    // nonce: the request nonce this lease answers; "" when absent
	Offline     bool      // offline: true for the lease of an air-gapped activation
}

// Lease statuses.
const (
	LeaseActive    = "active"
	LeaseSuspended = "suspended"
	LeaseRevoked   = "revoked"
)
