package controlplane

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type heartbeatsView struct {
	Filters    url.Values
	State      string
	States     []string
	Machines   []machineJSON
	Pager      pager
	Directives *licenseJSON // the licence whose directives the form shows
	Settings   *settingsJSON
}

// heartbeatsPage is the fleet: every binding with its last beat and state,
// filtered by state, tenant or licence; and the form of one licence's
// heartbeat directives.
func (c *consoleUI) heartbeatsPage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	q := r.URL.Query()
	f := filters(q, "state", "tenant_id", "license_id")
	api := cloneValues(f)
	api.Set("limit", "50")
	if cur := q.Get("cursor"); cur != "" {
		api.Set("cursor", cur)
	}
	v := view{Title: "Heartbeats", Nav: "heartbeats", User: u, Notice: notices[q.Get("done")]}
	if q.Get("done") == "sweep" {
		v.Notice = "Sweep done: " + plural(atoiOr0(q.Get("expired")), "licence", "licences") + " expired, " +
			plural(atoiOr0(q.Get("dead")), "machine", "machines") + " found dead."
	}
	status := http.StatusOK
	var ans struct {
		Machines []machineJSON `json:"machines"`
		Next     string        `json:"next_cursor"`
	}
	if err := c.get(r, u, "/machines", api, &ans); err != nil {
		ae, ok := err.(*apiError)
		if !ok || ae.status != http.StatusBadRequest {
			return err
		}
		v.Error, status = ae.message, ae.status
	}
	page := heartbeatsView{Filters: f, State: f.Get("state"), States: machineStates, Machines: ans.Machines,
		Pager: newPager(consolePrefix+"/heartbeats", filters(q, "state", "tenant_id", "license_id", "cursor"), ans.Next)}
	if id := f.Get("license_id"); id != "" && u.Can(string(PermLicenseRevoke)) {
		if l, err := c.license(r, u, id); err == nil {
			page.Directives = &l
		}
	}
	if u.Can(string(PermSigningManage)) {
		var s struct {
			Settings settingsJSON `json:"settings"`
		}
		if err := c.get(r, u, "/settings", nil, &s); err == nil {
			page.Settings = &s.Settings
		}
	}
	v.Page = page
	c.render(w, r, status, "heartbeats", v)
	return nil
}

func atoiOr0(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// setDirectives posts the directives form as PUT /licenses/{id}/directives:
// a field left empty follows the settings again (null).
func (c *consoleUI) setDirectives(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	f := r.PostForm
	id := strings.TrimSpace(f.Get("license_id"))
	p := licensePath(id, "/directives")
	if p == "" {
		return validationf("License ID: give the id of a licence, like lic_…")
	}
	body := map[string]any{"heartbeat_interval": nil, "grace": nil}
	if v := strings.TrimSpace(f.Get("heartbeat_interval")); v != "" {
		body["heartbeat_interval"] = v
	}
	if v := strings.TrimSpace(f.Get("grace")); v != "" {
		body["grace"] = v
	}
	if err := c.do(r, u, http.MethodPut, p, body, nil); err != nil {
		return err
	}
	http.Redirect(w, r, consolePrefix+"/heartbeats?license_id="+url.QueryEscape(id)+"&done=directives", http.StatusSeeOther)
	return nil
}

// runSweep posts POST /licenses/health/sweep.
func (c *consoleUI) runSweep(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	var ans struct {
		Expired []string `json:"expired"`
		Dead    []any    `json:"dead"`
	}
	if err := c.do(r, u, http.MethodPost, "/licenses/health/sweep", nil, &ans); err != nil {
		return err
	}
	q := url.Values{"done": {"sweep"}, "expired": {itoa(len(ans.Expired))}, "dead": {itoa(len(ans.Dead))}}
	http.Redirect(w, r, consolePrefix+"/heartbeats?"+q.Encode(), http.StatusSeeOther)
	return nil
}
