package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

// sweepLicenses expires the licences due at $1, locked in id order, and
// audits each change in the same statement.
const sweepLicenses = `WITH due AS MATERIALIZED (
	SELECT id, tenant_id, status FROM licenses
	WHERE status IN ('active', 'suspended') AND expires_at < $1 ORDER BY id FOR UPDATE
), upd AS (
	UPDATE licenses l SET status = 'expired', updated_at = $1 FROM due WHERE l.id = due.id
	RETURNING due.id, due.tenant_id, due.status
), ev AS (
	INSERT INTO events (time, actor, action, target, tenant_id, request_id, details)
	SELECT $1, $2::text, 'license.sweep', id, tenant_id, $3::text, jsonb_build_object('from', status) FROM upd ORDER BY id
)
SELECT id FROM upd ORDER BY id`

// sweepMachines marks dead the bindings whose lease ended before $1,
// locked in (licence, fingerprint) order, and audits each one.
var sweepMachines = `WITH due AS MATERIALIZED (
	SELECT license_id, fingerprint FROM machines WHERE NOT dead AND lease_expires_at < $1
	ORDER BY license_id, fingerprint FOR UPDATE
), upd AS (
	UPDATE machines m SET dead = true FROM due
	WHERE m.license_id = due.license_id AND m.fingerprint = due.fingerprint AND NOT m.dead AND m.lease_expires_at < $1
	RETURNING ` + cols("m.", machineNames) + `
), ev AS (
	INSERT INTO events (time, actor, action, target, tenant_id, request_id, details)
	SELECT $1, $2::text, 'machine.dead', license_id, tenant_id, $3::text, jsonb_build_object('fingerprint', fingerprint)
	FROM upd ORDER BY license_id, fingerprint
)
SELECT ` + machineCols + ` FROM upd ORDER BY license_id, fingerprint`

// Sweep expires licences and marks machines dead at now, with their
// events, in one round trip and one transaction that first takes a
// transaction-level advisory lock: concurrent sweeps, in any process, run
// one after another, and each one's statements see what the one before
// committed, so a change is made and audited once.
func (s *Store) Sweep(ctx context.Context, now time.Time, actor, requestID string) (controlplane.SweepResult, error) {
	var e enc
	at := e.time(now)
	actor, requestID = e.str(actor), e.str(requestID)
	if e.err != nil {
		return controlplane.SweepResult{}, e.err
	}
	var res controlplane.SweepResult
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockSweep)
	b.Queue(sweepLicenses, at, actor, requestID)
	b.Queue(sweepMachines, at, actor, requestID)
	err := s.batch(ctx, "sweep", b, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		res.Expired, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		rows, err = br.Query()
		if err != nil {
			return err
		}
		res.Dead, err = scanMachines(rows)
		return err
	})
	if err != nil {
		return controlplane.SweepResult{}, err
	}
	return res, nil
}
