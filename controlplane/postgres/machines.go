package postgres

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

// recordBeats applies a batch of beats, one per binding, in one statement:
// it locks the bindings to change in (licence, fingerprint) order, the
// order every statement here locks machines in, so that writers do not
// deadlock, and updates each one whose stored beat is older and that is
// not released.
const recordBeats = `WITH b AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
		$6::timestamptz[], $7::text[], $8::text[])
		AS b (license_id, fingerprint, at, due_at, lease_issued_at, lease_expires_at, key_slot, key_digest)
), locked AS MATERIALIZED (
	SELECT b.* FROM machines m JOIN b ON m.license_id = b.license_id AND m.fingerprint = b.fingerprint
	WHERE m.released_at = $9 AND m.last_heartbeat_at < b.at
	ORDER BY m.license_id, m.fingerprint
	FOR UPDATE OF m
)
UPDATE machines m SET last_heartbeat_at = l.at, due_at = l.due_at, lease_issued_at = l.lease_issued_at,
	lease_expires_at = l.lease_expires_at, key_slot = l.key_slot, key_digest = l.key_digest, dead = false
FROM locked l
WHERE m.license_id = l.license_id AND m.fingerprint = l.fingerprint AND m.released_at = $9 AND m.last_heartbeat_at < l.at`

// RecordBeats applies the batch in one round trip. Beats of one binding
// applied in order leave the newest one (the first of equals), so only
// that one is sent; a beat naming what no binding can be named is
// dropped.
func (s *Store) RecordBeats(ctx context.Context, beats []controlplane.Beat) error {
	type key struct{ lid, fp string }
	newest := make(map[key]controlplane.Beat, len(beats))
	for _, b := range beats {
		if !storable(b.LicenseID) || !storable(b.Fingerprint) {
			continue
		}
		k := key{b.LicenseID, b.Fingerprint}
		if old, ok := newest[k]; !ok || b.At.After(old.At) {
			newest[k] = b
		}
	}
	if len(newest) == 0 {
		return s.check(ctx)
	}
	list := make([]controlplane.Beat, 0, len(newest))
	for _, b := range newest {
		list = append(list, b)
	}
	slices.SortFunc(list, func(a, b controlplane.Beat) int {
		return cmp.Or(strings.Compare(a.LicenseID, b.LicenseID), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	var e enc
	n := len(list)
	lid, fp, slot, digest := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	at, due, iat, exp := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	for i, b := range list {
		lid[i], fp[i], slot[i], digest[i] = b.LicenseID, b.Fingerprint, e.str(b.KeySlot), e.str(b.KeyDigest)
		at[i], due[i], iat[i], exp[i] = e.time(b.At), e.time(b.DueAt), e.time(b.LeaseIssuedAt), e.time(b.LeaseExpiresAt)
	}
	if e.err != nil {
		return e.err
	}
	b := &pgx.Batch{}
	b.Queue(recordBeats, lid, fp, at, due, iat, exp, slot, digest, time.Time{})
	return s.batch(ctx, "record beats", b, nil)
}

// ListMachines returns one page of bindings in ascending (LicenseID,
// Fingerprint) order.
func (s *Store) ListMachines(ctx context.Context, f controlplane.MachineFilter) ([]controlplane.Machine, string, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		for _, v := range a {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if f.Cursor != "" {
		lid, fp, err := parseMachineCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add(`(license_id, fingerprint) > (?, ?)`, lid, fp)
	}
	for _, c := range []struct{ col, v string }{{"license_id", f.LicenseID}, {"tenant_id", f.TenantID}} {
		if c.v == "" {
			continue
		}
		if !storable(c.v) {
			return nil, "", s.check(ctx) // nothing stored can match
		}
		add(c.col+` = ?`, c.v)
	}
	if f.State != "" {
		if f.Now.IsZero() {
			return nil, "", invalid("machine state filter without a time")
		}
		now := filterTime(f.Now)
		switch f.State {
		case controlplane.MachineAlive:
			add(`NOT dead AND lease_expires_at > ? AND due_at >= ?`, now, now)
		case controlplane.MachineOverdue:
			add(`NOT dead AND lease_expires_at > ? AND due_at < ?`, now, now)
		case controlplane.MachineDead:
			add(`(dead OR lease_expires_at <= ?)`, now)
		default:
			return nil, "", invalid("machine state %.20q", f.State)
		}
	}
	n := limit(f.Page)
	q := `SELECT ` + machineCols + ` FROM machines`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, n+1)
	q += ` ORDER BY license_id, fingerprint LIMIT $` + strconv.Itoa(len(args))
	var out []controlplane.Machine
	b := &pgx.Batch{}
	b.Queue(q, args...)
	err := s.batch(ctx, "list machines", b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		out, err = scanMachines(rows)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > n {
		out = out[:n]
		return out, machineCursor(out[n-1].LicenseID, out[n-1].Fingerprint), nil
	}
	return out, "", nil
}
