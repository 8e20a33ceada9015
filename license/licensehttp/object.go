package licensehttp

import (
	"time"

	"github.com/licensekit/licensekit/license"
)

// License is the licence object of the API's answers.
type License struct {
	ID            string            `json:"id"`        // the jti claim
	Status        string            `json:"status"`    // active, grace, inactive, suspended, locked or expired
	IssuedTo      string            `json:"issued_to"` // the sub claim
	Issuer        string            `json:"issuer"`    // the iss claim
	IssuedAt      string            `json:"issued_at"` // RFC 3339, UTC
	ExpiresAt     string            `json:"expires_at"`
	Capabilities  []string          `json:"capabilities"`
	Metadata      map[string]string `json:"metadata"`
	GraceDeadline string            `json:"grace_deadline,omitempty"` // the current lease's last instant of use offline
	Machine       string            `json:"machine,omitempty"`        // this machine's fingerprint
	Reason        string            `json:"reason,omitempty"`         // why use is not allowed: a license.Code… value
}

// object is the licence object of the manager's current status.
func (h *Handler) object(st license.Status) *License {
	if st.License == nil {
		return nil
	}
	obj := licenseObject(st.License, st.State.String())
	obj.Machine = h.m.Fingerprint()
	if !st.GraceDeadline.IsZero() {
		obj.GraceDeadline = formatTime(st.GraceDeadline)
	}
	if st.Err != nil && !st.State.Allowed() {
		obj.Reason = license.Code(st.Err)
	}
	return obj
}

func licenseObject(lic *license.License, status string) *License {
	obj := &License{
		ID: lic.ID, Status: status, IssuedTo: lic.Subject, Issuer: lic.Issuer,
		IssuedAt: formatTime(lic.IssuedAt), ExpiresAt: formatTime(lic.ExpiresAt),
		Capabilities: lic.Capabilities, Metadata: lic.Metadata,
	}
	if obj.Capabilities == nil {
		obj.Capabilities = []string{}
	}
	if obj.Metadata == nil {
		obj.Metadata = map[string]string{}
	}
	return obj
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
