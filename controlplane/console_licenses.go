package controlplane

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type licensesView struct {
	Filters  url.Values
	Licenses []licenseJSON
	Pager    pager
	Filtered bool
}

var licenseFilterNames = []string{"tenant_id", "status", "plan", "expiring_within", "q"}

func (c *consoleUI) licensesPage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	q := r.URL.Query()
	f := filters(q, licenseFilterNames...)
	api := cloneValues(f)
	api.Set("limit", "25")
	if cur := q.Get("cursor"); cur != "" {
		api.Set("cursor", cur)
	}
	var ans struct {
		Licenses []licenseJSON `json:"licenses"`
		Next     string        `json:"next_cursor"`
	}
	v := view{Title: "Licenses", Nav: "licenses", User: u}
	page := licensesView{Filters: f, Filtered: len(f) > 0}
	status := http.StatusOK
	if err := c.get(r, u, "/licenses", api, &ans); err != nil {
		ae, ok := err.(*apiError)
		if !ok || ae.status != http.StatusBadRequest {
			return err
		}
		v.Error, status = ae.message, ae.status
	}
	page.Licenses = ans.Licenses
	page.Pager = newPager(consolePrefix+"/", filters(q, append(licenseFilterNames, "cursor")...), ans.Next)
	v.Page = page
	c.render(w, r, status, "licenses", v)
	return nil
}

// licenseForm is the New license form, as typed.
type licenseForm struct {
	TenantID, Audience, Subject, Country, Plan, TTL  string
	Capabilities, Metadata, MaxMachines, Fingerprint string
	IdempotencyKey                                   string
}

func readLicenseForm(f url.Values) licenseForm {
	g := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	return licenseForm{TenantID: g("tenant_id"), Audience: g("audience"), Subject: g("subject"), Country: g("tenant_ctry"),
		Plan: g("plan"), TTL: g("ttl"), Capabilities: g("capabilities"), Metadata: g("metadata"),
		MaxMachines: g("max_machines"), Fingerprint: g("fingerprint"), IdempotencyKey: g("idempotency_key")}
}

// request is the body of POST /licenses the form stands for. Audience is
// one entry per line; capabilities are separated by spaces, commas or
// lines; metadata is one key=value per line.
func (f licenseForm) request() (map[string]any, error) {
	body := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			body[k] = v
		}
	}
	set("tenant_id", f.TenantID)
	set("subject", f.Subject)
	set("tenant_ctry", strings.ToUpper(f.Country))
	set("plan", f.Plan)
	set("ttl", f.TTL)
	set("fingerprint", f.Fingerprint)
	if aud := lines(f.Audience); len(aud) > 0 {
		body["audience"] = aud
	}
	if caps := splitCapabilities(f.Capabilities); len(caps) > 0 {
		body["capabilities"] = caps
	}
	meta, err := parseMetadata(f.Metadata)
	if err != nil {
		return nil, err
	}
	if len(meta) > 0 {
		body["metadata"] = meta
	}
	if f.MaxMachines != "" {
		n, err := strconv.Atoi(f.MaxMachines)
		if err != nil {
			return nil, validationf("Max machines must be a whole number")
		}
		body["max_machines"] = n
	}
	return body, nil
}

// lines returns the non-empty trimmed lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func splitCapabilities(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// parseMetadata reads key=value lines. The API checks keys and values;
// here only the shape: a line without "=", an empty key, or a key given
// twice is refused, naming the line.
func parseMetadata(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, validationf("Metadata line %d: write key=value", i+1)
		case hasKey(out, k):
			return nil, validationf("Metadata line %d: the key %q is given twice", i+1, clip(k, 40))
		}
		out[k] = v
	}
	return out, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

type newLicenseView struct {
	Form    licenseForm
	Issued  *licenseJSON
	Plans   []string
	Tenants bool // whether the key may choose the tenant
}

func (c *consoleUI) newLicensePage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	page := newLicenseView{Plans: plans, Tenants: u.p.tenant == ""}
	if id := r.URL.Query().Get("issued"); id != "" {
		l, err := c.license(r, u, id)
		if err != nil {
			return err
		}
		page.Issued = &l
	}
	page.Form = licenseForm{TenantID: u.p.tenant, IdempotencyKey: newToken()}
	c.render(w, r, http.StatusOK, "license-new", view{Title: "New license", Nav: "new", User: u, Page: page})
	return nil
}

// issue posts the form as POST /licenses, under the form's idempotency
// key: a form sent twice issues one licence.
func (c *consoleUI) issue(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	f := readLicenseForm(r.PostForm)
	if u.p.tenant != "" && f.TenantID == "" {
		f.TenantID = u.p.tenant
	}
	fail := func(err error) error {
		ae, ok := err.(*apiError)
		if !ok || ae.status >= 500 || ae.status == http.StatusTooManyRequests {
			return err
		}
		page := newLicenseView{Form: f, Plans: plans, Tenants: u.p.tenant == ""}
		c.render(w, r, ae.status, "license-new", view{Title: "New license", Nav: "new", User: u, Error: ae.message, Page: page})
		return nil
	}
	body, err := f.request()
	if err != nil {
		return fail(err)
	}
	var hdr []string
	if f.IdempotencyKey != "" {
		hdr = []string{"Idempotency-Key", f.IdempotencyKey}
	}
	var ans struct {
		License licenseJSON `json:"license"`
	}
	if err := c.do(r, u, http.MethodPost, "/licenses", body, &ans, hdr...); err != nil {
		return fail(err)
	}
	http.Redirect(w, r, consolePrefix+"/license-new?issued="+url.QueryEscape(ans.License.ID), http.StatusSeeOther)
	return nil
}

// license reads one licence with its keys, as GET /licenses/{id} shows it.
func (c *consoleUI) license(r *http.Request, u *consoleUser, id string) (licenseJSON, error) {
	p := licensePath(id)
	if p == "" {
		return licenseJSON{}, notFound("License")
	}
	var ans struct {
		License licenseJSON `json:"license"`
	}
	if err := c.get(r, u, p, nil, &ans); err != nil {
		return licenseJSON{}, err
	}
	return ans.License, nil
}

func (c *consoleUI) keyFileDownload(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	id := r.PathValue("id")
	p := licensePath(id, "/keyfile")
	if p == "" {
		return notFound("License")
	}
	slot := r.URL.Query().Get("slot")
	q := url.Values{}
	if slot != "" {
		q.Set("slot", slot)
	}
	a, err := c.call(r, u, http.MethodGet, p, q, nil)
	if err != nil {
		return err
	}
	name := "license.json"
	if slot == SlotPrimary || slot == SlotSecondary {
		name = "license-" + slot + ".json"
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body.Bytes())
	return nil
}
