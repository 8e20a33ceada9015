package controlplane

import (
	"context"
	"time"
)

// Store keeps the control plane's state. Implementations: package memstore
// (in memory; tests and licensetest), package sqlite, and package postgres.
// Every implementation passes the conformance suite in package storetest.
//
// The contract every implementation keeps:
//
//   - Methods are safe for concurrent use, also from several processes
//     sharing one database: the database decides races (constraints,
//     transactions), never a lock held in one process.
//   - A method that returns nil has made its change durable, together with
//     the audit events it was given, atomically: after a crash either both
//     are there or neither is. The exception is [Store.RecordBeats], which
//     may lose the last moments of bookkeeping but never a state change.
//   - Values going in and coming out are copies.
//   - Times are kept to the microsecond (what PostgreSQL keeps; a finer part
//     is dropped) and come back in UTC; a zero time stays zero. Times in
//     filters and arguments are taken to the microsecond too. A time before
//     the year 1 or after 9999 is ErrInvalid. A store never reads the
//     clock: every time it stores is given to it.
//   - Strings come back byte for byte as given, whatever they hold (quotes,
//     SQL, paths, 10 KB); one that is not UTF-8 or holds a NUL byte may
//     instead be refused with ErrInvalid, as PostgreSQL keeps neither.
//   - Errors the caller branches on are the sentinels of this package
//     ([ErrNotFound], [ErrAlreadyExists], [ErrConflict], [ErrInvalid],
//     [ErrUnavailable]), wrapped with %w; never a driver's error type. A
//     cancelled or expired ctx gives an error that wraps both
//     [ErrUnavailable] and ctx.Err(). After Close every method but Close
//     returns [ErrUnavailable].
type Store interface {
	// SessionStore keeps the console's sessions.
	SessionStore

	// CreateLicense stores a new licence (with its machines, if it was bound
	// at issue) and the given events. With idem non-nil it also records the
	// idempotency entry; if one exists already for (Actor, Key) it stores
	// nothing and returns ErrAlreadyExists. An existing ID is ErrAlreadyExists.
	// The machines' LicenseID and TenantID are set from the licence; a
	// fingerprint listed twice is ErrInvalid.
	CreateLicense(ctx context.Context, l License, idem *Idempotency, events ...Event) error
	// GetLicense returns a licence with its machines, or ErrNotFound.
	GetLicense(ctx context.Context, id string) (License, error)
	// ListLicenses returns one page of licences in ascending ID order, with
	// their machines, and the cursor of the next page ("" at the end).
	ListLicenses(ctx context.Context, f LicenseFilter) ([]License, string, error)
	// UpdateLicense reads the licence with its machines inside a transaction,
	// calls fn with it, and stores what fn left in *l (claims, status,
	// tokens, directives and the full machine list) together with the
	// events fn returns, atomically. If fn returns an error nothing is
	// stored and that error is returned as is. Two concurrent updates of one
	// licence are serialised: each fn sees the other's result, or one of
	// them fails with ErrConflict and the caller may retry. fn may run more
	// than once; it must not have side effects beyond *l, and it must not
	// call the Store. The ID cannot change (fn's change to it is dropped);
	// the machines' LicenseID and TenantID are set from the licence; a
	// fingerprint listed twice is ErrInvalid. An unknown id is ErrNotFound
	// and fn is not called. It returns the licence as stored.
	UpdateLicense(ctx context.Context, id string, fn func(l *License) ([]Event, error)) (License, error)
	// LookupIdempotency returns the entry for (actor, key), or ErrNotFound.
	LookupIdempotency(ctx context.Context, actor, key string) (Idempotency, error)

	// RecordBeats applies heartbeat bookkeeping to existing bindings: it
	// sets LastHeartbeatAt, DueAt, LeaseIssuedAt, LeaseExpiresAt, KeySlot
	// and KeyDigest of the binding (LicenseID, Fingerprint) when At is later
	// than the stored LastHeartbeatAt, and clears Dead. A beat for a binding
	// that no longer exists, or that was released, is ignored, and so is a
	// beat not later than the stored one. Beats of one batch apply in order.
	// It never creates a binding and never changes a licence.
	RecordBeats(ctx context.Context, beats []Beat) error
	// ListMachines returns one page of bindings in ascending (LicenseID,
	// Fingerprint) order, and the next cursor.
	ListMachines(ctx context.Context, f MachineFilter) ([]Machine, string, error)

	// Sweep reconciles at now, in one transaction: licences whose ExpiresAt
	// is before now and whose status is active or suspended become expired
	// (one "license.sweep" event each), and bindings whose LeaseExpiresAt is
	// before now and that are not yet Dead become Dead (one "machine.dead"
	// event each). The events carry actor and requestID, Time now, the
	// licence's id as Target and its TenantID; "license.sweep" has Details
	// {"from": old status}, "machine.dead" {"fingerprint": …}. An expired
	// licence's UpdatedAt becomes now. Expired is in ascending id order, Dead
	// in ascending (LicenseID, Fingerprint) order. Concurrent sweeps give the
	// result of one: a change is made and audited once.
	Sweep(ctx context.Context, now time.Time, actor, requestID string) (SweepResult, error)

	// GetSettings returns the stored settings, or ErrNotFound if none were
	// ever stored.
	GetSettings(ctx context.Context) (Settings, error)
	// PutSettings stores the settings and the events.
	PutSettings(ctx context.Context, s Settings, events ...Event) error

	// CreateSigningKey stores a new key (ErrAlreadyExists for a known KID).
	// Its State must be pending ("" is taken as pending; any other is
	// ErrInvalid): only ActivateSigningKey makes a key active.
	CreateSigningKey(ctx context.Context, k SigningKey, events ...Event) error
	// ListSigningKeys returns every signing key, oldest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// ActivateSigningKey makes kid the one active key, at now: the key that
	// was active becomes inactive. A retired or unknown kid fails
	// (ErrConflict, ErrNotFound). Activating the active key changes nothing
	// but stores the events. ActivatedAt becomes now.
	ActivateSigningKey(ctx context.Context, kid string, now time.Time, events ...Event) error
	// ActivateFirstSigningKey is ActivateSigningKey only while no key is
	// active: when one is, it changes nothing, stores no event and returns
	// ErrConflict. The check and the change are one step, so processes
	// starting together on an empty store agree on one key.
	ActivateFirstSigningKey(ctx context.Context, kid string, now time.Time, events ...Event) error
	// RetireSigningKey retires kid at now. The active key cannot be retired,
	// nor a retired key retired again (ErrConflict); an unknown kid is
	// ErrNotFound.
	RetireSigningKey(ctx context.Context, kid string, now time.Time, events ...Event) error

	// CreateAPIKey stores a new API key. A name already used by another key
	// of the same tenant, revoked or not, is ErrAlreadyExists, as is a known
	// ID.
	CreateAPIKey(ctx context.Context, k APIKey, events ...Event) error
	// GetAPIKey returns a key by ID, or ErrNotFound.
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	// ListAPIKeys returns one page of a tenant's keys ("" lists keys of no
	// tenant; AllTenants every key), in ascending ID order.
	ListAPIKeys(ctx context.Context, f APIKeyFilter) ([]APIKey, string, error)
	// RevokeAPIKey sets RevokedAt (ErrNotFound; revoking twice is ErrConflict).
	RevokeAPIKey(ctx context.Context, id string, at time.Time, events ...Event) error

	// AppendEvents stores audit events that go with no other change. Every
	// method that takes events assigns their Seq itself (a given Seq is
	// ignored), increasing in the order they were given.
	AppendEvents(ctx context.Context, events ...Event) error
	// ListEvents returns one page of audit events, newest (highest Seq)
	// first.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, string, error)

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's resources; closing again is nil.
	Close() error
}

// Page is the paging part of every filter. Limit 0 (or less) means 100; a
// Store caps it at 1000. Cursor is the opaque value a previous page
// returned; the next cursor is "" once no item follows, also when the last
// page is full. A cursor the store did not hand out may be ErrInvalid.
type Page struct {
	Limit  int
	Cursor string
}

// LicenseFilter selects licences. Zero fields do not filter.
type LicenseFilter struct {
	Page
	TenantID      string
	Status        string
	Plan          string
	ExpiresBefore time.Time // ExpiresAt before this instant
	IDPrefix      string
}

// MachineFilter selects bindings. Zero fields do not filter. State filters
// on the state [MachineState] derives at Now: it is one of the Machine
// constants, and Now must be set with it (otherwise ErrInvalid).
type MachineFilter struct {
	Page
	LicenseID string
	TenantID  string
	State     string
	Now       time.Time
}

// AllTenants in [APIKeyFilter.TenantID] lists the keys of every tenant.
const AllTenants = "*"

// APIKeyFilter selects API keys.
type APIKeyFilter struct {
	Page
	TenantID string
}

// EventFilter selects audit events. Zero fields do not filter. TenantID
// set limits to that tenant's events; Since to events whose Time is not
// before it.
type EventFilter struct {
	Page
	Action   string
	Target   string
	Actor    string
	TenantID string
	Since    time.Time
}

// SweepResult counts what one sweep changed.
type SweepResult struct {
	Expired []string // licence ids that became expired
	Dead    []Machine
}

// MachineState derives a binding's state at now.
func MachineState(m Machine, now time.Time) string {
	switch {
	case m.Dead || !now.Before(m.LeaseExpiresAt):
		return MachineDead
	case !now.After(m.DueAt):
		return MachineAlive
	default:
		return MachineOverdue
	}
}
