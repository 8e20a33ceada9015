package controlplane

import (
	"net/http"
	"time"
)

// event builds an audit event of the request.
func (s *Server) event(r *http.Request, p *principal, action, target, tenant string, details map[string]string) Event {
	return Event{Time: s.now(), Actor: p.actor(), Action: action, Target: target, TenantID: tenant,
		RequestID: requestID(r), Details: details}
}

type eventJSON struct {
	Seq       int64             `json:"seq"`
	Time      string            `json:"time"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	TenantID  string            `json:"tenant_id,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := EventFilter{Action: q.Get("action"), Target: q.Get("target"), Actor: q.Get("actor"), TenantID: p.tenant}
	var err error
	if f.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return err
	}
	if f.Cursor, err = parseCursor(q.Get("cursor")); err != nil {
		return err
	}
	for _, v := range []string{f.Action, f.Target, f.Actor} {
		if v != "" && !visibleASCII(v, maxIDLen) {
			return validationf("action, target and actor must be visible ASCII, at most %d characters", maxIDLen)
		}
	}
	if since := q.Get("since"); since != "" {
		if t, err := time.Parse(time.RFC3339, since); err == nil {
			f.Since = t
		} else {
			d, err := parseDuration(since, maxSince)
			if err != nil {
				return validationf("since must be a duration like 24h or an RFC 3339 time")
			}
			f.Since = s.now().Add(-d)
		}
	}
	list, next, err := s.store.ListEvents(r.Context(), f)
	if err != nil {
		return listError(err, "Event")
	}
	out := make([]eventJSON, 0, len(list))
	for _, e := range list {
		out = append(out, eventJSON{Seq: e.Seq, Time: formatTime(e.Time), Actor: e.Actor, Action: e.Action,
			Target: e.Target, TenantID: e.TenantID, RequestID: e.RequestID, Details: e.Details})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_cursor": next})
	return nil
}
