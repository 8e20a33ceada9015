package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

const machineCols = `license_id, fingerprint, tenant_id, activated_at, idempotency_key, last_heartbeat_at, due_at,
	lease_issued_at, lease_expires_at, released_at, dead, key_slot, key_digest, offline`

func machineArgs(e *enc, m *controlplane.Machine) []any {
	return []any{m.LicenseID, m.Fingerprint, m.TenantID, e.time(m.ActivatedAt), m.IdempotencyKey,
		e.time(m.LastHeartbeatAt), e.time(m.DueAt), e.time(m.LeaseIssuedAt), e.time(m.LeaseExpiresAt),
		e.time(m.ReleasedAt), e.bool(m.Dead), m.KeySlot, m.KeyDigest, e.bool(m.Offline)}
}

// scanMachines reads and closes rows of machineCols.
func scanMachines(rows *sql.Rows) ([]controlplane.Machine, error) {
	defer rows.Close()
	var out []controlplane.Machine
	for rows.Next() {
		var m controlplane.Machine
		var act, last, due, li, le, rel int64
		if err := rows.Scan(&m.LicenseID, &m.Fingerprint, &m.TenantID, &act, &m.IdempotencyKey, &last, &due,
			&li, &le, &rel, &m.Dead, &m.KeySlot, &m.KeyDigest, &m.Offline); err != nil {
			return nil, err
		}
		m.ActivatedAt, m.LastHeartbeatAt, m.DueAt = decTime(act), decTime(last), decTime(due)
		m.LeaseIssuedAt, m.LeaseExpiresAt, m.ReleasedAt = decTime(li), decTime(le), decTime(rel)
		out = append(out, m)
	}
	return out, rows.Err()
}

// RecordBeats applies the batch in one transaction; a beat updates only an
// unreleased binding whose stored beat is older.
func (s *Store) RecordBeats(ctx context.Context, beats []controlplane.Beat) error {
	if len(beats) == 0 {
		return s.check(ctx)
	}
	args := make([][]any, len(beats))
	for i, b := range beats {
		var e enc
		args[i] = []any{e.time(b.At), e.time(b.DueAt), e.time(b.LeaseIssuedAt), e.time(b.LeaseExpiresAt),
			b.KeySlot, b.KeyDigest, b.LicenseID, b.Fingerprint, zeroMicro, e.time(b.At)}
		if e.err != nil {
			return e.err
		}
	}
	return s.write(ctx, "record beats", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE machines SET last_heartbeat_at = ?, due_at = ?, lease_issued_at = ?,
			lease_expires_at = ?, key_slot = ?, key_digest = ?, dead = 0
			WHERE license_id = ? AND fingerprint = ? AND released_at = ? AND last_heartbeat_at < ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, a := range args {
			if _, err := st.ExecContext(ctx, a...); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListMachines returns one page of bindings in ascending (LicenseID,
// Fingerprint) order.
func (s *Store) ListMachines(ctx context.Context, f controlplane.MachineFilter) ([]controlplane.Machine, string, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Cursor != "" {
		lid, fp, err := parseMachineCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add(`(license_id, fingerprint) > (?, ?)`, lid, fp)
	}
	if f.LicenseID != "" {
		add(`license_id = ?`, f.LicenseID)
	}
	if f.TenantID != "" {
		add(`tenant_id = ?`, f.TenantID)
	}
	if f.State != "" {
		if f.Now.IsZero() {
			return nil, "", invalid("machine state filter without a time")
		}
		now := filterTime(f.Now)
		switch f.State {
		case controlplane.MachineAlive:
			add(`dead = 0 AND lease_expires_at > ? AND due_at >= ?`, now, now)
		case controlplane.MachineOverdue:
			add(`dead = 0 AND lease_expires_at > ? AND due_at < ?`, now, now)
		case controlplane.MachineDead:
			add(`(dead = 1 OR lease_expires_at <= ?)`, now)
		default:
			return nil, "", invalid("machine state %.20q", f.State)
		}
	}
	n := limit(f.Page)
	q := `SELECT ` + machineCols + ` FROM machines`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY license_id, fingerprint LIMIT ?`
	args = append(args, n+1)
	var out []controlplane.Machine
	err := s.read(ctx, "list machines", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
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

// Sweep expires licences and marks machines dead at now in one
// transaction. BEGIN IMMEDIATE makes concurrent sweeps run one after
// another, so the second finds nothing left to change.
func (s *Store) Sweep(ctx context.Context, now time.Time, actor, requestID string) (controlplane.SweepResult, error) {
	var res controlplane.SweepResult
	var e enc
	at := e.time(now)
	if e.err != nil {
		return res, e.err
	}
	now = decTime(at)
	err := s.write(ctx, "sweep", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		res = controlplane.SweepResult{}
		var events []controlplane.Event
		rows, err := tx.QueryContext(ctx, `SELECT id, tenant_id, status FROM licenses
			WHERE status IN ('active', 'suspended') AND expires_at < ? ORDER BY id`, at)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, tenant, status string
			if err := rows.Scan(&id, &tenant, &status); err != nil {
				rows.Close()
				return err
			}
			res.Expired = append(res.Expired, id)
			events = append(events, controlplane.Event{Time: now, Actor: actor, Action: "license.sweep", Target: id,
				TenantID: tenant, RequestID: requestID, Details: map[string]string{"from": status}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE licenses SET status = 'expired', updated_at = ?
			WHERE status IN ('active', 'suspended') AND expires_at < ?`, at, at); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+machineCols+` FROM machines
			WHERE dead = 0 AND lease_expires_at < ? ORDER BY license_id, fingerprint`, at)
		if err != nil {
			return err
		}
		if res.Dead, err = scanMachines(rows); err != nil {
			return err
		}
		for i := range res.Dead {
			m := &res.Dead[i]
			m.Dead = true
			events = append(events, controlplane.Event{Time: now, Actor: actor, Action: "machine.dead", Target: m.LicenseID,
				TenantID: m.TenantID, RequestID: requestID, Details: map[string]string{"fingerprint": m.Fingerprint}})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE machines SET dead = 1 WHERE dead = 0 AND lease_expires_at < ?`, at); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
	if err != nil {
		return controlplane.SweepResult{}, err
	}
	return res, nil
}
