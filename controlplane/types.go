package controlplane

import "time"

// Licence statuses, as the API reports them.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
	StatusExpired   = "expired"
	StatusDeleted   = "deleted"
)

// Machine states, derived from a binding's times at the moment of asking.
const (
	MachineAlive   = "alive"   // beat within its interval and a margin
	MachineOverdue = "overdue" // silent past that, but its newest lease has not run out
	MachineDead    = "dead"    // silent past its newest lease's exp
)

// Slot names of a licence's two keys.
const (
	SlotPrimary   = "primary"
	SlotSecondary = "secondary"
)

// License is a licence as the control plane keeps it: its claims, its two
// slot tokens and its machine bindings. A Store returns copies; changing
// one changes nothing stored.
type License struct {
	ID            string // jti of both slot tokens, "lic_…"
	TenantID      string
	Audience      []string
	Subject       string
	TenantCountry string
	Plan          string
	Status        string // one of the Status constants
	Capabilities  []string
	Metadata      map[string]string
	IssuedAt      time.Time
	ExpiresAt     time.Time
	MaxMachines   int

	// The current token of each slot, and what identifies it. A reset or a
	// renewal replaces a slot's token; the old one is then told apart by its
	// payload digest (the signed claims, not the malleable signature).
	Primary, Secondary             string
	PrimaryDigest, SecondaryDigest string // hex SHA-256 of the token's payload segment; "" once deleted

	// Per-licence heartbeat directives; zero follows the settings.
	HeartbeatInterval time.Duration
	Grace             time.Duration

	UpdatedAt time.Time
	Machines  []Machine // the bindings, in activation order
}

// Machine is one binding of a licence to a machine fingerprint.
type Machine struct {
	LicenseID      string
	TenantID       string // copied from the licence, for fleet filters
	Fingerprint    string
	ActivatedAt    time.Time
	IdempotencyKey string // of the activation that created the binding

	LastHeartbeatAt time.Time
	DueAt           time.Time // last beat + interval + margin: alive until then
	LeaseIssuedAt   time.Time // iat of the newest lease issued to this machine
	LeaseExpiresAt  time.Time // exp of that lease: overdue until then, dead after

	// ReleasedAt is set when the device deactivated itself. A released
	// binding still holds its seat until LeaseExpiresAt, because the lease
	// it holds stays valid offline until then.
	ReleasedAt time.Time
	Dead       bool   // set by the sweep once the machine was found dead (audited once)
	KeySlot    string // slot of the key the machine last presented
	KeyDigest  string // digest of that key's payload, to know when it is stale
	Offline    bool   // bound by an offline (air-gapped) activation
}

// Settings are the control plane's stored settings. A flag given at start
// wins over the stored value (the Server applies that, not the Store).
type Settings struct {
	Grace             time.Duration
	HeartbeatInterval time.Duration
	OfflineLeaseTTL   time.Duration
	PlanTTLs          map[string]time.Duration // "monthly", "yearly", "community", "custom"
	UpdatedAt         time.Time
}

// Signing-key states. A key is published in the JWKS in every state but
// retired; exactly one key is active and signs.
const (
	SigningPending  = "pending"  // created, published, not yet signing
	SigningActive   = "active"   // signs every new token and lease
	SigningInactive = "inactive" // signed before, still published
	SigningRetired  = "retired"  // no longer published; kept for the record
)

// SigningKey is a signing key as stored: the private half only encrypted.
type SigningKey struct {
	KID         string
	Alg         string
	State       string
	PublicJWK   []byte // one public JWK
	Sealed      []byte // the private JWK, AES-256-GCM under the server's secret key
	CreatedAt   time.Time
	ActivatedAt time.Time
	RetiredAt   time.Time
}

// APIKey is an admin API key as stored. The secret itself is never stored:
// only Hash, a keyed hash of it, which the Server compares in constant time.
type APIKey struct {
	ID        string // "key_…"; the secret names it, so lookup needs no hash index
	TenantID  string // "" for a key of no tenant (the bootstrap super_admin)
	Name      string // unique within a tenant
	Role      string // "onboarding", "support", "super_admin"
	Scopes    []string
	Hash      []byte
	Hint      string // the secret's last characters, for masked lists
	CreatedAt time.Time
	CreatedBy string // key id of the creator; "" for the bootstrap key
	ExpiresAt time.Time
	RevokedAt time.Time
}

// Event is one audit event.
type Event struct {
	Seq       int64 // assigned by the Store, increasing; 0 when appending
	Time      time.Time
	Actor     string // API key id, never a secret; "device:<fingerprint prefix>" for device calls; "system"
	Action    string // "license.issue", …
	Target    string // licence id, key id, kid, "settings"
	TenantID  string // tenant of the target, "" for none
	RequestID string
	Details   map[string]string
}

// Idempotency remembers one POST /licenses answered under an
// Idempotency-Key, so that a retry gets the same licence.
type Idempotency struct {
	Actor       string // API key id
	Key         string // the Idempotency-Key header
	RequestHash string // hex SHA-256 of the canonical request body
	LicenseID   string
	CreatedAt   time.Time
}

// Beat is the bookkeeping of one heartbeat, which a Store may be given in
// batches written behind the answer.
type Beat struct {
	LicenseID      string
	Fingerprint    string
	At             time.Time
	DueAt          time.Time
	LeaseIssuedAt  time.Time
	LeaseExpiresAt time.Time
	KeySlot        string
	KeyDigest      string
}
