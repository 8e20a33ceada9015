package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/licensekit/licensekit/controlplane"
)

var updateLicense = `UPDATE licenses SET (` + licenseCols + `) = (` + params(2, len(licenseNames)) + `) WHERE id = $1`

// UpdateLicense locks the licence row (SELECT … FOR UPDATE) and its
// machines, in fingerprint order, in the round trip that begins the
// transaction; calls fn; and stores the result, its events and COMMIT in a
// second round trip. A concurrent update of the same licence, in this
// process or another, waits for the lock and then reads the committed
// result: updates of one licence are serialised by the database.
func (s *Store) UpdateLicense(ctx context.Context, id string, fn func(l *controlplane.License) ([]controlplane.Event, error)) (controlplane.License, error) {
	if err := s.check(ctx); err != nil {
		return controlplane.License{}, err
	}
	if !storable(id) {
		return controlplane.License{}, fmt.Errorf("postgres: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return controlplane.License{}, fail(ctx, "update licence", err)
	}
	// A connection released inside a transaction is closed by the pool,
	// which rolls the transaction back.
	defer conn.Release()

	l, err := lockLicense(ctx, conn, id)
	if err != nil {
		rollback(ctx, conn)
		return controlplane.License{}, fail(ctx, "update licence", err)
	}
	events, err := fn(&l)
	if err != nil {
		rollback(ctx, conn)
		return controlplane.License{}, err
	}
	l.ID = id
	out, err := storeLicense(ctx, conn, &l, events)
	if err != nil {
		rollback(ctx, conn)
		return controlplane.License{}, fail(ctx, "update licence", err)
	}
	return out, nil
}

// lockLicense begins a transaction on conn and reads the licence with its
// machines, locked, in one round trip.
func lockLicense(ctx context.Context, conn *pgxpool.Conn, id string) (controlplane.License, error) {
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT `+licenseCols+` FROM licenses WHERE id = $1 FOR UPDATE`, id)
	b.Queue(`SELECT `+machineCols+`, pos FROM machines WHERE license_id = $1 ORDER BY fingerprint FOR UPDATE`, id)
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return controlplane.License{}, err
	}
	rows, err := br.Query()
	if err != nil {
		return controlplane.License{}, err
	}
	var ld licenseDest
	found, err := scanOne(rows, ld.targets())
	if err != nil {
		return controlplane.License{}, err
	}
	rows, err = br.Query()
	if err != nil {
		return controlplane.License{}, err
	}
	var md machineDest
	var pos int32
	type placed struct {
		m   controlplane.Machine
		pos int32
	}
	var ms []placed
	for rows.Next() {
		md = machineDest{}
		if err := rows.Scan(append(md.targets(), &pos)...); err != nil {
			rows.Close()
			return controlplane.License{}, err
		}
		m, _ := md.machine()
		ms = append(ms, placed{m, pos})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return controlplane.License{}, err
	}
	if err := br.Close(); err != nil {
		return controlplane.License{}, err
	}
	if !found {
		return controlplane.License{}, fmt.Errorf("postgres: licence %.40q: %w", id, controlplane.ErrNotFound)
	}
	l, err := ld.license()
	if err != nil {
		return l, err
	}
	slices.SortFunc(ms, func(a, b placed) int { return int(a.pos - b.pos) })
	for _, p := range ms {
		l.Machines = append(l.Machines, p.m)
	}
	return l, nil
}

// scanOne scans the first row of rows, if there is one, and closes them.
func scanOne(rows pgx.Rows, dest []any) (bool, error) {
	defer rows.Close()
	found := false
	if rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return false, err
		}
		found = true
	}
	rows.Close()
	return found, rows.Err()
}

// storeLicense writes l, its machines and events, reads back what is
// stored and commits, in one round trip. Only what changed is written:
// the licence row, new and changed bindings, and the removal of bindings
// that are gone.
func storeLicense(ctx context.Context, conn *pgxpool.Conn, l *controlplane.License, events []controlplane.Event) (controlplane.License, error) {
	if err := checkMachines(l); err != nil {
		return controlplane.License{}, err
	}
	var e enc
	b := &pgx.Batch{}
	b.Queue(updateLicense, append([]any{l.ID}, licenseArgs(&e, l)...)...)
	fps := make([]string, len(l.Machines))
	for i, m := range l.Machines {
		fps[i] = m.Fingerprint
	}
	b.Queue(`DELETE FROM machines WHERE license_id = $1 AND fingerprint <> ALL ($2::text[])`, l.ID, fps)
	if len(l.Machines) > 0 {
		b.Queue(insertMachines, append([]any{l.ID}, machineArrays(&e, l.Machines)...)...)
	}
	queueEvents(&e, b, events)
	if e.err != nil {
		return controlplane.License{}, e.err
	}
	b.Queue(selectLicense, l.ID)
	b.Queue(`COMMIT`)
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	for range b.Len() - 2 {
		if _, err := br.Exec(); err != nil {
			return controlplane.License{}, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return controlplane.License{}, err
	}
	out, err := scanLicenses(rows)
	if err != nil {
		return controlplane.License{}, err
	}
	if _, err := br.Exec(); err != nil {
		return controlplane.License{}, err
	}
	if err := br.Close(); err != nil {
		return controlplane.License{}, err
	}
	if len(out) != 1 {
		return controlplane.License{}, fmt.Errorf("postgres: licence %.40q vanished: %w", l.ID, controlplane.ErrConflict)
	}
	return out[0], nil
}

// rollback ends the transaction left open on conn. If that fails, the
// pool closes the connection on release, which ends it too.
func rollback(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, `ROLLBACK`)
}
