package controlplane

import (
	"net/http"
	"slices"
)

var machineStates = []string{MachineAlive, MachineOverdue, MachineDead}

func (s *Server) listMachines(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := MachineFilter{LicenseID: q.Get("license_id"), TenantID: q.Get("tenant_id"), State: q.Get("state")}
	var err error
	if f.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return err
	}
	if f.Cursor, err = parseCursor(q.Get("cursor")); err != nil {
		return err
	}
	switch {
	case f.LicenseID != "" && !validID(f.LicenseID), f.TenantID != "" && !validID(f.TenantID):
		return validationf("invalid license_id or tenant_id")
	case f.State != "" && !slices.Contains(machineStates, f.State):
		return validationf("state must be alive, overdue or dead")
	}
	if err := s.beats.flush(r.Context()); err != nil { // show the newest beats
		return storeError(err, "Machine")
	}
	now := s.now()
	if f.State != "" {
		f.Now = now
	}
	if p.tenant != "" {
		if f.TenantID != "" && f.TenantID != p.tenant {
			writeJSON(w, http.StatusOK, map[string]any{"machines": []machineJSON{}, "next_cursor": ""})
			return nil
		}
		f.TenantID = p.tenant
	}
	list, next, err := s.store.ListMachines(r.Context(), f)
	if err != nil {
		return listError(err, "Machine")
	}
	out := make([]machineJSON, 0, len(list))
	for _, m := range list {
		out = append(out, machineOut(m, now, true))
	}
	writeJSON(w, http.StatusOK, map[string]any{"machines": out, "next_cursor": next})
	return nil
}

type deadJSON struct {
	LicenseID   string `json:"license_id"`
	Fingerprint string `json:"fingerprint"`
}

// sweep reconciles: licences past expires_at become expired, machines
// silent past their newest lease become dead. The heartbeat bookkeeping
// waiting in memory is written first, so that no machine that beat is
// found dead. A tenant's key sees only its tenant's part of the result.
func (s *Server) sweep(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	if err := s.beats.flush(r.Context()); err != nil {
		return storeError(err, "Machine")
	}
	res, err := s.store.Sweep(r.Context(), s.now(), p.actor(), requestID(r))
	s.cache.forget("")
	if err != nil {
		return storeError(err, "Licence")
	}
	expired := []string{}
	for _, id := range res.Expired {
		if p.tenant == "" {
			expired = append(expired, id)
			continue
		}
		if l, err := s.store.GetLicense(r.Context(), id); err == nil && l.TenantID == p.tenant {
			expired = append(expired, id)
		}
	}
	dead := []deadJSON{}
	for _, m := range res.Dead {
		if p.sees(m.TenantID) {
			dead = append(dead, deadJSON{LicenseID: m.LicenseID, Fingerprint: m.Fingerprint})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"expired": expired, "dead": dead})
	return nil
}
