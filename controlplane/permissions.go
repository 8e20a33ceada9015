package controlplane

import (
	"slices"
	"strings"
)

// Permission is one right an API key may hold.
type Permission string

// The permissions of the admin API.
const (
	PermLicenseRead   Permission = "license.read"
	PermLicenseIssue  Permission = "license.issue"
	PermLicenseRevoke Permission = "license.revoke"
	PermSigningManage Permission = "signing.manage"
	PermKeyManage     Permission = "key.manage"
	PermAuditRead     Permission = "audit.read"
)

// allPermissions in a fixed order, for answers and tests.
var allPermissions = []Permission{
	PermLicenseRead, PermLicenseIssue, PermLicenseRevoke,
	PermSigningManage, PermKeyManage, PermAuditRead,
}

// Roles of an API key.
const (
	RoleOnboarding = "onboarding"
	RoleSupport    = "support"
	RoleSuperAdmin = "super_admin"
)

// Scopes of an API key.
const (
	ScopeAdminTenants = "admin:tenants"
	ScopeReadLicenses = "read:licenses"
	ScopeAdminKeys    = "admin:keys"
	ScopeAdminSigning = "admin:signing"
	ScopeReadEvents   = "read:events"
	ScopeWriteEvents  = "write:events"
)

// DefaultRole and DefaultScopes are what a key created without a role or
// scopes gets: together they grant nothing on this server.
var (
	DefaultRole   = RoleOnboarding
	DefaultScopes = []string{ScopeReadEvents, ScopeWriteEvents}
)

// permSet is a set of permissions as a bit mask.
type permSet uint8

func (p Permission) bit() permSet {
	i := slices.Index(allPermissions, p)
	if i < 0 {
		return 0
	}
	return 1 << i
}

func setOf(ps ...Permission) permSet {
	var s permSet
	for _, p := range ps {
		s |= p.bit()
	}
	return s
}

func (s permSet) has(p Permission) bool { return s&p.bit() != 0 && p.bit() != 0 }

func (s permSet) subsetOf(o permSet) bool { return s&^o == 0 }

func (s permSet) list() []string {
	out := []string{}
	for _, p := range allPermissions {
		if s.has(p) {
			out = append(out, string(p))
		}
	}
	return out
}

var rolePerms = map[string]permSet{
	RoleOnboarding: setOf(PermLicenseRead, PermLicenseIssue),
	RoleSupport:    setOf(PermLicenseRead, PermLicenseIssue, PermLicenseRevoke, PermAuditRead),
	RoleSuperAdmin: setOf(allPermissions...),
}

// roleRank orders roles, so that a key cannot create or revoke a key of a
// higher role even when the scopes would make them equal.
var roleRank = map[string]int{RoleOnboarding: 1, RoleSupport: 2, RoleSuperAdmin: 3}

var scopePerms = map[string]permSet{
	ScopeAdminTenants: setOf(PermLicenseRead, PermLicenseIssue, PermLicenseRevoke),
	ScopeReadLicenses: setOf(PermLicenseRead),
	ScopeAdminKeys:    setOf(PermKeyManage),
	ScopeAdminSigning: setOf(PermSigningManage),
	ScopeReadEvents:   setOf(PermAuditRead),
	ScopeWriteEvents:  0,
}

// knownScopes in a fixed order, for validation messages.
var knownScopes = []string{ScopeAdminTenants, ScopeReadLicenses, ScopeAdminKeys, ScopeAdminSigning, ScopeReadEvents, ScopeWriteEvents}

// effective returns what a key may do: its role's permissions that its
// scopes also grant. An unknown role or scope grants nothing.
func effective(role string, scopes []string) permSet {
	var granted permSet
	for _, sc := range scopes {
		granted |= scopePerms[sc]
	}
	return rolePerms[role] & granted
}

// parseScopes accepts scopes as given in a request: each a known scope,
// no duplicates. Space-separated strings are split.
func parseScopes(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			if _, ok := scopePerms[f]; !ok {
				return nil, validationf("unknown scope %q (known: %s)", clip(f, 40), strings.Join(knownScopes, ", "))
			}
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// keyPerms is what a key of tenant, role and scopes may do. Signing keys
// and settings belong to no tenant, so a tenant's key never manages them,
// whatever its role.
func keyPerms(tenant, role string, scopes []string) permSet {
	p := effective(role, scopes)
	if tenant != "" {
		p &^= setOf(PermSigningManage)
	}
	return p
}
