package license

import (
	"slices"
	"strings"
)

// acceptLicenseKey takes a licence token the control plane delivered
// (after a reset or a renewal of the key this machine presented). It is
// verified exactly like a key file's token, and accepted only for the
// licence in use — the same jti, aud, sub, tid and tenant_ctry — and only
// when issued after the key in use. Accepted, it is kept in the
// licence's grace state (the customer's key file is never rewritten) and
// presented from then on, also after a restart. A refusal changes
// nothing. m.mu must be held.
func (m *Manager) acceptLicenseKey(token string) error {
	if m.lic == nil {
		return ErrUnlicensed
	}
	if token == m.token() {
		return nil
	}
	kf, lic, err := m.checkDeliveredKey(token)
	if err != nil {
		return err
	}
	m.kf, m.lic = kf, lic
	m.st.LicenseKey = token
	m.save()
	m.log.Info("licensekit: the control plane delivered a new key for the licence; using it", "license", lic.ID)
	if m.loop != nil {
		m.loop.Kick() // beat with the new key, so the control plane sees it in use
	}
	return nil
}

// useSecondary turns from the key file's primary token, which the control
// plane refused as replaced, to the file's secondary, when the file has one
// that verifies for the same licence. Only a key file's primary falls
// back, and only once: a delivered key, or the secondary itself, has no
// other slot to try. The refusal must be of the primary in use: an answer
// to a request sent before the key changed (a key file replaced or
// reloaded meanwhile) is about the key it replaced, and switches nothing.
// Nothing is saved; after a restart the primary is tried first again.
// m.mu must be held.
func (m *Manager) useSecondary() bool {
	if m.lic == nil || m.lic.Slot != SlotPrimary || m.kf == nil || m.kf.Secondary == "" || m.presented != m.kf.Primary {
		return false
	}
	kf := *m.kf
	kf.Primary = ""
	lic, err := m.verifier().VerifyKeyFile(&kf)
	if err != nil || lic.ID != m.lic.ID {
		m.log.Warn("licensekit: the primary key was replaced and the secondary cannot be used", "err", err)
		return false
	}
	m.lic = lic // Slot secondary: token() presents the secondary from now on
	m.log.Info("licensekit: the primary key was replaced; presenting the secondary", "license", lic.ID)
	return true
}

// checkDeliveredKey verifies a delivered token against the licence in
// use and returns it as a key file and its licence. m.mu must be held.
func (m *Manager) checkDeliveredKey(token string) (*KeyFile, *License, error) {
	v := m.verifier()
	lic, err := v.Verify(token)
	if err != nil {
		return nil, nil, err
	}
	cur := m.lic
	switch {
	case lic.ID != cur.ID:
		return nil, nil, fail(ErrLicenseKey, "the delivered key is for licence "+quote(lic.ID)+", not "+quote(cur.ID))
	case !slices.Equal(lic.Audience, cur.Audience), lic.Subject != cur.Subject,
		lic.TenantID != cur.TenantID, lic.TenantCountry != cur.TenantCountry:
		return nil, nil, fail(ErrLicenseKey, "the delivered key names another holder (aud, sub, tid or tenant_ctry)")
	case !lic.IssuedAt.After(cur.IssuedAt):
		return nil, nil, fail(ErrLicenseKey, "the delivered key is not newer than the key in use")
	}
	kf := keyFileFor(lic, token)
	lic, err = v.VerifyKeyFile(kf)
	if err != nil {
		return nil, nil, err
	}
	return kf, lic, nil
}

// applyDeliveredKey presents the key kept in the licence's state in place
// of the key loaded, when it still verifies for the same licence and is
// newer (a key file replaced by an even newer one wins). A kept key that
// does not pass is not used. m.mu must be held, or m not yet shared.
func (m *Manager) applyDeliveredKey() {
	token := m.st.LicenseKey
	if token == "" || m.lic == nil || token == m.token() {
		return
	}
	kf, lic, err := m.checkDeliveredKey(token)
	if err != nil {
		m.log.Info("licensekit: not using the delivered key kept in the state", "err", err)
		return
	}
	m.kf, m.lic = kf, lic
}

// UpdateKey installs key, a newer licence token of the licence in use —
// what the control plane delivers with a heartbeat after a reset or a
// renewal, here handed over by other means (pasted by support, carried to
// an air-gapped machine). It applies exactly the rules of a delivered
// key: verified like a key file's token, the same jti, aud, sub, tid and
// tenant_ctry as the licence in use, and issued after it. Accepted, it is
// kept in the licence's grace state (the customer's key file is never
// rewritten) and presented from then on, also after a restart. A refusal
// changes nothing and wraps its sentinel: [ErrLicenseKey] for another
// licence, other holder claims or an older key, or the verifier's
// ([ErrUnknownKey], [ErrSignature], [ErrMalformed], [ErrExpired], …);
// [ErrUnlicensed] when no licence is in use.
func (m *Manager) UpdateKey(key string) error {
	m.mu.Lock()
	err := m.acceptLicenseKey(strings.TrimSpace(key))
	_, changed := m.evaluate()
	m.mu.Unlock()
	if changed {
		m.notify()
	}
	return err
}
