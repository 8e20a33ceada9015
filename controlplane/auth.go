package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// principal is who makes a request: an API key, or a device.
type principal struct {
	keyID  string
	tenant string // "" for a key of no tenant
	role   string
	scopes []string
	perms  permSet
	device bool
	// expires is when the key stops working; zero for never. A key it
	// creates never outlives it.
	expires time.Time
}

// sees reports whether the principal may see an object of tenant: a key of
// no tenant sees every tenant, a tenant's key only its own.
func (p *principal) sees(tenant string) bool {
	return p.tenant == "" || p.tenant == tenant
}

// actor is what the audit log records as the one who acted.
func (p *principal) actor() string {
	if p == nil || p.device {
		return "device"
	}
	return p.keyID
}

// authenticate finds the API key of the request's bearer secret. Every
// failure is the same 401, whatever went wrong, and spends the client
// address's failure budget (Config.AuthFailureLimit); an address that has
// spent it is 429 before its secret is looked at. A request with no
// Authorization header at all is a plain 401 and spends nothing: it
// guesses nothing.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errUnauthenticated
	}
	addr := clientAddr(r)
	if err := s.authFail.spent(addr, s.now()); err != nil {
		return nil, err
	}
	p, err := s.checkSecret(r.Context(), h)
	if errors.Is(err, errUnauthenticated) {
		s.authFail.charge(addr, s.now())
	}
	return p, err
}

// checkSecret finds the API key of an Authorization header's bearer secret.
func (s *Server) checkSecret(ctx context.Context, h string) (*principal, error) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errUnauthenticated
	}
	sec := Secret(strings.TrimSpace(tok))
	if !visibleASCII(string(sec), maxSecretLen) {
		return nil, errUnauthenticated
	}
	id, hash := s.keys.secretKeyID(sec), []byte(nil)
	switch {
	case s.adminHash != nil && s.keys.matchSecret(sec, s.adminHash):
		id, hash = bootstrapKeyID, s.adminHash
	case id == "" || (id == bootstrapKeyID && s.adminHash != nil):
		// Not of our shape or not made by us, or a bootstrap secret the
		// configured admin key has replaced.
		return nil, errUnauthenticated
	}
	k, err := s.store.GetAPIKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, storeError(err, "API key")
	}
	if hash == nil {
		if !s.keys.matchSecret(sec, k.Hash) {
			return nil, errUnauthenticated
		}
	}
	now := s.now()
	if !k.RevokedAt.IsZero() || (!k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)) {
		return nil, errUnauthenticated
	}
	return &principal{keyID: k.ID, tenant: k.TenantID, role: k.Role, scopes: k.Scopes, perms: keyPerms(k.TenantID, k.Role, k.Scopes), expires: k.ExpiresAt}, nil
}

// ensureBootstrapKey makes sure the bootstrap super_admin key exists. With
// Config.AdminKey the stored record's hash is not used (the configured
// secret is checked instead), so changing LICENSEKIT_ADMIN_KEY between
// starts replaces the old secret.
func (s *Server) ensureBootstrapKey(ctx context.Context) error {
	_, err := s.store.GetAPIKey(ctx, bootstrapKeyID)
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("controlplane: reading the bootstrap key: %w", err)
	}
	var sec Secret
	hash := s.adminHash
	if hash == nil {
		sec = s.keys.newSecret(bootstrapKeyID)
		hash = s.keys.hashSecret(sec)
	}
	now := s.now()
	k := APIKey{
		ID: bootstrapKeyID, Name: "bootstrap", Role: RoleSuperAdmin,
		Scopes:    []string{ScopeAdminTenants, ScopeReadLicenses, ScopeAdminKeys, ScopeAdminSigning, ScopeReadEvents},
		Hash:      hash,
		CreatedAt: now,
	}
	if sec != "" {
		k.Hint = secretHint(sec)
	}
	ev := Event{Time: now, Actor: "system", Action: "key.create", Target: bootstrapKeyID,
		Details: map[string]string{"role": RoleSuperAdmin, "name": "bootstrap"}}
	err = s.store.CreateAPIKey(ctx, k, ev)
	if errors.Is(err, ErrAlreadyExists) {
		return nil // another process made it first
	}
	if err != nil {
		return fmt.Errorf("controlplane: creating the bootstrap key: %w", err)
	}
	s.bootMu.Lock()
	s.bootSecret = sec
	s.bootMu.Unlock()
	return nil
}
