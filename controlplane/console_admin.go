package controlplane

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Signing Keys (super_admin only).

// signingKeyRow is a signing key as the console lists it.
type signingKeyRow struct {
	KID         string `json:"kid"`
	Alg         string `json:"alg"`
	State       string `json:"state"`
	CreatedAt   string `json:"created_at"`
	ActivatedAt string `json:"activated_at"`
	RetiredAt   string `json:"retired_at"`
}

type signingView struct {
	Keys []signingKeyRow
	Algs []string
	Kid  string // the key a retire confirmation is about
}

func (c *consoleUI) signingPage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	var ans struct {
		Keys []signingKeyRow `json:"signing_keys"`
	}
	if err := c.get(r, u, "/signing-keys", nil, &ans); err != nil {
		return err
	}
	slices.Reverse(ans.Keys) // newest first
	c.render(w, r, http.StatusOK, "signing", view{Title: "Signing Keys", Nav: "signing", User: u,
		Notice: notices[r.URL.Query().Get("done")], Page: signingView{Keys: ans.Keys, Algs: signingAlgs}})
	return nil
}

func (c *consoleUI) createSigning(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	if err := c.do(r, u, http.MethodPost, "/signing-keys", map[string]string{"alg": r.PostForm.Get("alg")}, nil); err != nil {
		return err
	}
	http.Redirect(w, r, consolePrefix+"/signing?done=signing-create", http.StatusSeeOther)
	return nil
}

func (c *consoleUI) activateSigning(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	kid := r.PathValue("kid")
	if !validID(kid) {
		return notFound("Signing key")
	}
	if err := c.do(r, u, http.MethodPost, "/signing-keys/"+kid+"/activate", nil, nil); err != nil {
		return err
	}
	http.Redirect(w, r, consolePrefix+"/signing?done=signing-activate", http.StatusSeeOther)
	return nil
}

func (c *consoleUI) retireSigningConfirm(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	kid := r.PathValue("kid")
	var ans struct {
		Keys []signingKeyRow `json:"signing_keys"`
	}
	if err := c.get(r, u, "/signing-keys", nil, &ans); err != nil {
		return err
	}
	i := slices.IndexFunc(ans.Keys, func(k signingKeyRow) bool { return k.KID == kid })
	if i < 0 {
		return notFound("Signing key")
	}
	c.render(w, r, http.StatusOK, "retire", view{Title: "Retire a signing key", Nav: "signing", User: u,
		Page: signingView{Keys: ans.Keys[i : i+1], Kid: kid}})
	return nil
}

func (c *consoleUI) retireSigning(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	kid := r.PathValue("kid")
	if !validID(kid) {
		return notFound("Signing key")
	}
	if r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, consolePrefix+"/signing/"+kid+"/retire", http.StatusSeeOther)
		return nil
	}
	if err := c.do(r, u, http.MethodPost, "/signing-keys/"+kid+"/retire", nil, nil); err != nil {
		return err
	}
	http.Redirect(w, r, consolePrefix+"/signing?done=signing-retire", http.StatusSeeOther)
	return nil
}

// Settings (super_admin only).

// settingFields are the settings form's fields: the form's name, its
// label, and the member of PUT /settings it sets.
var settingFields = []struct{ Name, Label, Plan string }{
	{"grace", "Grace", ""},
	{"heartbeat_interval", "Heartbeat interval", ""},
	{"offline_lease_ttl", "Offline lease TTL", ""},
	{"plan_ttl_monthly", "Monthly TTL", "monthly"},
	{"plan_ttl_yearly", "Yearly TTL", "yearly"},
	{"plan_ttl_community", "Community TTL", "community"},
	{"plan_ttl_custom", "Custom TTL", "custom"},
}

type settingsView struct {
	S      settingsJSON
	Values map[string]string
	Fields []struct{ Name, Label, Plan string }
}

func (s settingsJSON) values() map[string]string {
	v := map[string]string{"grace": s.Grace, "heartbeat_interval": s.HeartbeatInterval, "offline_lease_ttl": s.OfflineLeaseTTL}
	for p, d := range s.PlanTTLs {
		v["plan_ttl_"+p] = d
	}
	return v
}

func (c *consoleUI) currentSettings(r *http.Request, u *consoleUser) (settingsJSON, error) {
	var ans struct {
		Settings settingsJSON `json:"settings"`
	}
	err := c.get(r, u, "/settings", nil, &ans)
	return ans.Settings, err
}

func (c *consoleUI) settingsPage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	s, err := c.currentSettings(r, u)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "settings", view{Title: "Settings", Nav: "settings", User: u,
		Notice: notices[r.URL.Query().Get("done")], Page: settingsView{S: s, Values: s.values(), Fields: settingFields}})
	return nil
}

// saveSettings sends PUT /settings with the fields that changed; members
// left out stay as they are.
func (c *consoleUI) saveSettings(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	cur, err := c.currentSettings(r, u)
	if err != nil {
		return err
	}
	old := cur.values()
	body, planTTLs := map[string]any{}, map[string]string{}
	typed := map[string]string{}
	for _, f := range settingFields {
		v := strings.TrimSpace(r.PostForm.Get(f.Name))
		typed[f.Name] = v
		if v == "" || v == old[f.Name] {
			continue
		}
		if f.Plan != "" {
			planTTLs[f.Plan] = v
		} else {
			body[f.Name] = v
		}
	}
	if len(planTTLs) > 0 {
		body["plan_ttls"] = planTTLs
	}
	if len(body) == 0 {
		http.Redirect(w, r, consolePrefix+"/settings?done=nothing", http.StatusSeeOther)
		return nil
	}
	if err := c.do(r, u, http.MethodPut, "/settings", body, nil); err != nil {
		ae, ok := err.(*apiError)
		if !ok || ae.status != http.StatusBadRequest {
			return err
		}
		c.render(w, r, ae.status, "settings", view{Title: "Settings", Nav: "settings", User: u, Error: ae.message,
			Page: settingsView{S: cur, Values: typed, Fields: settingFields}})
		return nil
	}
	http.Redirect(w, r, consolePrefix+"/settings?done=settings", http.StatusSeeOther)
	return nil
}

// API keys.

type keysView struct {
	Filters   url.Values
	Keys      []keyJSON
	Pager     pager
	Created   *keyJSON // the key just created, with its secret: shown once
	Roles     []string
	Scopes    []string
	Form      keyForm
	MayGovern map[string]bool   // key id → whether this user may revoke it
	States    map[string]string // key id → active, expired or revoked
	Tenants   bool
	Self      string
}

type keyForm struct {
	TenantID, Name, Role, Expires string
	Scopes                        []string
}

func (c *consoleUI) keysView(r *http.Request, u *consoleUser) (keysView, error) {
	q := r.URL.Query()
	f := filters(q, "tenant_id")
	api := cloneValues(f)
	api.Set("limit", "50")
	if cur := q.Get("cursor"); cur != "" {
		api.Set("cursor", cur)
	}
	var ans struct {
		Keys []keyJSON `json:"keys"`
		Next string    `json:"next_cursor"`
	}
	if err := c.get(r, u, "/keys", api, &ans); err != nil {
		return keysView{}, err
	}
	v := keysView{Filters: f, Keys: ans.Keys, Pager: newPager(consolePrefix+"/keys", filters(q, "tenant_id", "cursor"), ans.Next),
		Scopes: knownScopes, MayGovern: map[string]bool{}, States: map[string]string{}, Tenants: u.p.tenant == "", Self: u.key.ID,
		Form: keyForm{TenantID: u.p.tenant, Role: DefaultRole, Scopes: DefaultScopes}}
	for _, role := range []string{RoleOnboarding, RoleSupport, RoleSuperAdmin} {
		if roleRank[role] <= roleRank[u.p.role] {
			v.Roles = append(v.Roles, role)
		}
	}
	for _, k := range ans.Keys {
		v.MayGovern[k.ID] = k.RevokedAt == "" && u.p.mayGovern(k.TenantID, k.Role, k.Scopes)
		switch {
		case k.RevokedAt != "":
			v.States[k.ID] = StatusRevoked
		case k.ExpiresAt != "" && when(k.ExpiresAt, c.s.now()).Past:
			v.States[k.ID] = StatusExpired
		default:
			v.States[k.ID] = StatusActive
		}
	}
	return v, nil
}

func (c *consoleUI) keysPage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	v, err := c.keysView(r, u)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "keys", view{Title: "API keys", Nav: "keys", User: u, Notice: notices[r.URL.Query().Get("done")], Page: v})
	return nil
}

// createAPIKey posts POST /keys and shows the secret on this one answer,
// which is never cached; no later page can show it again.
func (c *consoleUI) createAPIKey(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	f := r.PostForm
	form := keyForm{TenantID: strings.TrimSpace(f.Get("tenant_id")), Name: strings.TrimSpace(f.Get("name")),
		Role: f.Get("role"), Expires: strings.TrimSpace(f.Get("expires")), Scopes: f["scopes"]}
	body := map[string]any{"name": form.Name, "scopes": nonNil(form.Scopes)}
	if u.p.tenant == "" || form.TenantID != "" {
		body["tenant_id"] = form.TenantID
	}
	if form.Role != "" {
		body["role"] = form.Role
	}
	if form.Expires != "" {
		body["expires"] = form.Expires
	}
	var ans struct {
		Key keyJSON `json:"key"`
	}
	err := c.do(r, u, http.MethodPost, "/keys", body, &ans)
	v, lerr := c.keysView(r, u)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		ae, ok := err.(*apiError)
		if !ok || ae.status >= 500 || ae.status == http.StatusTooManyRequests {
			return err
		}
		v.Form = form
		c.render(w, r, ae.status, "keys", view{Title: "API keys", Nav: "keys", User: u, Error: ae.message, Page: v})
		return nil
	}
	v.Created = &ans.Key
	c.render(w, r, http.StatusCreated, "keys", view{Title: "API keys", Nav: "keys", User: u, Page: v})
	return nil
}

func (c *consoleUI) revokeKeyConfirm(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	id := r.PathValue("id")
	k, err := c.apiKey(r, u, id)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "revoke-key", view{Title: "Revoke an API key", Nav: "keys", User: u,
		Page: struct {
			K    keyJSON
			Self bool
		}{k, k.ID == u.key.ID}})
	return nil
}

// apiKey finds one key among those the user may list; another tenant's
// key is not found, as in the API.
func (c *consoleUI) apiKey(r *http.Request, u *consoleUser, id string) (keyJSON, error) {
	if !validKeyID(id) {
		return keyJSON{}, notFound("Key")
	}
	k, err := c.s.store.GetAPIKey(r.Context(), id)
	if err != nil {
		return keyJSON{}, storeError(err, "Key")
	}
	if !u.p.sees(k.TenantID) {
		return keyJSON{}, notFound("Key")
	}
	return keyOut(k), nil
}

func (c *consoleUI) revokeAPIKey(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	id := r.PathValue("id")
	if !validKeyID(id) {
		return notFound("Key")
	}
	if r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, consolePrefix+"/keys/"+id+"/revoke", http.StatusSeeOther)
		return nil
	}
	if err := c.do(r, u, http.MethodPost, "/keys/"+id+"/revoke", nil, nil); err != nil {
		return err
	}
	if id == u.key.ID {
		return c.logout(w, r, u)
	}
	http.Redirect(w, r, consolePrefix+"/keys?done=key-revoke", http.StatusSeeOther)
	return nil
}

// Audit.

type auditView struct {
	Filters url.Values
	Events  []eventJSON
	Pager   pager
	Actions []string
}

var auditActions = []string{"license.issue", "license.revoke", "license.suspend", "license.restore",
	"license.rebind", "license.reset", "license.renew", "license.delete", "license.directives",
	"license.activate", "license.deactivate", "license.offline_activate", "license.sweep",
	"machine.dead", "signing.manage", "signing.keyset", "settings.update", "key.create", "key.revoke", "console.login"}

func (c *consoleUI) auditPage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	q := r.URL.Query()
	f := filters(q, "action", "target", "actor", "since")
	api := cloneValues(f)
	api.Set("limit", "50")
	if cur := q.Get("cursor"); cur != "" {
		api.Set("cursor", cur)
	}
	v := view{Title: "Audit", Nav: "audit", User: u}
	status := http.StatusOK
	var ans struct {
		Events []eventJSON `json:"events"`
		Next   string      `json:"next_cursor"`
	}
	if err := c.get(r, u, "/audit", api, &ans); err != nil {
		ae, ok := err.(*apiError)
		if !ok || ae.status != http.StatusBadRequest {
			return err
		}
		v.Error, status = ae.message, ae.status
	}
	v.Page = auditView{Filters: f, Events: ans.Events, Actions: auditActions,
		Pager: newPager(consolePrefix+"/audit", filters(q, "action", "target", "actor", "since", "cursor"), ans.Next)}
	c.render(w, r, status, "audit", v)
	return nil
}
