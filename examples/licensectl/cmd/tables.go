package cmd

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// pairs writes "k=v" pairs sorted by key.
func pairs(m map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, ",")
}

func licenseRows(t *table, ls []licenseObj) {
	t.rawRow("ID", "TENANT", "PLAN", "STATUS", "EXPIRES", "MACHINES", "AUDIENCE")
	for _, l := range ls {
		t.row(l.ID, l.TenantID, l.Plan, l.Status, l.ExpiresAt,
			strconv.Itoa(liveMachines(l.Machines))+"/"+strconv.Itoa(l.MaxMachines), joinClean(l.Audience, "; "))
	}
}

func liveMachines(ms []machineObj) int {
	n := 0
	for _, m := range ms {
		if m.ReleasedAt == "" {
			n++
		}
	}
	return n
}

// licenseDetail writes one licence as name/value rows, its tokens cut,
// then its machines.
func licenseDetail(t *table, l licenseObj) {
	t.row("ID", l.ID)
	t.row("TENANT", l.TenantID)
	t.row("AUDIENCE", joinClean(l.Audience, "; "))
	t.row("SUBJECT", l.Subject)
	t.row("COUNTRY", l.TenantCtry)
	t.row("PLAN", l.Plan)
	t.row("STATUS", l.Status)
	t.row("CAPABILITIES", joinClean(l.Capabilities, ","))
	t.row("METADATA", pairs(l.Metadata))
	t.row("ISSUED", l.IssuedAt)
	t.row("EXPIRES", l.ExpiresAt)
	t.row("MACHINES", strconv.Itoa(liveMachines(l.Machines))+"/"+strconv.Itoa(l.MaxMachines))
	if l.Directives.HeartbeatInterval != nil {
		t.row("HEARTBEAT", *l.Directives.HeartbeatInterval)
	}
	if l.Directives.Grace != nil {
		t.row("GRACE", *l.Directives.Grace)
	}
	if l.Primary != "" || l.Secondary != "" {
		t.rawRow("PRIMARY", cutToken(l.Primary))
		t.rawRow("SECONDARY", cutToken(l.Secondary))
	}
	if len(l.Machines) > 0 {
		t.rawRow("")
		machineRows(t, l.Machines, false)
	}
}

func machineRows(t *table, ms []machineObj, fleet bool) {
	head := []string{"FINGERPRINT", "STATE", "ACTIVATED", "LAST BEAT", "LEASE EXPIRES", "RELEASED"}
	if fleet {
		head = append([]string{"LICENSE", "TENANT"}, head...)
	}
	t.rawRow(head...)
	for _, m := range ms {
		state := m.State
		if m.Offline {
			state += " (offline)"
		}
		row := []string{clean(m.Fingerprint, 28), state, m.ActivatedAt, m.LastHeartbeatAt, m.LeaseExpiresAt, m.ReleasedAt}
		if fleet {
			row = append([]string{m.LicenseID, m.TenantID}, row...)
		}
		t.row(row...)
	}
}

func keyRows(t *table, ks []keyObj) {
	t.rawRow("ID", "NAME", "TENANT", "ROLE", "SCOPES", "SECRET", "CREATED", "EXPIRES", "REVOKED")
	for _, k := range ks {
		t.row(k.ID, k.Name, k.TenantID, k.Role, joinClean(k.Scopes, " "), k.Masked, k.CreatedAt, k.ExpiresAt, k.RevokedAt)
	}
}

// keyDetail writes one API key; the secret only when the answer holds it,
// which is once, at creation.
func keyDetail(t *table, k keyObj) {
	t.row("ID", k.ID)
	t.row("NAME", k.Name)
	t.row("TENANT", k.TenantID)
	t.row("ROLE", k.Role)
	t.row("SCOPES", joinClean(k.Scopes, " "))
	t.row("PERMISSIONS", joinClean(k.Permissions, " "))
	t.row("CREATED", k.CreatedAt)
	t.row("EXPIRES", k.ExpiresAt)
	t.row("REVOKED", k.RevokedAt)
	if k.Secret != "" {
		t.rawRow("SECRET", clean(k.Secret, 512))
	} else {
		t.row("SECRET", k.Masked)
	}
}

func signingKeyRows(t *table, ks []signingKeyObj) {
	t.rawRow("KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED")
	for _, k := range ks {
		t.row(k.KID, k.Alg, k.State, k.CreatedAt, k.ActivatedAt, k.RetiredAt)
	}
}

func eventRows(t *table, es []eventObj) {
	t.rawRow("TIME", "ACTOR", "ACTION", "TARGET", "TENANT", "DETAILS")
	for _, e := range es {
		t.row(e.Time, e.Actor, e.Action, e.Target, e.TenantID, clean(pairs(e.Details), 80))
	}
}

func settingsRows(t *table, s settingsObj) {
	pinned := func(name string) string {
		if slices.Contains(s.PinnedByFlags, name) {
			return " (pinned by a server flag)"
		}
		return ""
	}
	t.rawRow("GRACE", cell(s.Grace)+pinned("grace"))
	t.rawRow("HEARTBEAT INTERVAL", cell(s.HeartbeatInterval)+pinned("heartbeat_interval"))
	t.row("OFFLINE LEASE TTL", s.OfflineLeaseTTL)
	for _, p := range slices.Sorted(maps.Keys(s.PlanTTLs)) {
		t.row("TTL "+strings.ToUpper(p), s.PlanTTLs[p])
	}
	t.row("UPDATED", s.UpdatedAt)
}
