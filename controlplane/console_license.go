package controlplane

import (
	"net/http"
	"net/url"
	"strings"
)

type licenseView struct {
	L       licenseJSON
	Events  []eventJSON
	Check   *validateAnswer
	Slot    string // the slot checked
	Live    []machineJSON
	CanSee  bool // whether the key reads the audit log
	Expired bool
}

// licensePage is where support works: claims, keys, machines, events and
// the actions the key may take.
func (c *consoleUI) licensePage(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	id := r.PathValue("id")
	l, err := c.license(r, u, id)
	if err != nil {
		return err
	}
	v := view{Title: l.ID, Nav: "licenses", User: u, Notice: notices[r.URL.Query().Get("done")]}
	page := licenseView{L: l, CanSee: u.Can(string(PermAuditRead))}
	for _, m := range l.Machines {
		if m.ReleasedAt == "" {
			page.Live = append(page.Live, m)
		}
	}
	if slot := r.URL.Query().Get("check"); slot != "" {
		tok := map[string]string{SlotPrimary: l.Primary, SlotSecondary: l.Secondary}[slot]
		if tok == "" {
			v.Error = "There is no " + clip(slot, 20) + " key to check."
		} else {
			var ans validateAnswer
			if err := c.do(r, u, http.MethodPost, "/licenses/validate", map[string]string{"token": tok}, &ans); err != nil {
				return err
			}
			page.Check, page.Slot = &ans, slot
		}
	}
	if page.CanSee {
		var ans struct {
			Events []eventJSON `json:"events"`
		}
		if err := c.get(r, u, "/audit", url.Values{"target": {l.ID}, "limit": {"50"}}, &ans); err != nil {
			return err
		}
		page.Events = ans.Events
	}
	v.Page = page
	c.render(w, r, http.StatusOK, "license", v)
	return nil
}

type confirmView struct {
	Action  string // revoke, reset, delete
	L       licenseJSON
	Slot    string
	Problem string
}

// confirmPage asks once more before a destructive action: revoke, a reset
// (showing the audience claims the new key will carry), and delete (the
// licence id must be typed).
func confirmPage(action string) consoleHandler {
	return func(c *consoleUI, w http.ResponseWriter, r *http.Request, u *consoleUser) error {
		return c.showConfirm(w, r, u, action, http.StatusOK, "")
	}
}

func (c *consoleUI) showConfirm(w http.ResponseWriter, r *http.Request, u *consoleUser, action string, status int, problem string) error {
	l, err := c.license(r, u, r.PathValue("id"))
	if err != nil {
		return err
	}
	slot := r.URL.Query().Get("slot")
	if r.Method == http.MethodPost {
		slot = r.PostForm.Get("slot")
	}
	if action == "reset" && slot != SlotPrimary && slot != SlotSecondary {
		return validationf("slot must be primary or secondary")
	}
	titles := map[string]string{"revoke": "Revoke " + l.ID, "reset": "Reset the " + slot + " key", "delete": "Delete " + l.ID}
	c.render(w, r, status, "confirm", view{Title: titles[action], Nav: "licenses", User: u,
		Page: confirmView{Action: action, L: l, Slot: slot, Problem: problem}})
	return nil
}

// licenseAction posts one action of the licence page as its API call.
func licenseAction(action string) consoleHandler {
	return func(c *consoleUI, w http.ResponseWriter, r *http.Request, u *consoleUser) error {
		id := r.PathValue("id")
		if !validID(id) {
			return notFound("License")
		}
		f := r.PostForm
		method, path, done := http.MethodPost, licensePath(id, "/"+action), action
		var body any
		switch action {
		case "revoke":
			if f.Get("confirm") != "yes" {
				http.Redirect(w, r, consolePrefix+"/licenses/"+id+"/revoke", http.StatusSeeOther)
				return nil
			}
		case "rebind":
			b := map[string]string{"fingerprint": strings.TrimSpace(f.Get("fingerprint"))}
			if from := strings.TrimSpace(f.Get("from")); from != "" {
				b["from"] = from
			}
			body = b
		case "reset":
			slot := f.Get("slot")
			if f.Get("confirm") != "yes" {
				http.Redirect(w, r, consolePrefix+"/licenses/"+id+"/reset?slot="+url.QueryEscape(slot), http.StatusSeeOther)
				return nil
			}
			body, done = map[string]string{"slot": slot}, "reset-"+slot
		case "renew":
			b := map[string]string{}
			if ttl := strings.TrimSpace(f.Get("ttl")); ttl != "" {
				b["ttl"] = ttl
			}
			body = b
		case "delete":
			if strings.TrimSpace(f.Get("confirm_id")) != id {
				return c.showConfirm(w, r, u, "delete", http.StatusBadRequest,
					"The licence id you typed does not match. Nothing was deleted.")
			}
			method, path = http.MethodDelete, licensePath(id)
		}
		if err := c.do(r, u, method, path, body, nil); err != nil {
			return err
		}
		http.Redirect(w, r, consolePrefix+"/licenses/"+id+"?done="+url.QueryEscape(done), http.StatusSeeOther)
		return nil
	}
}
