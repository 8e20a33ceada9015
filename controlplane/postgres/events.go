package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
)

// insertEventsSQL appends events from column arrays in the order given:
// the identity column gives each a Seq that is never reused.
const insertEventsSQL = `INSERT INTO events (time, actor, action, target, tenant_id, request_id, details)
SELECT t, a, ac, tg, tn, r, d::jsonb FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[],
	$6::text[], $7::text[]) WITH ORDINALITY AS e (t, a, ac, tg, tn, r, d, n) ORDER BY n`

// queueEvents queues the insert of events into b, if there are any.
func queueEvents(e *enc, b *pgx.Batch, events []controlplane.Event) {
	if len(events) == 0 {
		return
	}
	n := len(events)
	at := make([]time.Time, n)
	actor, action, target, tenant, req, details := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, ev := range events {
		at[i] = e.time(ev.Time)
		actor[i], action[i], target[i] = e.str(ev.Actor), e.str(ev.Action), e.str(ev.Target)
		tenant[i], req[i], details[i] = e.str(ev.TenantID), e.str(ev.RequestID), e.json(ev.Details)
	}
	b.Queue(insertEventsSQL, at, actor, action, target, tenant, req, details)
}

// AppendEvents stores audit events.
func (s *Store) AppendEvents(ctx context.Context, events ...controlplane.Event) error {
	var e enc
	b := &pgx.Batch{}
	queueEvents(&e, b, events)
	if e.err != nil {
		return e.err
	}
	if b.Len() == 0 {
		return s.check(ctx)
	}
	return s.batch(ctx, "append events", b, nil)
}

// ListEvents returns one page of audit events, newest first.
func (s *Store) ListEvents(ctx context.Context, f controlplane.EventFilter) ([]controlplane.Event, string, error) {
	var where []string
	var args []any
	add := func(cond string, a any) {
		args = append(args, a)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Cursor != "" {
		before, err := parseEventCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add(`seq < ?`, before)
	}
	for _, c := range []struct{ col, v string }{{"action", f.Action}, {"target", f.Target}, {"actor", f.Actor}, {"tenant_id", f.TenantID}} {
		if c.v == "" {
			continue
		}
		if !storable(c.v) {
			return nil, "", s.check(ctx) // nothing stored can match
		}
		add(c.col+` = ?`, c.v)
	}
	if !f.Since.IsZero() {
		add(`time >= ?`, filterTime(f.Since))
	}
	n := limit(f.Page)
	q := `SELECT seq, time, actor, action, target, tenant_id, request_id, details FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, n+1)
	q += ` ORDER BY seq DESC LIMIT $` + strconv.Itoa(len(args))
	var out []controlplane.Event
	b := &pgx.Batch{}
	b.Queue(q, args...)
	err := s.batch(ctx, "list events", b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev controlplane.Event
			var details []byte
			if err := rows.Scan(&ev.Seq, &ev.Time, &ev.Actor, &ev.Action, &ev.Target, &ev.TenantID, &ev.RequestID, &details); err != nil {
				return err
			}
			utc(&ev.Time)
			var d dec
			d.json(details, &ev.Details)
			if d.err != nil {
				return d.err
			}
			out = append(out, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > n {
		out = out[:n]
		return out, strconv.FormatInt(out[n-1].Seq, 10), nil
	}
	return out, "", nil
}

// GetSettings returns the stored settings.
func (s *Store) GetSettings(ctx context.Context) (controlplane.Settings, error) {
	var st controlplane.Settings
	b := &pgx.Batch{}
	b.Queue(`SELECT grace, heartbeat_interval, offline_lease_ttl, plan_ttls, updated_at FROM settings WHERE id = 1`)
	err := s.batch(ctx, "get settings", b, func(br pgx.BatchResults) error {
		var grace, hb, ttl int64
		var ttls []byte
		err := br.QueryRow().Scan(&grace, &hb, &ttl, &ttls, &st.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: settings: %w", controlplane.ErrNotFound)
		}
		if err != nil {
			return err
		}
		st.Grace, st.HeartbeatInterval, st.OfflineLeaseTTL = time.Duration(grace), time.Duration(hb), time.Duration(ttl)
		utc(&st.UpdatedAt)
		var d dec
		d.json(ttls, &st.PlanTTLs)
		return d.err
	})
	if err != nil {
		return controlplane.Settings{}, err
	}
	return st, nil
}

// PutSettings stores the settings and the events.
func (s *Store) PutSettings(ctx context.Context, st controlplane.Settings, events ...controlplane.Event) error {
	var e enc
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO settings (id, grace, heartbeat_interval, offline_lease_ttl, plan_ttls, updated_at)
		VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET grace = excluded.grace,
		heartbeat_interval = excluded.heartbeat_interval, offline_lease_ttl = excluded.offline_lease_ttl,
		plan_ttls = excluded.plan_ttls, updated_at = excluded.updated_at`,
		int64(st.Grace), int64(st.HeartbeatInterval), int64(st.OfflineLeaseTTL), e.json(st.PlanTTLs), e.time(st.UpdatedAt))
	queueEvents(&e, b, events)
	if e.err != nil {
		return e.err
	}
	return s.batch(ctx, "put settings", b, nil)
}
