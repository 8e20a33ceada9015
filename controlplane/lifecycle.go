package controlplane

import (
	"encoding/json"
	"net/http"
	"time"
)

// updateLicense changes one licence in the store: it overlays the
// heartbeat bookkeeping not yet written, calls fn, and stores the result
// with fn's events in one Store call, retrying a lost race. An error of fn
// is returned as is; a store error becomes an answer.
func (s *Server) updateLicense(r *http.Request, id string, fn func(l *License, now time.Time) ([]Event, error)) (License, error) {
	if !validID(id) {
		return License{}, notFound("License")
	}
	var out License
	err := retry(func() error {
		var err error
		out, err = s.store.UpdateLicense(r.Context(), id, func(l *License) ([]Event, error) {
			now := s.now()
			s.beats.overlay(l)
			events, err := fn(l, now)
			if err == nil && len(events) > 0 {
				l.UpdatedAt = now
			}
			return events, err
		})
		return err
	})
	s.cache.forget(id)
	if err != nil {
		return License{}, storeError(err, "License")
	}
	return out, nil
}

// adminChange is the frame of every admin change of one licence: the
// tenant check (a foreign licence is not found), one audit event of
// action, and the answer {"license": …}.
func (s *Server) adminChange(w http.ResponseWriter, r *http.Request, p *principal, action string, withKeys bool,
	fn func(l *License, now time.Time) (map[string]string, error)) error {
	id := r.PathValue("id")
	unlock := s.lockLicense(id)
	defer unlock()
	l, err := s.updateLicense(r, id, func(l *License, now time.Time) ([]Event, error) {
		if !p.sees(l.TenantID) {
			return nil, notFound("License")
		}
		details, err := fn(l, now)
		if err != nil {
			return nil, err
		}
		return []Event{s.event(r, p, action, l.ID, l.TenantID, details)}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"license": licenseOut(l, s.now(), withKeys)})
	return nil
}

// noBody accepts an empty body or an empty JSON object, nothing else.
func noBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil
	}
	var q struct{}
	return decodeBody(w, r, &q)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.revoke", false, func(l *License, now time.Time) (map[string]string, error) {
		switch l.Status {
		case StatusRevoked:
			return nil, conflictf("License is already revoked")
		case StatusDeleted:
			return nil, conflictf("License is deleted")
		}
		from := l.Status
		l.Status = StatusRevoked
		return map[string]string{"from": from}, nil
	})
}

func (s *Server) suspend(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.suspend", false, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status != StatusActive || !now.Before(l.ExpiresAt) {
			return nil, conflictf("Only an active licence can be suspended (this one is %s)", l.Status)
		}
		l.Status = StatusSuspended
		return nil, nil
	})
}

func (s *Server) restore(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.restore", false, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status != StatusSuspended {
			return nil, conflictf("Only a suspended licence can be restored (this one is %s)", l.Status)
		}
		l.Status = StatusActive
		if !now.Before(l.ExpiresAt) {
			l.Status = StatusExpired
		}
		return map[string]string{"to": l.Status}, nil
	})
}

// rebind moves the licence to a new machine: the binding named by from
// (or the only one) is replaced, released seats are freed, and the old
// machine gets 409 at its next beat.
func (s *Server) rebind(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		Fingerprint string `json:"fingerprint"`
		From        string `json:"from"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	if !visibleASCII(q.Fingerprint, maxFingerprint) || (q.From != "" && !visibleASCII(q.From, maxFingerprint)) {
		return validationf("fingerprint (and from, if given) must be 1 to %d visible ASCII characters", maxFingerprint)
	}
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.rebind", false, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status == StatusDeleted || l.Status == StatusRevoked {
			return nil, conflictf("A %s licence cannot be rebound", l.Status)
		}
		var live []int
		for i, m := range l.Machines {
			if m.ReleasedAt.IsZero() {
				live = append(live, i)
			}
		}
		drop := -1
		switch {
		case q.From != "":
			for _, i := range live {
				if l.Machines[i].Fingerprint == q.From {
					drop = i
				}
			}
			if drop < 0 {
				return nil, validationf("from: the licence is not bound to that machine")
			}
		case len(live) == 1:
			drop = live[0]
		case len(live) > 1:
			return nil, validationf("the licence is bound to %d machines: say which one moves with from", len(live))
		}
		details := map[string]string{"fingerprint": fingerprintPrefix(q.Fingerprint)}
		kept := []Machine{}
		for i, m := range l.Machines {
			switch {
			case i == drop:
				details["from"] = fingerprintPrefix(m.Fingerprint)
			case !m.ReleasedAt.IsZero():
				// an admin's rebind frees released seats at once
			case m.Fingerprint == q.Fingerprint:
				return nil, conflictf("The licence is bound to that machine already")
			default:
				kept = append(kept, m)
			}
		}
		if len(kept) >= l.MaxMachines {
			return nil, conflictf("No seat is free: all %d are bound", l.MaxMachines)
		}
		l.Machines = append(kept, s.preBinding(*l, q.Fingerprint, now, set))
		return details, nil
	})
}

// preBinding is a binding made by an admin (at issue, or by rebind) before
// the machine ever called: alive for one interval, dead after one grace.
func (s *Server) preBinding(l License, fp string, now time.Time, set *settingsSnap) Machine {
	interval := set.intervalFor(&l)
	return Machine{LicenseID: l.ID, TenantID: l.TenantID, Fingerprint: fp, ActivatedAt: now,
		DueAt: now.Add(interval + margin(interval)), LeaseExpiresAt: now.Add(set.graceFor(&l))}
}

// reissueTime is the iat of re-issued tokens: now, or one second past the
// tokens they replace, so that a new token never equals the old one.
func reissueTime(now time.Time, old ...string) (time.Time, error) {
	iat := now.UTC().Truncate(time.Second)
	for _, t := range old {
		if prev := tokenIssuedAt(t); !prev.IsZero() && !iat.After(prev) {
			iat = prev.Add(time.Second)
		}
	}
	if iat.Sub(now) > 30*time.Second {
		return time.Time{}, conflictf("Too many re-issues in a short time; try again in a minute")
	}
	return iat, nil
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		Slot string `json:"slot"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	if q.Slot != SlotPrimary && q.Slot != SlotSecondary {
		return validationf("slot must be primary or secondary")
	}
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.reset", true, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status == StatusDeleted || l.Status == StatusRevoked {
			return nil, conflictf("A %s licence cannot be reset", l.Status)
		}
		iat, err := reissueTime(now, l.Primary, l.Secondary)
		if err != nil {
			return nil, err
		}
		if err := s.signSlots(st, l, iat, q.Slot); err != nil {
			return nil, err
		}
		return map[string]string{"slot": q.Slot}, nil
	})
}

func (s *Server) renew(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		TTL string `json:"ttl"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	var ttl time.Duration
	if q.TTL != "" {
		if ttl, err = parseDuration(q.TTL, maxTTL); err != nil {
			return err
		}
	}
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.renew", true, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status == StatusDeleted || l.Status == StatusRevoked {
			return nil, conflictf("A %s licence cannot be renewed", l.Status)
		}
		iat, err := reissueTime(now, l.Primary, l.Secondary)
		if err != nil {
			return nil, err
		}
		d := ttl
		if d == 0 {
			d = set.planTTL(l.Plan)
		}
		l.ExpiresAt = iat.Add(d)
		if l.Status == StatusExpired {
			l.Status = StatusActive
		}
		if err := s.signSlots(st, l, iat, SlotPrimary, SlotSecondary); err != nil {
			return nil, err
		}
		return map[string]string{"expires_at": formatTime(l.ExpiresAt)}, nil
	})
}

func (s *Server) deleteLicense(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.delete", false, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status == StatusDeleted {
			return nil, conflictf("License is already deleted")
		}
		from := l.Status
		l.Status = StatusDeleted
		l.Primary, l.Secondary, l.PrimaryDigest, l.SecondaryDigest = "", "", "", ""
		l.Machines = nil
		return map[string]string{"from": from}, nil
	})
}

// directives sets a licence's own heartbeat interval and grace: a member
// left out stays, null follows the settings again.
func (s *Server) directives(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		HeartbeatInterval json.RawMessage `json:"heartbeat_interval"`
		Grace             json.RawMessage `json:"grace"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	interval, setInterval, err := durationOrNull(q.HeartbeatInterval, minInterval, maxInterval, "heartbeat_interval")
	if err != nil {
		return err
	}
	grace, setGrace, err := durationOrNull(q.Grace, minGrace, maxGrace, "grace")
	if err != nil {
		return err
	}
	if !setInterval && !setGrace {
		return validationf("send heartbeat_interval, grace, or both")
	}
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	return s.adminChange(w, r, p, "license.directives", false, func(l *License, now time.Time) (map[string]string, error) {
		if l.Status == StatusDeleted {
			return nil, conflictf("License is deleted")
		}
		if setInterval {
			l.HeartbeatInterval = interval
		}
		if setGrace {
			l.Grace = grace
		}
		if set.graceFor(l) <= set.intervalFor(l) {
			return nil, validationf("grace must be longer than heartbeat_interval")
		}
		d := map[string]string{"heartbeat_interval": "settings", "grace": "settings"}
		if l.HeartbeatInterval > 0 {
			d["heartbeat_interval"] = formatDuration(l.HeartbeatInterval)
		}
		if l.Grace > 0 {
			d["grace"] = formatDuration(l.Grace)
		}
		return d, nil
	})
}
