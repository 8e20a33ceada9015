package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/licensekit/licensekit/controlplane"
)

// insertEvents appends events inside tx; AUTOINCREMENT gives each a Seq
// that is never reused.
func insertEvents(ctx context.Context, tx *sql.Tx, events []controlplane.Event) error {
	if len(events) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO events (time, actor, action, target, tenant_id, request_id, details)
		VALUES (?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, ev := range events {
		var e enc
		args := []any{e.time(ev.Time), ev.Actor, ev.Action, ev.Target, ev.TenantID, ev.RequestID, e.json(ev.Details)}
		if e.err != nil {
			return e.err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// AppendEvents stores audit events.
func (s *Store) AppendEvents(ctx context.Context, events ...controlplane.Event) error {
	return s.write(ctx, "append events", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		return insertEvents(ctx, tx, events)
	})
}

// ListEvents returns one page of audit events, newest first.
func (s *Store) ListEvents(ctx context.Context, f controlplane.EventFilter) ([]controlplane.Event, string, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Cursor != "" {
		before, err := parseEventCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add(`seq < ?`, before)
	}
	if f.Action != "" {
		add(`action = ?`, f.Action)
	}
	if f.Target != "" {
		add(`target = ?`, f.Target)
	}
	if f.Actor != "" {
		add(`actor = ?`, f.Actor)
	}
	if f.TenantID != "" {
		add(`tenant_id = ?`, f.TenantID)
	}
	if !f.Since.IsZero() {
		add(`time >= ?`, filterTime(f.Since))
	}
	n := limit(f.Page)
	q := `SELECT seq, time, actor, action, target, tenant_id, request_id, details FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, n+1)
	var out []controlplane.Event
	err := s.read(ctx, "list events", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev controlplane.Event
			var t int64
			var details string
			if err := rows.Scan(&ev.Seq, &t, &ev.Actor, &ev.Action, &ev.Target, &ev.TenantID, &ev.RequestID, &details); err != nil {
				return err
			}
			ev.Time = decTime(t)
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
	err := s.read(ctx, "get settings", func(tx *sql.Tx) error {
		var ttls string
		var updated int64
		err := tx.QueryRowContext(ctx, `SELECT grace, heartbeat_interval, offline_lease_ttl, plan_ttls, updated_at FROM settings WHERE id = 1`).
			Scan(&st.Grace, &st.HeartbeatInterval, &st.OfflineLeaseTTL, &ttls, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: settings: %w", controlplane.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var d dec
		d.json(ttls, &st.PlanTTLs)
		st.UpdatedAt = decTime(updated)
		return d.err
	})
	return st, err
}

// PutSettings stores the settings and the events.
func (s *Store) PutSettings(ctx context.Context, st controlplane.Settings, events ...controlplane.Event) error {
	var e enc
	args := []any{int64(st.Grace), int64(st.HeartbeatInterval), int64(st.OfflineLeaseTTL), e.json(st.PlanTTLs), e.time(st.UpdatedAt)}
	if e.err != nil {
		return e.err
	}
	return s.write(ctx, "put settings", controlplane.ErrUnavailable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (id, grace, heartbeat_interval, offline_lease_ttl, plan_ttls, updated_at)
			VALUES (1,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET grace = excluded.grace,
			heartbeat_interval = excluded.heartbeat_interval, offline_lease_ttl = excluded.offline_lease_ttl,
			plan_ttls = excluded.plan_ttls, updated_at = excluded.updated_at`, args...); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}
