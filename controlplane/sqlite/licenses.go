package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/licensekit/licensekit/controlplane"
)

const licenseCols = `id, tenant_id, audience, subject, tenant_country, plan, status, capabilities, metadata,
	issued_at, expires_at, max_machines, primary_token, secondary_token, primary_digest, secondary_digest,
	heartbeat_interval, grace, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanLicense(row scanner) (controlplane.License, error) {
	var l controlplane.License
	var aud, caps, meta string
	var issued, expires, updated int64
	err := row.Scan(&l.ID, &l.TenantID, &aud, &l.Subject, &l.TenantCountry, &l.Plan, &l.Status, &caps, &meta,
		&issued, &expires, &l.MaxMachines, &l.Primary, &l.Secondary, &l.PrimaryDigest, &l.SecondaryDigest,
		&l.HeartbeatInterval, &l.Grace, &updated)
	if err != nil {
		return l, err
	}
	var d dec
	d.json(aud, &l.Audience)
	d.json(caps, &l.Capabilities)
	d.json(meta, &l.Metadata)
	l.IssuedAt, l.ExpiresAt, l.UpdatedAt = decTime(issued), decTime(expires), decTime(updated)
	return l, d.err
}

func licenseArgs(e *enc, l *controlplane.License) []any {
	return []any{l.ID, l.TenantID, e.json(l.Audience), l.Subject, l.TenantCountry, l.Plan, l.Status,
		e.json(l.Capabilities), e.json(l.Metadata), e.time(l.IssuedAt), e.time(l.ExpiresAt), l.MaxMachines,
		l.Primary, l.Secondary, l.PrimaryDigest, l.SecondaryDigest,
		int64(l.HeartbeatInterval), int64(l.Grace), e.time(l.UpdatedAt)}
}

// checkMachines owns l's machines and refuses a fingerprint listed twice.
func checkMachines(l *controlplane.License) error {
	seen := make(map[string]bool, len(l.Machines))
	for i := range l.Machines {
		m := &l.Machines[i]
		if seen[m.Fingerprint] {
			return invalid("licence %.40q: fingerprint %.40q listed twice", l.ID, m.Fingerprint)
		}
		seen[m.Fingerprint] = true
		m.LicenseID, m.TenantID = l.ID, l.TenantID
	}
	return nil
}

// putMachines replaces the licence's bindings with l.Machines.
func putMachines(ctx context.Context, tx *sql.Tx, l *controlplane.License, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM machines WHERE license_id = ?`, l.ID); err != nil {
			return err
		}
	}
	if len(l.Machines) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO machines (`+machineCols+`, pos) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range l.Machines {
		var e enc
		args := append(machineArgs(&e, &l.Machines[i]), i)
		if e.err != nil {
			return e.err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// CreateLicense stores a new licence, its machines, idempotency entry and
// events in one transaction.
func (s *Store) CreateLicense(ctx context.Context, l controlplane.License, idem *controlplane.Idempotency, events ...controlplane.Event) error {
	l.Machines = append([]controlplane.Machine(nil), l.Machines...)
	if err := checkMachines(&l); err != nil {
		return err
	}
	var e enc
	args := licenseArgs(&e, &l)
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "create licence", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO licenses (`+licenseCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...); err != nil {
			return err
		}
		if idem != nil {
			var e enc
			_, err := tx.ExecContext(ctx, `INSERT INTO idempotency (actor, key, request_hash, license_id, created_at) VALUES (?,?,?,?,?)`,
				idem.Actor, idem.Key, idem.RequestHash, idem.LicenseID, e.time(idem.CreatedAt))
			if e.err != nil {
				return e.err
			}
			if err != nil {
				return err
			}
		}
		if err := putMachines(ctx, tx, &l, false); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

// Queries of getLicense, prepared once per connection (see [readStmts]).
const (
	getLicenseSQL  = `SELECT ` + licenseCols + ` FROM licenses WHERE id = ?`
	getMachinesSQL = `SELECT ` + machineCols + ` FROM machines WHERE license_id = ? ORDER BY pos`
)

// readStmts are getLicense's two queries prepared on one *sql.DB. Every
// heartbeat reads a licence, and SQLite spends most of a small query's
// time parsing it; database/sql keeps a statement prepared on each
// connection it has run on, so a prepared query is parsed once per
// connection rather than once per call.
type readStmts struct{ license, machines *sql.Stmt }

func prepareReads(ctx context.Context, db *sql.DB) (*readStmts, error) {
	lic, err := db.PrepareContext(ctx, getLicenseSQL)
	if err != nil {
		return nil, err
	}
	mach, err := db.PrepareContext(ctx, getMachinesSQL)
	if err != nil {
		lic.Close()
		return nil, err
	}
	return &readStmts{license: lic, machines: mach}, nil
}

func (r *readStmts) close() {
	r.license.Close()
	r.machines.Close()
}

// getLicense reads a licence and its machines inside tx, a transaction of
// the *sql.DB that st was prepared on.
func getLicense(ctx context.Context, tx *sql.Tx, st *readStmts, id string) (controlplane.License, error) {
	l, err := scanLicense(tx.StmtContext(ctx, st.license).QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("sqlite: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	if err != nil {
		return l, err
	}
	rows, err := tx.StmtContext(ctx, st.machines).QueryContext(ctx, id)
	if err != nil {
		return l, err
	}
	l.Machines, err = scanMachines(rows)
	return l, err
}

// GetLicense returns a licence with its machines.
func (s *Store) GetLicense(ctx context.Context, id string) (controlplane.License, error) {
	var l controlplane.License
	err := s.read(ctx, "get licence", func(tx *sql.Tx) error {
		var err error
		l, err = getLicense(ctx, tx, s.rq, id)
		return err
	})
	return l, err
}

// ListLicenses returns one page of licences in ascending ID order.
func (s *Store) ListLicenses(ctx context.Context, f controlplane.LicenseFilter) ([]controlplane.License, string, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Cursor != "" {
		add(`id > ?`, f.Cursor)
	}
	if f.TenantID != "" {
		add(`tenant_id = ?`, f.TenantID)
	}
	if f.Status != "" {
		add(`status = ?`, f.Status)
	}
	if f.Plan != "" {
		add(`plan = ?`, f.Plan)
	}
	if !f.ExpiresBefore.IsZero() {
		add(`expires_at < ?`, filterTime(f.ExpiresBefore))
	}
	if f.IDPrefix != "" {
		add(`substr(CAST(id AS BLOB), 1, ?) = CAST(? AS BLOB)`, len(f.IDPrefix), f.IDPrefix)
	}
	n := limit(f.Page)
	q := `SELECT ` + licenseCols + ` FROM licenses`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, n+1)

	var out []controlplane.License
	next := ""
	err := s.read(ctx, "list licences", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLicense(rows)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) > n {
			out = out[:n]
			next = out[n-1].ID
		}
		return attachMachines(ctx, tx, out)
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// attachMachines reads the machines of ls in one query.
func attachMachines(ctx context.Context, tx *sql.Tx, ls []controlplane.License) error {
	if len(ls) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ls))
	args := make([]any, len(ls))
	for i, l := range ls {
		idx[l.ID] = i
		args[i] = l.ID
	}
	q := `SELECT ` + machineCols + ` FROM machines WHERE license_id IN (?` + strings.Repeat(",?", len(ls)-1) + `) ORDER BY license_id, pos`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	ms, err := scanMachines(rows)
	if err != nil {
		return err
	}
	for _, m := range ms {
		i := idx[m.LicenseID]
		ls[i].Machines = append(ls[i].Machines, m)
	}
	return nil
}

// UpdateLicense reads the licence in a BEGIN IMMEDIATE transaction, so
// that no other writer runs between the read and the write, applies fn and
// stores the result with fn's events.
func (s *Store) UpdateLicense(ctx context.Context, id string, fn func(l *controlplane.License) ([]controlplane.Event, error)) (controlplane.License, error) {
	var out controlplane.License
	var fnErr error
	err := s.write(ctx, "update licence", controlplane.ErrConflict, func(tx *sql.Tx) error {
		l, err := getLicense(ctx, tx, s.wq, id)
		if err != nil {
			return err
		}
		events, err := fn(&l)
		if err != nil {
			fnErr = err
			return err
		}
		l.ID = id
		l.Machines = append([]controlplane.Machine(nil), l.Machines...)
		if err := checkMachines(&l); err != nil {
			return err
		}
		var e enc
		args := licenseArgs(&e, &l)
		if e.err != nil {
			return e.err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE licenses SET (`+licenseCols+`) = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?`,
			append(args, id)...); err != nil {
			return err
		}
		if err := putMachines(ctx, tx, &l, true); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, events); err != nil {
			return err
		}
		out, err = getLicense(ctx, tx, s.wq, id)
		return err
	})
	if fnErr != nil {
		return controlplane.License{}, fnErr
	}
	if err != nil {
		return controlplane.License{}, err
	}
	return out, nil
}

// LookupIdempotency returns the entry for (actor, key).
func (s *Store) LookupIdempotency(ctx context.Context, actor, key string) (controlplane.Idempotency, error) {
	var out controlplane.Idempotency
	err := s.read(ctx, "look up idempotency key", func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT actor, key, request_hash, license_id, created_at FROM idempotency WHERE actor = ? AND key = ?`,
			actor, key).Scan(&out.Actor, &out.Key, &out.RequestHash, &out.LicenseID, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: idempotency key of %.40q: %w", actor, controlplane.ErrNotFound)
		}
		out.CreatedAt = decTime(created)
		return err
	})
	return out, err
}
