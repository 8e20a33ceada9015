package memstore

import (
	"maps"
	"slices"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// norm keeps a time the way every store does: to the microsecond, in UTC,
// without a monotonic reading; the zero time stays zero.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s)
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return slices.Clone(b)
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func copyMachine(m controlplane.Machine) controlplane.Machine {
	m.ActivatedAt = norm(m.ActivatedAt)
	m.LastHeartbeatAt = norm(m.LastHeartbeatAt)
	m.DueAt = norm(m.DueAt)
	m.LeaseIssuedAt = norm(m.LeaseIssuedAt)
	m.LeaseExpiresAt = norm(m.LeaseExpiresAt)
	m.ReleasedAt = norm(m.ReleasedAt)
	return m
}

func copyLicense(l controlplane.License) controlplane.License {
	l.Audience = cloneStrings(l.Audience)
	l.Capabilities = cloneStrings(l.Capabilities)
	l.Metadata = cloneMap(l.Metadata)
	l.IssuedAt = norm(l.IssuedAt)
	l.ExpiresAt = norm(l.ExpiresAt)
	l.UpdatedAt = norm(l.UpdatedAt)
	if l.Machines != nil {
		ms := make([]controlplane.Machine, len(l.Machines))
		for i, m := range l.Machines {
			ms[i] = copyMachine(m)
		}
		l.Machines = ms
	}
	return l
}

func copySigningKey(k controlplane.SigningKey) controlplane.SigningKey {
	k.PublicJWK = cloneBytes(k.PublicJWK)
	k.Sealed = cloneBytes(k.Sealed)
	k.CreatedAt = norm(k.CreatedAt)
	k.ActivatedAt = norm(k.ActivatedAt)
	k.RetiredAt = norm(k.RetiredAt)
	return k
}

func copyAPIKey(k controlplane.APIKey) controlplane.APIKey {
	k.Scopes = cloneStrings(k.Scopes)
	k.Hash = cloneBytes(k.Hash)
	k.CreatedAt = norm(k.CreatedAt)
	k.ExpiresAt = norm(k.ExpiresAt)
	k.RevokedAt = norm(k.RevokedAt)
	return k
}

func copyEvent(e controlplane.Event) controlplane.Event {
	e.Time = norm(e.Time)
	e.Details = cloneMap(e.Details)
	return e
}

func copySettings(s controlplane.Settings) controlplane.Settings {
	s.PlanTTLs = cloneMap(s.PlanTTLs)
	s.UpdatedAt = norm(s.UpdatedAt)
	return s
}

func copyIdempotency(i controlplane.Idempotency) controlplane.Idempotency {
	i.CreatedAt = norm(i.CreatedAt)
	return i
}
