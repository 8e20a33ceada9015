package controlplane

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// licenseJSON is the licence object of the API.
type licenseJSON struct {
	ID            string            `json:"id"`
	TenantID      string            `json:"tenant_id"`
	Audience      []string          `json:"audience"`
	Subject       string            `json:"subject"`
	TenantCountry string            `json:"tenant_ctry,omitempty"`
	Plan          string            `json:"plan,omitempty"`
	Status        string            `json:"status"`
	Capabilities  []string          `json:"capabilities"`
	Metadata      map[string]string `json:"metadata"`
	IssuedAt      string            `json:"issued_at"`
	ExpiresAt     string            `json:"expires_at"`
	MaxMachines   int               `json:"max_machines"`
	Machines      []machineJSON     `json:"machines"`
	Directives    directivesJSON    `json:"directives"`
	UpdatedAt     string            `json:"updated_at,omitempty"`
	Primary       string            `json:"primary,omitempty"`
	Secondary     string            `json:"secondary,omitempty"`
}

// directivesJSON are a licence's own heartbeat settings; null follows the
// server's settings.
type directivesJSON struct {
	HeartbeatInterval *string `json:"heartbeat_interval"`
	Grace             *string `json:"grace"`
}

// machineJSON is one binding as the API shows it.
type machineJSON struct {
	LicenseID       string `json:"license_id,omitempty"`
	TenantID        string `json:"tenant_id,omitempty"`
	Fingerprint     string `json:"fingerprint"`
	ActivatedAt     string `json:"activated_at"`
	LastHeartbeatAt string `json:"last_heartbeat_at,omitempty"`
	LeaseExpiresAt  string `json:"lease_expires_at,omitempty"`
	State           string `json:"state"`
	ReleasedAt      string `json:"released_at,omitempty"`
	Offline         bool   `json:"offline,omitempty"`
}

func machineOut(m Machine, now time.Time, fleet bool) machineJSON {
	out := machineJSON{
		Fingerprint: m.Fingerprint, ActivatedAt: formatTime(m.ActivatedAt),
		LastHeartbeatAt: formatTime(m.LastHeartbeatAt), LeaseExpiresAt: formatTime(m.LeaseExpiresAt),
		State: MachineState(m, now), ReleasedAt: formatTime(m.ReleasedAt), Offline: m.Offline,
	}
	if fleet {
		out.LicenseID, out.TenantID = m.LicenseID, m.TenantID
	}
	return out
}

// licenseOut shows a licence; withKeys adds both slot tokens.
func licenseOut(l License, now time.Time, withKeys bool) licenseJSON {
	out := licenseJSON{
		ID: l.ID, TenantID: l.TenantID, Audience: nonNil(l.Audience), Subject: l.Subject,
		TenantCountry: l.TenantCountry, Plan: l.Plan, Status: l.Status,
		Capabilities: nonNil(l.Capabilities), Metadata: l.Metadata,
		IssuedAt: formatTime(l.IssuedAt), ExpiresAt: formatTime(l.ExpiresAt), MaxMachines: l.MaxMachines,
		Machines: []machineJSON{}, UpdatedAt: formatTime(l.UpdatedAt),
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if out.Status == StatusActive || out.Status == StatusSuspended {
		if !now.Before(l.ExpiresAt) {
			out.Status = StatusExpired // the sweep has not recorded it yet
		}
	}
	for _, m := range l.Machines {
		out.Machines = append(out.Machines, machineOut(m, now, false))
	}
	if l.HeartbeatInterval > 0 {
		v := formatDuration(l.HeartbeatInterval)
		out.Directives.HeartbeatInterval = &v
	}
	if l.Grace > 0 {
		v := formatDuration(l.Grace)
		out.Directives.Grace = &v
	}
	if withKeys {
		out.Primary, out.Secondary = l.Primary, l.Secondary
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// tokenDigest identifies a token by its signed claims: the hex SHA-256 of
// its payload segment (the signature of ECDSA is malleable, the claims
// are not).
func tokenDigest(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(payload))
	return hex.EncodeToString(sum[:])
}

// tokenIssuedAt reads the iat of a token this server signed, without
// verifying it; zero when it cannot.
func tokenIssuedAt(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		IAT int64 `json:"iat"`
	}
	if json.Unmarshal(data, &c) != nil || c.IAT <= 0 {
		return time.Time{}
	}
	return time.Unix(c.IAT, 0).UTC()
}

// currentSlot reports which slot's current token a token is, or "".
func currentSlot(l *License, token string) string {
	d := tokenDigest(token)
	switch {
	case d == "":
		return ""
	case d == l.PrimaryDigest:
		return SlotPrimary
	case d == l.SecondaryDigest:
		return SlotSecondary
	}
	return ""
}
