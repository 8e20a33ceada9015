package postgres

import (
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

var licenseNames = []string{"id", "tenant_id", "audience", "subject", "tenant_country", "plan", "status",
	"capabilities", "metadata", "issued_at", "expires_at", "max_machines", "primary_token", "secondary_token",
	"primary_digest", "secondary_digest", "heartbeat_interval", "grace", "updated_at"}

var machineNames = []string{"license_id", "fingerprint", "tenant_id", "activated_at", "idempotency_key",
	"last_heartbeat_at", "due_at", "lease_issued_at", "lease_expires_at", "released_at", "dead", "key_slot",
	"key_digest", "offline"}

// cols lists names, each prefixed with p ("" or "m.").
func cols(p string, names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p + n)
	}
	return b.String()
}

// params is "$from, $from+1, …" for n parameters.
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

var (
	licenseCols = cols("", licenseNames)
	machineCols = cols("", machineNames)
	// withMachines selects a licence's columns and its machines' (NULL for
	// a licence without one), a row per machine in activation order.
	withMachines = cols("l.", licenseNames) + ", " + cols("m.", machineNames)
)

func licenseArgs(e *enc, l *controlplane.License) []any {
	return []any{e.str(l.ID), e.str(l.TenantID), e.json(l.Audience), e.str(l.Subject), e.str(l.TenantCountry),
		e.str(l.Plan), e.str(l.Status), e.json(l.Capabilities), e.json(l.Metadata), e.time(l.IssuedAt),
		e.time(l.ExpiresAt), int64(l.MaxMachines), e.str(l.Primary), e.str(l.Secondary), e.str(l.PrimaryDigest),
		e.str(l.SecondaryDigest), int64(l.HeartbeatInterval), int64(l.Grace), e.time(l.UpdatedAt)}
}

// licenseDest is where one row of a licence's columns is scanned.
type licenseDest struct {
	l              controlplane.License
	aud, caps, met []byte
	max, hb, grace int64
}

func (d *licenseDest) targets() []any {
	l := &d.l
	return []any{&l.ID, &l.TenantID, &d.aud, &l.Subject, &l.TenantCountry, &l.Plan, &l.Status, &d.caps, &d.met,
		&l.IssuedAt, &l.ExpiresAt, &d.max, &l.Primary, &l.Secondary, &l.PrimaryDigest, &l.SecondaryDigest,
		&d.hb, &d.grace, &l.UpdatedAt}
}

func (d *licenseDest) license() (controlplane.License, error) {
	l := d.l
	var dc dec
	dc.json(d.aud, &l.Audience)
	dc.json(d.caps, &l.Capabilities)
	dc.json(d.met, &l.Metadata)
	l.MaxMachines, l.HeartbeatInterval, l.Grace = int(d.max), time.Duration(d.hb), time.Duration(d.grace)
	utc(&l.IssuedAt, &l.ExpiresAt, &l.UpdatedAt)
	return l, dc.err
}

// machineDest is where one row of a machine's columns is scanned; the
// columns are NULL when a licence without machines was joined.
type machineDest struct {
	lid, fp, tenant, idem, slot, digest       *string
	act, last, due, leaseIat, leaseExp, relAt *time.Time
	dead, offline                             *bool
}

func (d *machineDest) targets() []any {
	return []any{&d.lid, &d.fp, &d.tenant, &d.act, &d.idem, &d.last, &d.due, &d.leaseIat, &d.leaseExp, &d.relAt,
		&d.dead, &d.slot, &d.digest, &d.offline}
}

func (d *machineDest) machine() (controlplane.Machine, bool) {
	if d.fp == nil {
		return controlplane.Machine{}, false
	}
	m := controlplane.Machine{LicenseID: *d.lid, Fingerprint: *d.fp, TenantID: *d.tenant, ActivatedAt: *d.act,
		IdempotencyKey: *d.idem, LastHeartbeatAt: *d.last, DueAt: *d.due, LeaseIssuedAt: *d.leaseIat,
		LeaseExpiresAt: *d.leaseExp, ReleasedAt: *d.relAt, Dead: *d.dead, KeySlot: *d.slot, KeyDigest: *d.digest,
		Offline: *d.offline}
	utc(&m.ActivatedAt, &m.LastHeartbeatAt, &m.DueAt, &m.LeaseIssuedAt, &m.LeaseExpiresAt, &m.ReleasedAt)
	return m, true
}

// scanLicenses reads rows of withMachines, ordered by licence, and closes
// them.
func scanLicenses(rows pgx.Rows) ([]controlplane.License, error) {
	defer rows.Close()
	var out []controlplane.License
	var ld licenseDest
	var md machineDest
	dest := append(ld.targets(), md.targets()...)
	for rows.Next() {
		ld = licenseDest{}
		md = machineDest{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != ld.l.ID {
			l, err := ld.license()
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		if m, ok := md.machine(); ok {
			last := &out[len(out)-1]
			last.Machines = append(last.Machines, m)
		}
	}
	return out, rows.Err()
}

// scanMachines reads rows of machineCols and closes them.
func scanMachines(rows pgx.Rows) ([]controlplane.Machine, error) {
	defer rows.Close()
	var out []controlplane.Machine
	var md machineDest
	dest := md.targets()
	for rows.Next() {
		md = machineDest{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		m, _ := md.machine()
		out = append(out, m)
	}
	return out, rows.Err()
}

// machineArrays are a licence's machines as column arrays, for unnest.
func machineArrays(e *enc, ms []controlplane.Machine) []any {
	n := len(ms)
	fp, tenant, idem, slot, digest := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	act, last, due, iat, exp, rel := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	dead, offline := make([]bool, n), make([]bool, n)
	pos := make([]int32, n)
	for i, m := range ms {
		fp[i], tenant[i], idem[i], slot[i], digest[i] = e.str(m.Fingerprint), e.str(m.TenantID), e.str(m.IdempotencyKey), e.str(m.KeySlot), e.str(m.KeyDigest)
		act[i], last[i], due[i] = e.time(m.ActivatedAt), e.time(m.LastHeartbeatAt), e.time(m.DueAt)
		iat[i], exp[i], rel[i] = e.time(m.LeaseIssuedAt), e.time(m.LeaseExpiresAt), e.time(m.ReleasedAt)
		dead[i], offline[i], pos[i] = m.Dead, m.Offline, int32(i)
	}
	return []any{fp, pos, tenant, act, idem, last, due, iat, exp, rel, dead, slot, digest, offline}
}

// insertMachines inserts the machines of licence $1 from machineArrays in
// $2…$15; on a binding that exists it stores what changed.
const insertMachines = `INSERT INTO machines (license_id, fingerprint, pos, tenant_id, activated_at, idempotency_key,
	last_heartbeat_at, due_at, lease_issued_at, lease_expires_at, released_at, dead, key_slot, key_digest, offline)
SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[],
	$8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::boolean[], $13::text[],
	$14::text[], $15::boolean[])
ON CONFLICT (license_id, fingerprint) DO UPDATE SET pos = excluded.pos, tenant_id = excluded.tenant_id,
	activated_at = excluded.activated_at, idempotency_key = excluded.idempotency_key,
	last_heartbeat_at = excluded.last_heartbeat_at, due_at = excluded.due_at,
	lease_issued_at = excluded.lease_issued_at, lease_expires_at = excluded.lease_expires_at,
	released_at = excluded.released_at, dead = excluded.dead, key_slot = excluded.key_slot,
	key_digest = excluded.key_digest, offline = excluded.offline
WHERE (machines.pos, machines.tenant_id, machines.activated_at, machines.idempotency_key, machines.last_heartbeat_at,
	machines.due_at, machines.lease_issued_at, machines.lease_expires_at, machines.released_at, machines.dead,
	machines.key_slot, machines.key_digest, machines.offline)
	IS DISTINCT FROM (excluded.pos, excluded.tenant_id, excluded.activated_at, excluded.idempotency_key,
	excluded.last_heartbeat_at, excluded.due_at, excluded.lease_issued_at, excluded.lease_expires_at,
	excluded.released_at, excluded.dead, excluded.key_slot, excluded.key_digest, excluded.offline)`
