package license

import (
	"context"
	"errors"

	"github.com/licensekit/licensekit/heartbeat"
)

// startLoop starts the heartbeat loop on its own goroutine.
func (m *Manager) startLoop(ctx context.Context) {
	m.loop = &heartbeat.Loop{
		Client: &heartbeat.Client{BaseURL: m.cfg.ServerURL, HTTPClient: m.cfg.HTTPClient},
		Request: func() heartbeat.Request {
			m.mu.Lock()
			defer m.mu.Unlock()
			return heartbeat.Request{
				LicenseID:      m.lic.ID,
				Token:          m.token(),
				Fingerprint:    m.fp.String(),
				IdempotencyKey: m.st.ActivationKey,
			}
		},
		Activate: func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.st.Lease == nil
		},
		Handle: m.handle,
		Logger: m.cfg.Logger,
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		_ = m.loop.Run(ctx) // returns ctx.Err() once Close cancels
	}()
}

// token is the licence token that verified (primary or secondary).
func (m *Manager) token() string {
	if m.lic.Slot == SlotSecondary {
		return m.kf.Secondary
	}
	return m.kf.Primary
}

// handle applies one heartbeat outcome. Transport failures change nothing
// but reachability; definitive answers act at once; a success stores the
// verified lease.
func (m *Manager) handle(r heartbeat.Result) {
	m.mu.Lock()
	now := m.now()
	switch {
	case r.Err == nil:
		m.accept(r.Response.Lease)
	case heartbeat.IsDefinitive(r.Err):
		m.refused(r.Err)
	default:
		m.unreachable = true
		m.lastErr = r.Err
	}
	if now.After(m.st.HighWater) {
		m.st.HighWater = now
	}
	s, changed := m.evaluate()
	m.mu.Unlock()
	m.poke()
	if changed {
		m.notify(s.status)
	}
}

// accept verifies and stores a lease from a successful answer. A lease that
// does not verify, or is for another licence or machine, is treated like
// a transport failure: it changes nothing. m.mu must be held.
func (m *Manager) accept(token string) {
	l, err := m.verifier.VerifyLease(token)
	if err == nil && l.LicenseID != m.lic.ID {
		err = fail(ErrClaims, "lease is for licence "+quote(l.LicenseID))
	}
	if err != nil {
		m.log.Warn("licensekit: control plane sent an unusable lease", "err", err)
		m.unreachable = true
		m.lastErr = err
		return
	}
	now := m.now()
	m.unreachable = false
	m.lastErr = nil
	m.definitive = nil
	m.lastContact = now
	gl := toGraceLease(token, l)
	gl.ReceivedAt = now // the window runs on the local clock from here
	m.st.Lease = gl
	m.st.Revoked = l.Status == LeaseRevoked
	// The control plane vouches for this moment: clear a clock lock, and
	// restart the high-water mark from the local clock.
	m.st.ClockTampered = false
	m.st.HighWater = now
	m.st.ActivationKey = ""
	m.save()
}

// refused applies a definitive answer. m.mu must be held.
func (m *Manager) refused(err error) {
	m.unreachable = false
	m.lastErr = nil
	m.lastContact = m.now()
	switch {
	case errors.Is(err, heartbeat.ErrRevoked):
		m.st.Revoked = true
	case errors.Is(err, heartbeat.ErrSuspended):
		m.definitive = fail(ErrSuspended, "the control plane suspended licence "+m.lic.ID)
	case errors.Is(err, heartbeat.ErrBoundElsewhere):
		m.st.Lease = nil
		m.definitive = fail(ErrFingerprint, "the control plane bound licence "+m.lic.ID+" to another machine")
	case errors.Is(err, heartbeat.ErrUnknownLicense):
		m.st.Lease = nil
		m.definitive = fail(ErrNotActivated, "the control plane does not know licence "+m.lic.ID)
	default: // ErrRejected: a refusal we cannot act on; keep the state
		m.lastErr = err
		return
	}
	if m.st.Lease == nil && m.st.ActivationKey == "" {
		m.st.ActivationKey = heartbeat.NewIdempotencyKey()
	}
	m.save()
}
