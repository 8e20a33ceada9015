package license

import (
	"context"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
)

// startLoop starts the heartbeat loop for the current licence on its own
// goroutine; stopLoop stops it. m.ctl must be held (or m not yet shared),
// and m.mu must not be.
func (m *Manager) startLoop() {
	if m.runCtx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.runCtx)
	attempted := make(chan struct{})
	var once sync.Once
	loop := &heartbeat.Loop{
		Client: m.client,
		Request: func() heartbeat.Request {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.ensureActivationKey() // the state file may have been lost since Open
			m.presented = m.token()
			return heartbeat.Request{
				LicenseID:      m.lic.ID,
				Token:          m.presented,
				Fingerprint:    m.fp.String(),
				IdempotencyKey: m.st.ActivationKey,
			}
		},
		Activate: func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.st.Lease == nil
		},
		Handle: func(r heartbeat.Result) {
			m.handle(r)
			once.Do(func() { close(attempted) })
		},
		Logger: m.cfg.Logger,
	}
	m.mu.Lock()
	m.loop = loop
	m.attempted = attempted
	m.mu.Unlock()
	done := make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(done)
		_ = loop.Run(ctx) // returns ctx.Err() once stopped
	}()
	m.loopStop = func() {
		cancel()
		<-done
		m.mu.Lock()
		if m.loop == loop {
			m.loop = nil
		}
		m.mu.Unlock()
	}
}

// stopLoop stops the heartbeat loop, if one runs, and waits for it. m.ctl
// must be held and m.mu must not be.
func (m *Manager) stopLoop() {
	if m.loopStop != nil {
		m.loopStop()
		m.loopStop = nil
	}
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
		// A keyset statement first: the lease may be signed by a key it
		// announces. Each delivered token is verified on its own; a
		// refused one changes nothing and is logged.
		if ks := r.Response.Keyset; ks != "" {
			if err := m.acceptKeyset(ks); err != nil {
				m.log.Warn("licensekit: control plane sent an unusable keyset statement", "err", err)
			}
		}
		m.accept(r.Response.Lease, r.Response.Nonce)
		if key := r.Response.LicenseKey; key != "" {
			if err := m.acceptLicenseKey(key); err != nil {
				m.log.Warn("licensekit: control plane sent an unusable licence key", "err", err)
			}
		}
	case errors.Is(r.Err, heartbeat.ErrKeyReplaced) && m.useSecondary():
		// The primary was reset, and this machine is not bound: the key
		// file's secondary keeps the product running, as the two slots
		// are there for. Ask again with it at once.
		m.lastErr = r.Err
		if m.loop != nil {
			m.loop.Kick()
		}
	case errors.Is(r.Err, heartbeat.ErrRejected):
		// A refusal that says nothing about the licence (400, 401, 501,
		// a proxy's 404): it neither renews nor takes anything away.
		m.log.Error("licensekit: control plane rejected the request", "err", r.Err)
		m.lastErr = r.Err
	case heartbeat.IsDefinitive(r.Err):
		m.refused(r.Err)
	case errors.Is(r.Err, heartbeat.ErrConfig):
		m.log.Error("licensekit: heartbeat not sent", "err", r.Err)
		m.lastErr = r.Err
	default:
		m.unreachable = true
		m.lastErr = r.Err
	}
	if now.After(m.st.HighWater) {
		m.st.HighWater = now
	}
	_, changed := m.evaluate()
	m.mu.Unlock()
	m.poke()
	if changed {
		m.notify()
	}
}

// accept verifies and stores a lease from a successful answer. A lease that
// does not verify, or is for another licence or machine, is treated like
// a transport failure: it changes nothing. m.mu must be held.
func (m *Manager) accept(token, nonce string) {
	l, err := m.verifier().VerifyLease(token)
	switch {
	case err != nil:
	case l.LicenseID != m.lic.ID:
		err = fail(ErrClaims, "lease is for licence "+quote(l.LicenseID))
	case nonce == "" || subtle.ConstantTimeCompare([]byte(l.Nonce), []byte(nonce)) != 1:
		// An answer carries the nonce of the request it answers. Without
		// this, a genuine lease recorded earlier — or fetched by a proxy
		// with this machine's token and fingerprint and kept for later —
		// would restart the offline window whenever it is played back.
		err = fail(ErrClaims, "lease does not answer this request (nonce)")
	case l.Fingerprint != m.fp.String():
		// An answer names exactly the fingerprint this machine sent. The
		// tolerance of a changed component is for a stored lease read
		// back after a hardware change; allowed here, a proxy could ask
		// for a fingerprint halfway between two machines and serve both.
		err = fail(ErrFingerprint, "lease names another fingerprint than this machine sent")
	}
	if err != nil {
		m.log.Warn("licensekit: control plane sent an unusable lease", "err", err)
		m.unreachable = true
		m.lastErr = err
		return
	}
	now := m.now()
	if newest := m.newestIssued(); !l.IssuedAt.After(newest) {
		// Not strictly newer than the newest lease this machine has
		// accepted, or issued at or before a refusal (an answer overtaken
		// on the way, a recorded answer replayed, another lease of the
		// same second): it is contact, but it changes nothing.
		// Ask again soon (the loop waits at least its MinInterval) rather
		// than a whole interval: a fresh answer may be a second away.
		m.log.Warn("licensekit: ignoring a lease not newer than the newest one accepted or refused",
			"issued", l.IssuedAt.UTC().Format(time.RFC3339), "newest", newest.UTC().Format(time.RFC3339))
		m.unreachable = false
		m.lastContact = now
		if m.loop != nil {
			m.loop.Kick()
		}
		return
	}
	switch ahead := now.Sub(l.IssuedAt); {
	case ahead > m.tolerance():
		m.log.Warn("licensekit: the local clock is ahead of the control plane's; offline grace is shortened by as much",
			"ahead", ahead.Round(time.Second).String())
	case -ahead > m.maxBehind():
		m.log.Warn("licensekit: the local clock is far behind the control plane's; no offline grace until it is corrected",
			"behind", (-ahead).Round(time.Second).String())
	}
	m.unreachable = false
	m.lastErr = nil
	m.definitive = nil
	m.lastContact = now
	gl := toGraceLease(token, l)
	gl.ReceivedAt = now // the window runs on the local clock from here
	m.st.Lease = gl
	if l.IssuedAt.After(m.newestLease) {
		m.newestLease = l.IssuedAt
	}
	// A signed answer replaces every earlier verdict: revoked only if it
	// says so, suspension as the lease says, and the clock is vouched for
	// — restart the high-water mark from the local clock.
	m.st.Revoked = l.Status == LeaseRevoked
	m.st.Suspended = false
	m.st.ClockTampered = false
	m.st.HighWater = now
	m.st.Charged = 0
	m.st.ActivationKey = ""
	m.save()
}

// newestIssued is the order a lease must beat to count: the latest of the
// stored lease's iat, the newest iat this process has held, and the floor
// that refusals raise. All of it is signed server time or capped by it, and
// all of it is persisted (the stored lease, and the floor, which a refusal
// raises to the newest lease held). m.mu must be held.
func (m *Manager) newestIssued() time.Time {
	newest := later(m.st.Floor, m.newestLease)
	if l := m.st.Lease; l != nil {
		newest = later(newest, l.IssuedAt)
	}
	return newest
}

// refused applies a definitive answer: it acts at once and, where the
// answer must survive a restart, is written to the state file. m.mu must
// be held.
func (m *Manager) refused(err error) {
	now := m.now()
	m.unreachable = false
	m.lastErr = nil
	m.lastContact = now
	m.raiseFloor(err, now)
	switch {
	case errors.Is(err, heartbeat.ErrRevoked):
		m.st.Revoked = true
	case errors.Is(err, heartbeat.ErrSuspended):
		m.st.Suspended = true
	case errors.Is(err, heartbeat.ErrBoundElsewhere):
		m.st.Lease = nil
		m.definitive = fail(ErrFingerprint, "the control plane bound licence "+m.lic.ID+" to another machine")
	case errors.Is(err, heartbeat.ErrUnknownLicense):
		m.st.Lease = nil
		m.definitive = fail(ErrNotActivated, "the control plane does not know licence "+m.lic.ID)
	}
	m.ensureActivationKey()
	m.save()
}

// raiseFloor records that every lease this process has held, and any
// issued up to the refusal's Date, predates the refusal err: so a lease
// that another instance of the product receives late cannot undo it (see
// grace.State.Floor). The Date is unsigned and only ever makes a refusal
// harder to clear; it is capped at what signed leases say of real time
// (the local clock only when there has been no lease) plus the clock
// tolerance, so neither a server clock nor a local clock far ahead can
// shut out the answers that follow. m.mu must be held.
func (m *Manager) raiseFloor(err error, now time.Time) {
	floor := later(m.st.Floor, m.newestLease)
	if l := m.st.Lease; l != nil {
		floor = later(floor, l.IssuedAt)
	}
	var he *heartbeat.Error
	if errors.As(err, &he) && !he.Date.IsZero() {
		bound := m.signedTimeFloor(now)
		if bound.IsZero() {
			bound = now
		}
		limit := bound.Add(m.tolerance())
		date := he.Date
		if date.After(limit) {
			date = limit
		}
		floor = later(floor, date.Truncate(time.Second))
	}
	m.st.Floor = floor
}
