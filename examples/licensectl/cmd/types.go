package cmd

// The objects of the control plane's API, as far as the tables show them.
// JSON output passes the server's answer through untouched, so a member
// added to the API reaches scripts before licensectl learns of it.

type licenseObj struct {
	ID           string            `json:"id"`
	TenantID     string            `json:"tenant_id"`
	Audience     []string          `json:"audience"`
	Subject      string            `json:"subject"`
	TenantCtry   string            `json:"tenant_ctry"`
	Plan         string            `json:"plan"`
	Status       string            `json:"status"`
	Capabilities []string          `json:"capabilities"`
	Metadata     map[string]string `json:"metadata"`
	IssuedAt     string            `json:"issued_at"`
	ExpiresAt    string            `json:"expires_at"`
	MaxMachines  int               `json:"max_machines"`
	Machines     []machineObj      `json:"machines"`
	Directives   struct {
		HeartbeatInterval *string `json:"heartbeat_interval"`
		Grace             *string `json:"grace"`
	} `json:"directives"`
	Primary   string `json:"primary"`
	Secondary string `json:"secondary"`
}

type machineObj struct {
	LicenseID       string `json:"license_id"`
	TenantID        string `json:"tenant_id"`
	Fingerprint     string `json:"fingerprint"`
	ActivatedAt     string `json:"activated_at"`
	LastHeartbeatAt string `json:"last_heartbeat_at"`
	LeaseExpiresAt  string `json:"lease_expires_at"`
	State           string `json:"state"`
	ReleasedAt      string `json:"released_at"`
	Offline         bool   `json:"offline"`
}

type keyObj struct {
	ID          string   `json:"id"`
	TenantID    string   `json:"tenant_id"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Scopes      []string `json:"scopes"`
	Permissions []string `json:"permissions"`
	Masked      string   `json:"masked"`
	CreatedAt   string   `json:"created_at"`
	ExpiresAt   string   `json:"expires_at"`
	RevokedAt   string   `json:"revoked_at"`
	Secret      string   `json:"secret"`
}

type signingKeyObj struct {
	KID         string `json:"kid"`
	Alg         string `json:"alg"`
	State       string `json:"state"`
	CreatedAt   string `json:"created_at"`
	ActivatedAt string `json:"activated_at"`
	RetiredAt   string `json:"retired_at"`
}

type eventObj struct {
	Seq      int64             `json:"seq"`
	Time     string            `json:"time"`
	Actor    string            `json:"actor"`
	Action   string            `json:"action"`
	Target   string            `json:"target"`
	TenantID string            `json:"tenant_id"`
	Details  map[string]string `json:"details"`
}

type settingsObj struct {
	Grace             string            `json:"grace"`
	HeartbeatInterval string            `json:"heartbeat_interval"`
	OfflineLeaseTTL   string            `json:"offline_lease_ttl"`
	PlanTTLs          map[string]string `json:"plan_ttls"`
	PinnedByFlags     []string          `json:"pinned_by_flags"`
	UpdatedAt         string            `json:"updated_at"`
}

type validateObj struct {
	Valid   bool        `json:"valid"`
	Code    string      `json:"code"`
	Message string      `json:"message"`
	License *licenseObj `json:"license"`
}
