package license

import (
	"context"
	"errors"
	"strings"

	"github.com/licensekit/licensekit/grace"
	"github.com/licensekit/licensekit/heartbeat"
)

// Fingerprint returns this machine's fingerprint as the control plane
// sees it: what activation sends and a lease's fpr holds. Quote it to the
// vendor to have a licence bound to this machine. It never reveals the
// raw machine id.
func (m *Manager) Fingerprint() string { return m.fp.String() }

// Validate verifies key, a licence token, exactly as [Manager.Activate]
// would (keys, issuer, audience, dates, machine binding) and returns its
// licence, without installing it or asking the control plane. The error
// wraps the reason's sentinel ([ErrExpired], [ErrSignature], …).
func (m *Manager) Validate(key string) (*License, error) {
	return m.verifier().Verify(strings.TrimSpace(key))
}

// Activate installs key, a licence token, on this machine at run time. It
// verifies the key exactly like a key file's (the error then wraps the
// reason's sentinel and nothing changes), keeps it beside the grace state
// (Config.ActivatedKeyFile; written atomically, mode 0600) so that it
// survives a restart, and uses it from then on in place of
// Config.KeyFile. Online, it then activates the licence with the control
// plane and waits, bounded by ctx, for that first answer, which is
// applied exactly like any answer of the heartbeat loop; the answer's
// verdict (bound elsewhere, suspended, revoked, or no answer yet) is in
// [Manager.Status], not in the error, and the loop keeps trying.
//
// While a licence is in use (Status().License is not nil), Activate
// fails with [ErrAlreadyActivated]: call [Manager.Deactivate] first.
// Activating a licence again never clears what this machine's state
// records of it (revoked, clock set back): that state is per licence and
// outlives the key.
func (m *Manager) Activate(ctx context.Context, key string) (*License, error) {
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if m.isClosed {
		return nil, ErrClosed
	}
	m.mu.Lock()
	inUse := m.lic != nil
	m.mu.Unlock()
	if inUse {
		return nil, ErrAlreadyActivated
	}
	key = strings.TrimSpace(key)
	lic, err := m.verifier().Verify(key)
	if err != nil {
		return nil, err
	}
	kf := keyFileFor(lic, key)
	if lic, err = m.verifier().VerifyKeyFile(kf); err != nil {
		return nil, err
	}
	store, st, err := m.openStore(lic.ID)
	if err != nil {
		return nil, err
	}
	data, err := marshalKeyFile(kf)
	if err == nil {
		err = writeFileAtomic(m.keyPath, data)
	}
	if err != nil {
		return nil, failWith(ErrConfig, "keeping the activated key at "+quotePath(m.keyPath)+
			" (Config.ActivatedKeyFile): "+err.Error(), err)
	}
	if err := removeFile(m.tombstonePath()); err != nil {
		m.log.Warn("licensekit: removing the deactivation record", "err", err)
	}
	m.tombstone = ""
	m.install(kf, lic, srcActivated, store, st)
	m.log.Info("licensekit: licence key activated", "license", lic.ID)
	if m.online() {
		m.mu.Lock()
		attempted := m.attempted
		m.mu.Unlock()
		select {
		case <-attempted:
		case <-ctx.Done():
		case <-m.runCtx.Done():
		}
	}
	return lic, nil
}

// install makes kf (verified as lic) the key in use. store and st are the
// grace state of lic's licence when it is another licence than the one in
// use (nil when it is the same licence: its state stays). Online, the loop
// is restarted for a new licence and kicked for a new key of the same
// one. m.ctl must be held and m.mu must not be.
func (m *Manager) install(kf *KeyFile, lic *License, src keySource, store *grace.Store, st grace.State) {
	m.mu.Lock()
	same := m.lic != nil && m.lic.ID == lic.ID
	m.mu.Unlock()
	if !same {
		m.stopLoop()
	}
	m.mu.Lock()
	if !same {
		m.setStore(lic.ID, store, st)
	}
	m.kf, m.lic, m.src, m.licErr = kf, lic, src, nil
	m.applyDeliveredKey()
	if m.online() {
		m.ensureActivationKey()
	}
	_, changed := m.evaluate()
	loop := m.loop
	m.mu.Unlock()
	m.poke()
	if changed {
		m.notify()
	}
	switch {
	case !m.online():
	case same && loop != nil:
		loop.Kick()
	case m.loopStop == nil:
		m.startLoop()
	}
}

// Deactivate removes the licence key from this machine: online, it first
// asks the control plane to release this machine's binding (through
// heartbeat.Client.Deactivate), then forgets the key. An activated key is
// deleted; a key from Config.KeyFile is not touched on disk, but that
// exact file is not used again here (a different file put in its place is).
// The manager is then [StateUnlicensed], also after a restart, until a key
// is activated or the key file replaced.
//
// The licence's grace state stays: what it records (revoked, clock set
// back, the clock's high-water mark) holds again if the licence comes back.
// Its lease is dropped, so that using the licence here again takes a new
// activation.
//
// It fails with [ErrUnlicensed] when no licence is in use, and with
// [ErrUnavailable] when the control plane could not be reached (network,
// timeout, 5xx): then nothing changed, and the call may be retried. Any
// answer of the control plane (released, not bound here, unknown,
// revoked) lets the deactivation proceed.
func (m *Manager) Deactivate(ctx context.Context) error {
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if m.isClosed {
		return ErrClosed
	}
	m.mu.Lock()
	lic, src := m.lic, m.src
	var req heartbeat.Request
	if lic != nil {
		req = heartbeat.Request{LicenseID: lic.ID, Token: m.token(), Fingerprint: m.fp.String()}
	}
	m.mu.Unlock()
	if lic == nil {
		if src == srcNone {
			// A stored key that no longer verifies is not in use; drop it.
			if err := removeFile(m.keyPath); err != nil {
				m.log.Warn("licensekit: removing the activated key", "err", err)
			}
		}
		return fail(ErrUnlicensed, "no licence key is in use on this machine")
	}
	if m.online() {
		m.stopLoop()
		if err := m.client.Deactivate(ctx, req); err != nil && !heartbeat.IsDefinitive(err) {
			m.startLoop()
			return failWith(ErrUnavailable, "the control plane was not asked to release this machine; nothing changed: "+err.Error(), err)
		} else if err != nil {
			m.log.Info("licensekit: the control plane had nothing to release", "err", err)
		}
	}
	var fileErr error
	if m.cfg.KeyFile != "" {
		hash := m.fileHash
		if _, h, err := readKeyFile(m.cfg.KeyFile); err == nil {
			hash = h
		}
		if hash != "" {
			if err := writeFileAtomic(m.tombstonePath(), []byte(hash+"\n")); err != nil {
				fileErr = err
			} else {
				m.tombstone = hash
			}
		}
	}
	if src == srcActivated {
		if err := removeFile(m.keyPath); err != nil {
			fileErr = errors.Join(fileErr, err)
		}
	}

	m.mu.Lock()
	if m.store != nil {
		if m.online() {
			// Nothing issued before now may come back as this machine's
			// lease: raise the floor to the newest lease held.
			m.raiseFloor(nil, m.now())
			m.st.Lease = nil
		}
		m.st.ActivationKey = ""
	}
	m.setStore("", nil, grace.State{}) // writes the state, or keeps it in memory if it cannot

	m.kf, m.lic, m.src = nil, nil, srcNone
	m.licErr = fail(ErrUnlicensed, "licence "+lic.ID+" was deactivated on this machine")
	_, changed := m.evaluate()
	m.mu.Unlock()
	m.poke()
	if changed {
		m.notify()
	}
	m.log.Info("licensekit: licence key deactivated", "license", lic.ID)
	if fileErr != nil {
		return failWith(ErrConfig, "the licence is deactivated, but the state directory could not record it "+
			"(it may be in use again after a restart): "+fileErr.Error(), fileErr)
	}
	return nil
}

// Reload looks at Config.KeyFile now instead of at the next check (see
// [KeyFileCheckInterval]). A file that verifies replaces the key in use:
// for the same licence its grace state stays (nothing recorded of it is
// cleared); for another licence the manager starts over with that
// licence's own state, and online activates it. A file that is missing or
// does not verify changes nothing while a licence is in use, and Reload
// returns its error. While a key installed with [Manager.Activate] is in
// use, the key file is not used and Reload returns nil.
func (m *Manager) Reload() error {
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if m.isClosed {
		return ErrClosed
	}
	return m.checkKeyFile(true)
}

// checkKeyFile reads Config.KeyFile and installs it when its content
// changed since it was last read (always, with force). m.ctl must be
// held and m.mu must not be.
func (m *Manager) checkKeyFile(force bool) error {
	if m.cfg.KeyFile == "" {
		return nil
	}
	data, hash, err := readKeyFile(m.cfg.KeyFile)
	if err != nil {
		if force {
			return err
		}
		return nil // a file being replaced may be missing for a moment
	}
	if hash == m.fileHash && !force {
		return nil
	}
	m.fileHash = hash
	m.mu.Lock()
	src, cur := m.src, m.lic
	m.mu.Unlock()
	if src == srcActivated {
		m.log.Info("licensekit: the key file changed, but an activated key is in use; ignoring it")
		return nil
	}
	kf, lic, err := m.keyFromFile(data, hash)
	if err != nil {
		if cur != nil {
			m.log.Warn("licensekit: the key file changed but does not verify; keeping the licence in use", "err", err)
			return err
		}
		m.mu.Lock()
		m.licErr = err
		_, changed := m.evaluate()
		m.mu.Unlock()
		if changed {
			m.notify()
		}
		return err
	}
	var (
		store *grace.Store
		st    grace.State
	)
	if cur == nil || cur.ID != lic.ID {
		if store, st, err = m.openStore(lic.ID); err != nil {
			return err
		}
	}
	m.log.Info("licensekit: key file loaded", "license", lic.ID)
	m.install(kf, lic, srcKeyFile, store, st)
	return nil
}
