package controlplane

import (
	"errors"
	"net/http"
	"slices"
	"time"
)

// keyJSON is an API key as the API shows it: the secret only in the
// answer that creates it.
type keyJSON struct {
	ID          string   `json:"id"`
	TenantID    string   `json:"tenant_id"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Scopes      []string `json:"scopes"`
	Permissions []string `json:"permissions"`
	Masked      string   `json:"masked"`
	CreatedAt   string   `json:"created_at"`
	CreatedBy   string   `json:"created_by,omitempty"`
	ExpiresAt   string   `json:"expires_at,omitempty"`
	RevokedAt   string   `json:"revoked_at,omitempty"`
	Secret      string   `json:"secret,omitempty"`
}

func keyOut(k APIKey) keyJSON {
	masked := secretPrefix + k.ID + "_…"
	if k.Hint != "" {
		masked += k.Hint
	}
	return keyJSON{ID: k.ID, TenantID: k.TenantID, Name: k.Name, Role: k.Role, Scopes: nonNil(k.Scopes),
		Permissions: keyPerms(k.TenantID, k.Role, k.Scopes).list(), Masked: masked, CreatedAt: formatTime(k.CreatedAt),
		CreatedBy: k.CreatedBy, ExpiresAt: formatTime(k.ExpiresAt), RevokedAt: formatTime(k.RevokedAt)}
}

// mayGovern reports whether the caller may create or revoke a key of that
// tenant, role and scopes: never one with a permission, a role or a tenant
// the caller lacks.
func (p *principal) mayGovern(tenant, role string, scopes []string) bool {
	return p.sees(tenant) && roleRank[role] <= roleRank[p.role] && keyPerms(tenant, role, scopes).subsetOf(p.perms)
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		TenantID *string   `json:"tenant_id"`
		Name     string    `json:"name"`
		Role     string    `json:"role"`
		Scopes   strOrList `json:"scopes"`
		Expires  string    `json:"expires"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	tenant := p.tenant
	if q.TenantID != nil {
		tenant = *q.TenantID
	}
	switch {
	case tenant != "" && (!validID(tenant) || len(tenant) > 64):
		return validationf("tenant_id must be 1 to 64 characters of letters, digits, _ . : -")
	case !plainText(q.Name, 128):
		return validationf("name is required: 1 to 128 characters without control characters")
	}
	if q.Role == "" {
		q.Role = DefaultRole
	}
	if _, ok := rolePerms[q.Role]; !ok {
		return validationf("role must be onboarding, support or super_admin")
	}
	scopes := slices.Clone(DefaultScopes)
	if q.Scopes != nil {
		var err error
		if scopes, err = parseScopes(q.Scopes); err != nil {
			return err
		}
	}
	now := s.now()
	var expires time.Time
	if q.Expires != "" {
		d, err := parseDuration(q.Expires, maxKeyLifetime)
		if err != nil {
			return err
		}
		expires = now.Add(d)
	}
	if !p.mayGovern(tenant, q.Role, scopes) {
		return errForbidden
	}
	// A key never makes a key that outlives it: left out, the expiry is
	// the creator's own; asked for later, it is refused.
	if !p.expires.IsZero() {
		switch {
		case expires.IsZero():
			expires = p.expires
		case expires.After(p.expires):
			return newError(http.StatusForbidden, CodeForbidden, "Insufficient scope: a key cannot create a key that outlives it")
		}
	}
	id := randomID("key_", 10)
	sec := s.keys.newSecret(id)
	k := APIKey{ID: id, TenantID: tenant, Name: q.Name, Role: q.Role, Scopes: scopes,
		Hash: s.keys.hashSecret(sec), Hint: secretHint(sec), CreatedAt: now, CreatedBy: p.keyID, ExpiresAt: expires}
	ev := s.event(r, p, "key.create", id, tenant, map[string]string{"name": q.Name, "role": q.Role, "scopes": joinScopes(scopes)})
	if err := s.store.CreateAPIKey(r.Context(), k, ev); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return conflictf("Key name taken")
		}
		return storeError(err, "API key")
	}
	out := keyOut(k)
	out.Secret = string(sec) // the one place a secret is shown
	writeJSON(w, http.StatusCreated, map[string]any{"key": out})
	return nil
}

func joinScopes(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := APIKeyFilter{TenantID: AllTenants}
	var err error
	if f.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return err
	}
	if f.Cursor, err = parseCursor(q.Get("cursor")); err != nil {
		return err
	}
	if q.Has("tenant_id") {
		f.TenantID = q.Get("tenant_id")
		if f.TenantID != "" && !validID(f.TenantID) {
			return validationf("invalid tenant_id")
		}
	}
	if p.tenant != "" {
		if f.TenantID != AllTenants && f.TenantID != p.tenant {
			writeJSON(w, http.StatusOK, map[string]any{"keys": []keyJSON{}, "next_cursor": ""})
			return nil
		}
		f.TenantID = p.tenant
	}
	list, next, err := s.store.ListAPIKeys(r.Context(), f)
	if err != nil {
		return listError(err, "API key")
	}
	out := make([]keyJSON, 0, len(list))
	for _, k := range list {
		out = append(out, keyOut(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out, "next_cursor": next})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if !validKeyID(id) {
		return notFound("Key")
	}
	k, err := s.store.GetAPIKey(r.Context(), id)
	if err != nil {
		return storeError(err, "Key")
	}
	if !p.sees(k.TenantID) {
		return notFound("Key")
	}
	if !p.mayGovern(k.TenantID, k.Role, k.Scopes) {
		return errForbidden
	}
	now := s.now()
	if err := s.store.RevokeAPIKey(r.Context(), id, now, s.event(r, p, "key.revoke", id, k.TenantID, nil)); err != nil {
		if errors.Is(err, ErrConflict) {
			return conflictf("Key is already revoked")
		}
		return storeError(err, "Key")
	}
	k.RevokedAt = now
	writeJSON(w, http.StatusOK, map[string]any{"key": keyOut(k)})
	return nil
}
