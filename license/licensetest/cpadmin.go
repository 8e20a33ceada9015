package licensetest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/licensekit/licensekit/license"
)

// The vendor admin's side. Each call is the reference control plane's
// admin API, called in memory with a super_admin key of the control
// plane's own — the same request a vendor's console or licensectl sends,
// with the same rules: a change the server refuses (restoring a licence
// that is not suspended, revoking twice, a grace not longer than the
// heartbeat interval) fails the test with the server's message. A licence
// named must be one the control plane knows: minted by the issuer since
// [NewControlPlane], or presented by a device.

// Suspend marks the licence's subscription invalid: activation is refused
// with 403 SUSPENDED and heartbeats answer a lease that says "suspended",
// until [ControlPlane.Restore].
func (cp *ControlPlane) Suspend(licenseID string) {
	cp.issuer.t.Helper()
	cp.change(licenseID, "suspend", nil)
}

// Restore undoes Suspend. A revoked licence stays revoked: revocation is
// final, and restoring it fails the test.
func (cp *ControlPlane) Restore(licenseID string) {
	cp.issuer.t.Helper()
	cp.change(licenseID, "restore", nil)
}

// Revoke revokes the licence for good: activation is refused with 403
// REVOKED and heartbeats answer a lease that says "revoked".
func (cp *ControlPlane) Revoke(licenseID string) {
	cp.issuer.t.Helper()
	cp.change(licenseID, "revoke", nil)
}

// Rebind moves the licence to another fingerprint, as a vendor admin does
// for replacement hardware: the old machine's heartbeats are refused with
// 409, a seat held after a deactivation is released, and the new machine
// may activate. fingerprint must not be empty.
func (cp *ControlPlane) Rebind(licenseID, fingerprint string) {
	cp.issuer.t.Helper()
	if fingerprint == "" {
		cp.issuer.fatalf("licensetest: Rebind needs the fingerprint of the machine the licence moves to")
	}
	cp.change(licenseID, "rebind", map[string]string{"fingerprint": fingerprint})
}

// Reset replaces the licence's token in slot ("primary" or "secondary"),
// as a vendor does when a key leaked. A machine the licence is bound to
// that presents the old token is handed the new one with its next lease;
// any other machine presenting it is refused with 400 KEY_REPLACED, and
// the SDK then presents the key file's other slot.
func (cp *ControlPlane) Reset(licenseID, slot string) {
	cp.issuer.t.Helper()
	if slot != license.SlotPrimary && slot != license.SlotSecondary {
		cp.issuer.fatalf("licensetest: Reset needs the slot %q or %q, not %q", license.SlotPrimary, license.SlotSecondary, slot)
	}
	cp.change(licenseID, "reset", map[string]string{"slot": slot})
}

// SetGrace sets how long the leases it issues last (default 14 days; at
// least an hour, and longer than the heartbeat interval), as the vendor's
// settings do for every licence.
func (cp *ControlPlane) SetGrace(d time.Duration) {
	cp.issuer.t.Helper()
	cp.must(http.MethodPut, "/settings", map[string]string{"grace": d.String()}, nil)
}

// SetInterval sets the next_heartbeat_s it asks for (default 1 hour; at
// least a minute, and shorter than the grace).
func (cp *ControlPlane) SetInterval(d time.Duration) {
	cp.issuer.t.Helper()
	cp.must(http.MethodPut, "/settings", map[string]string{"heartbeat_interval": d.String()}, nil)
}

// Forget makes the control plane answer 404 for the licence from now on,
// as for a licence the vendor deleted: a known licence is deleted through
// the admin API, and one it does not know yet is never learnt.
func (cp *ControlPlane) Forget(licenseID string) {
	cp.issuer.t.Helper()
	cp.learnMu.Lock()
	cp.forgotten[licenseID] = true
	cp.learnMu.Unlock()
	status, body := cp.do(http.MethodDelete, "/licenses/"+url.PathEscape(licenseID), nil)
	if status != http.StatusOK && status != http.StatusNotFound && status != http.StatusConflict {
		cp.issuer.fatalf("licensetest: deleting licence %q: %d %s", licenseID, status, body)
	}
}

// BoundTo returns the fingerprint the licence is bound to (its first live
// binding), or "" when it is bound to none or unknown.
func (cp *ControlPlane) BoundTo(licenseID string) string {
	cp.issuer.t.Helper()
	for _, m := range cp.machines(licenseID) {
		if m.ReleasedAt == "" {
			return m.Fingerprint
		}
	}
	return ""
}

// HeldUntil returns until when (inclusive) a seat freed by a device's own
// deactivation stays held for the machine that deactivated — no machine
// but that one may activate before — or the zero time when none is held.
// It is at least the exp of the newest lease issued to that machine.
func (cp *ControlPlane) HeldUntil(licenseID string) time.Time {
	cp.issuer.t.Helper()
	now := time.Now()
	var held time.Time
	for _, m := range cp.machines(licenseID) {
		if m.ReleasedAt == "" {
			continue
		}
		exp, err := time.Parse(time.RFC3339, m.LeaseExpiresAt)
		if err == nil && !now.After(exp) && exp.After(held) {
			held = exp
		}
	}
	return held
}

// machine is a binding as the admin API shows it.
type machine struct {
	Fingerprint    string `json:"fingerprint"`
	LeaseExpiresAt string `json:"lease_expires_at"`
	ReleasedAt     string `json:"released_at"`
}

// machines returns the licence's bindings; none for a licence the control
// plane does not know.
func (cp *ControlPlane) machines(licenseID string) []machine {
	cp.issuer.t.Helper()
	status, body := cp.do(http.MethodGet, "/licenses/"+url.PathEscape(licenseID), nil)
	if status == http.StatusNotFound {
		return nil
	}
	var out struct {
		License struct {
			Machines []machine `json:"machines"`
		} `json:"license"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
		cp.issuer.fatalf("licensetest: reading licence %q: %d %s", licenseID, status, body)
	}
	return out.License.Machines
}

// change makes one admin change of a licence the control plane knows.
func (cp *ControlPlane) change(licenseID, action string, body any) {
	cp.issuer.t.Helper()
	cp.known(licenseID)
	cp.must(http.MethodPost, "/licenses/"+url.PathEscape(licenseID)+"/"+action, body, nil)
}

// must sends an admin request that must succeed, and decodes its answer
// into out (unless nil).
func (cp *ControlPlane) must(method, path string, body, out any) {
	cp.issuer.t.Helper()
	status, data := cp.do(method, path, body)
	if status/100 != 2 {
		cp.issuer.fatalf("licensetest: the control plane refused %s %s: %d %s", method, path, status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			cp.issuer.fatalf("licensetest: %s %s answered %v: %s", method, path, err, data)
		}
	}
}

// do sends an admin request to the server in memory, past the faults, the
// outage and the record of received requests.
func (cp *ControlPlane) do(method, path string, body any) (int, []byte) {
	cp.issuer.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			cp.issuer.fatalf("licensetest: encoding an admin request: %v", err)
		}
		rd = bytes.NewReader(data)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, baseURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+cp.admin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	cp.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}
