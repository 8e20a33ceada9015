package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

// checkMachines owns l's machines and refuses a fingerprint listed twice.
func checkMachines(l *controlplane.License) error {
	l.Machines = append([]controlplane.Machine(nil), l.Machines...)
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

var insertLicense = `INSERT INTO licenses (` + licenseCols + `) VALUES (` + params(1, len(licenseNames)) + `)`

// CreateLicense stores a new licence, its machines, idempotency entry and
// events in one round trip and one transaction; the primary keys of the
// licence and of the idempotency entry decide a race.
func (s *Store) CreateLicense(ctx context.Context, l controlplane.License, idem *controlplane.Idempotency, events ...controlplane.Event) error {
	if err := checkMachines(&l); err != nil {
		return err
	}
	var e enc
	b := &pgx.Batch{}
	b.Queue(insertLicense, licenseArgs(&e, &l)...)
	if idem != nil {
		b.Queue(`INSERT INTO idempotency (actor, key, request_hash, license_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
			e.str(idem.Actor), e.str(idem.Key), e.str(idem.RequestHash), e.str(idem.LicenseID), e.time(idem.CreatedAt))
	}
	if len(l.Machines) > 0 {
		b.Queue(insertMachines, append([]any{l.ID}, machineArrays(&e, l.Machines)...)...)
	}
	queueEvents(&e, b, events)
	if e.err != nil {
		return e.err
	}
	return s.batch(ctx, "create licence", b, nil)
}

// selectLicense reads one licence with its machines in one statement, so
// in one snapshot.
var selectLicense = `SELECT ` + withMachines + ` FROM licenses l LEFT JOIN machines m ON m.license_id = l.id
	WHERE l.id = $1 ORDER BY m.pos`

// GetLicense returns a licence with its machines.
func (s *Store) GetLicense(ctx context.Context, id string) (controlplane.License, error) {
	if !storable(id) {
		if err := s.check(ctx); err != nil {
			return controlplane.License{}, err
		}
		return controlplane.License{}, fmt.Errorf("postgres: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	var out []controlplane.License
	b := &pgx.Batch{}
	b.Queue(selectLicense, id)
	err := s.batch(ctx, "get licence", b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		out, err = scanLicenses(rows)
		return err
	})
	if err != nil {
		return controlplane.License{}, err
	}
	if len(out) == 0 {
		return controlplane.License{}, fmt.Errorf("postgres: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	return out[0], nil
}

// ListLicenses returns one page of licences in ascending ID order, with
// their machines, read in one statement.
func (s *Store) ListLicenses(ctx context.Context, f controlplane.LicenseFilter) ([]controlplane.License, string, error) {
	var where []string
	var args []any
	add := func(cond string, a any) {
		args = append(args, a)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Cursor != "" {
		c, err := idCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add(`id > ?`, c)
	}
	for _, c := range []struct{ cond, v string }{{"tenant_id = ?", f.TenantID}, {"status = ?", f.Status}, {"plan = ?", f.Plan},
		{"id >= ? AND starts_with(id, ?)", f.IDPrefix}} {
		if c.v == "" {
			continue
		}
		if !storable(c.v) {
			return nil, "", s.check(ctx) // nothing stored can match
		}
		add(c.cond, c.v)
	}
	if !f.ExpiresBefore.IsZero() {
		add(`expires_at < ?`, filterTime(f.ExpiresBefore))
	}
	n := limit(f.Page)
	q := `SELECT ` + licenseCols + ` FROM licenses`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, n+1)
	q = `WITH l AS (` + q + ` ORDER BY id LIMIT $` + strconv.Itoa(len(args)) + `)
		SELECT ` + withMachines + ` FROM l LEFT JOIN machines m ON m.license_id = l.id ORDER BY l.id, m.pos`
	var out []controlplane.License
	b := &pgx.Batch{}
	b.Queue(q, args...)
	err := s.batch(ctx, "list licences", b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		out, err = scanLicenses(rows)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > n {
		out = out[:n]
		return out, out[n-1].ID, nil
	}
	return out, "", nil
}

// LookupIdempotency returns the entry for (actor, key).
func (s *Store) LookupIdempotency(ctx context.Context, actor, key string) (controlplane.Idempotency, error) {
	var out controlplane.Idempotency
	if !storable(actor) || !storable(key) {
		if err := s.check(ctx); err != nil {
			return out, err
		}
		return out, fmt.Errorf("postgres: idempotency key of %.40q: %w", actor, controlplane.ErrNotFound)
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT actor, key, request_hash, license_id, created_at FROM idempotency WHERE actor = $1 AND key = $2`, actor, key)
	err := s.batch(ctx, "look up idempotency key", b, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&out.Actor, &out.Key, &out.RequestHash, &out.LicenseID, &out.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: idempotency key of %.40q: %w", actor, controlplane.ErrNotFound)
		}
		utc(&out.CreatedAt)
		return err
	})
	if err != nil {
		return controlplane.Idempotency{}, err
	}
	return out, nil
}
