package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"
)

// settingsRefresh is how often the stored settings are reread.
const settingsRefresh = 5 * time.Second

// settingsSnap is the effective settings at one moment: stored values,
// defaults for what was never stored, and the start flags over both.
type settingsSnap struct {
	grace, interval, offlineTTL time.Duration
	planTTLs                    map[string]time.Duration
	updatedAt                   time.Time
	loaded                      time.Time
}

func (s *settingsSnap) planTTL(plan string) time.Duration {
	if d := s.planTTLs[plan]; d > 0 {
		return d
	}
	return DefaultTTL
}

// graceFor and intervalFor are a licence's: its directive, else the settings.
func (s *settingsSnap) graceFor(l *License) time.Duration {
	if l.Grace > 0 {
		return l.Grace
	}
	return s.grace
}

func (s *settingsSnap) intervalFor(l *License) time.Duration {
	if l.HeartbeatInterval > 0 {
		return l.HeartbeatInterval
	}
	return s.interval
}

// margin is how long past its interval a machine still counts as alive.
func margin(interval time.Duration) time.Duration { return interval/4 + time.Minute }

// loadSettings returns the effective settings, rereading the store when
// forced or when the cached ones are older than settingsRefresh.
func (s *Server) loadSettings(ctx context.Context, force bool) (*settingsSnap, error) {
	now := s.now()
	if cur := s.settings.Load(); cur != nil && !force && now.Sub(cur.loaded) < settingsRefresh && !now.Before(cur.loaded) {
		return cur, nil
	}
	s.settingMu.Lock()
	defer s.settingMu.Unlock()
	st, err := s.store.GetSettings(ctx)
	if errors.Is(err, ErrNotFound) {
		st, err = Settings{}, nil
	}
	if err != nil {
		if cur := s.settings.Load(); cur != nil {
			return cur, nil
		}
		return nil, fmt.Errorf("controlplane: reading settings: %w", err)
	}
	snap := s.effectiveSettings(st)
	snap.loaded = now
	s.settings.Store(snap)
	return snap, nil
}

func (s *Server) effectiveSettings(st Settings) *settingsSnap {
	snap := &settingsSnap{grace: st.Grace, interval: st.HeartbeatInterval, offlineTTL: st.OfflineLeaseTTL,
		planTTLs: maps.Clone(defaultPlanTTLs), updatedAt: st.UpdatedAt}
	maps.Copy(snap.planTTLs, st.PlanTTLs)
	if snap.grace <= 0 {
		snap.grace = DefaultGrace
	}
	if snap.interval <= 0 {
		snap.interval = DefaultHeartbeatInterval
	}
	if snap.offlineTTL <= 0 {
		snap.offlineTTL = DefaultOfflineLeaseTTL
	}
	if s.graceFlag > 0 {
		snap.grace = s.graceFlag
	}
	if s.intervalFlag > 0 {
		snap.interval = s.intervalFlag
	}
	return snap
}

type settingsJSON struct {
	Grace             string            `json:"grace"`
	HeartbeatInterval string            `json:"heartbeat_interval"`
	OfflineLeaseTTL   string            `json:"offline_lease_ttl"`
	PlanTTLs          map[string]string `json:"plan_ttls"`
	PinnedByFlags     []string          `json:"pinned_by_flags"`
	UpdatedAt         string            `json:"updated_at,omitempty"`
}

func (s *Server) settingsOut(snap *settingsSnap) settingsJSON {
	out := settingsJSON{Grace: formatDuration(snap.grace), HeartbeatInterval: formatDuration(snap.interval),
		OfflineLeaseTTL: formatDuration(snap.offlineTTL), PlanTTLs: map[string]string{}, PinnedByFlags: []string{},
		UpdatedAt: formatTime(snap.updatedAt)}
	for p, d := range snap.planTTLs {
		out.PlanTTLs[p] = formatDuration(d)
	}
	if s.graceFlag > 0 {
		out.PinnedByFlags = append(out.PinnedByFlags, "grace")
	}
	if s.intervalFlag > 0 {
		out.PinnedByFlags = append(out.PinnedByFlags, "heartbeat_interval")
	}
	return out
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request, _ *principal) error {
	snap, err := s.loadSettings(r.Context(), true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": s.settingsOut(snap)})
	return nil
}

// putSettings changes the stored settings: members left out stay as they
// are. A value a start flag pins is stored, but the flag still wins.
func (s *Server) putSettings(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		Grace             *string           `json:"grace"`
		HeartbeatInterval *string           `json:"heartbeat_interval"`
		OfflineLeaseTTL   *string           `json:"offline_lease_ttl"`
		PlanTTLs          map[string]string `json:"plan_ttls"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	st, err := s.store.GetSettings(r.Context())
	if errors.Is(err, ErrNotFound) {
		st, err = Settings{}, nil
	}
	if err != nil {
		return storeError(err, "Settings")
	}
	details := map[string]string{}
	set := func(v *string, min, max time.Duration, dst *time.Duration, name string) error {
		if v == nil {
			return nil
		}
		d, err := parseDuration(*v, max)
		if err != nil {
			return err
		}
		if d < min {
			return validationf("%s must be at least %s", name, formatDuration(min))
		}
		*dst, details[name] = d, formatDuration(d)
		return nil
	}
	if err := set(q.Grace, minGrace, maxGrace, &st.Grace, "grace"); err != nil {
		return err
	}
	if err := set(q.HeartbeatInterval, minInterval, maxInterval, &st.HeartbeatInterval, "heartbeat_interval"); err != nil {
		return err
	}
	if err := set(q.OfflineLeaseTTL, time.Hour, maxTTL, &st.OfflineLeaseTTL, "offline_lease_ttl"); err != nil {
		return err
	}
	if len(q.PlanTTLs) > 0 {
		st.PlanTTLs = maps.Clone(st.PlanTTLs)
		if st.PlanTTLs == nil {
			st.PlanTTLs = map[string]time.Duration{}
		}
		for _, plan := range slices.Sorted(maps.Keys(q.PlanTTLs)) {
			if !slices.Contains(plans, plan) {
				return validationf("plan_ttls: unknown plan %q", clip(plan, 32))
			}
			d, err := parseDuration(q.PlanTTLs[plan], maxTTL)
			if err != nil {
				return err
			}
			st.PlanTTLs[plan], details["plan_ttl."+plan] = d, formatDuration(d)
		}
	}
	g, i := st.Grace, st.HeartbeatInterval
	if g == 0 {
		g = DefaultGrace
	}
	if i == 0 {
		i = DefaultHeartbeatInterval
	}
	if g <= i {
		return validationf("grace must be longer than heartbeat_interval")
	}
	st.UpdatedAt = s.now()
	if err := s.store.PutSettings(r.Context(), st, s.event(r, p, "settings.update", "settings", "", details)); err != nil {
		return storeError(err, "Settings")
	}
	return s.getSettings(w, r, p)
}

// durationOrNull reads a directive: absent leaves it, null clears it.
func durationOrNull(raw json.RawMessage, min, max time.Duration, name string) (time.Duration, bool, error) {
	if raw == nil {
		return 0, false, nil
	}
	if string(raw) == "null" {
		return 0, true, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, validationf("%s must be a duration string or null", name)
	}
	d, err := parseDuration(v, max)
	if err != nil {
		return 0, false, err
	}
	if d < min {
		return 0, false, validationf("%s must be at least %s", name, formatDuration(min))
	}
	return d, true, nil
}
