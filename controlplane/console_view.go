package controlplane

import (
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// moment is an instant as pages show it: relative ("3 min ago"), with the
// exact time in a title and a machine-readable datetime.
type moment struct {
	ISO, Exact, Rel string
	Past            bool
}

// funcs are the helpers templates may call. None returns markup: every
// value is escaped by html/template for where it lands.
func (c *consoleUI) funcs() template.FuncMap {
	return template.FuncMap{
		"when": func(v any) moment { return when(v, c.s.now()) },
		"join": strings.Join,
		"short": func(s string, n int) string {
			if len(s) <= n {
				return s
			}
			return s[:n] + "…"
		},
		"sortedKeys": func(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) },
		"has":        slices.Contains[[]string, string],
		"list":       func(s ...string) []string { return s },
		"hasPrefix":  strings.HasPrefix,
	}
}

// when reads an API time (RFC 3339 text, or a time.Time) into a moment;
// an empty or unreadable time is the zero moment, which pages show as "—".
func when(v any, now time.Time) moment {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		if x == "" {
			return moment{}
		}
		var err error
		if t, err = time.Parse(time.RFC3339, x); err != nil {
			return moment{}
		}
	}
	if t.IsZero() {
		return moment{}
	}
	return moment{ISO: t.UTC().Format(time.RFC3339), Exact: t.UTC().Format("2006-01-02 15:04:05 UTC"),
		Rel: relative(t, now), Past: !t.After(now)}
}

// relative says how far t is from now in one rounded unit.
func relative(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 45*time.Second:
		if future {
			return "in a few seconds"
		}
		return "just now"
	case d < 90*time.Minute:
		s = plural(int((d+30*time.Second)/time.Minute), "min", "min")
	case d < 48*time.Hour:
		s = plural(int((d+30*time.Minute)/time.Hour), "hour", "hours")
	case d < 60*day:
		s = plural(int((d+12*time.Hour)/day), "day", "days")
	case d < 730*day:
		s = plural(int((d+15*day)/(30*day)), "month", "months")
	default:
		s = plural(int((d+182*day)/(365*day)), "year", "years")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// pager links the pages of a list: the API's lists page by cursor, so a
// page links to the next one and back to the first.
type pager struct {
	First, Next string
}

// newPager builds the links of a list page from the request's query.
func newPager(path string, q url.Values, next string) pager {
	var p pager
	if q.Get("cursor") != "" {
		first := cloneValues(q)
		first.Del("cursor")
		p.First = withQuery(path, first)
	}
	if next != "" {
		n := cloneValues(q)
		n.Set("cursor", next)
		p.Next = withQuery(path, n)
	}
	return p
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// filters copies the named, non-empty, trimmed query parameters.
func filters(q url.Values, names ...string) url.Values {
	out := url.Values{}
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); v != "" {
			out.Set(n, v)
		}
	}
	return out
}

// notices are the messages a redirect after an action may ask for; the
// query names one, the text is ours, so nothing a link carries is shown.
var notices = map[string]string{
	"suspend":          "License suspended. Its machines learn it at their next heartbeat.",
	"restore":          "License restored.",
	"revoke":           "License revoked. Its machines lock at their next heartbeat.",
	"rebind":           "License moved to the new machine. The old one is refused at its next heartbeat.",
	"reset-primary":    "Primary key reset. The new key is below; the secondary key keeps working.",
	"reset-secondary":  "Secondary key reset. The new key is below; the primary key keeps working.",
	"renew":            "License renewed: new expiry, both keys re-issued. Bound machines receive the new key at their next heartbeat.",
	"delete":           "License keys deleted. The licence stays listed as deleted.",
	"directives":       "Heartbeat directives saved.",
	"sweep":            "Sweep done.",
	"signing-create":   "Signing key created. It is published; activate it to sign with it.",
	"signing-activate": "Signing key activated: new keys and leases are signed with it.",
	"signing-retire":   "Signing key retired: it is no longer published.",
	"settings":         "Settings saved.",
	"nothing":          "Nothing changed.",
	"key-revoke":       "API key revoked. Its sessions end with it.",
}
