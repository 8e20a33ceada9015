package license

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/grace"
	"github.com/licensekit/licensekit/heartbeat"
)

// clockTick is how often the manager re-reads the clock when nothing else
// happens: it moves the high-water mark forward, and bounds how late a
// deadline can be noticed when timers stood still (a suspended VM's
// timers do not run). Deadlines are otherwise met exactly by their timers.
const clockTick = 5 * time.Minute

// hwWriteEvery is how far the high-water mark must move before it is
// written to disk. The watchdog observes the clock every clockTick, so a
// process killed without Close loses at most hwWriteEvery + clockTick of
// the mark, which is what the next start charges (grace.State.Charged).
const hwWriteEvery = clockTick

// Manager ties a key file, this machine's fingerprint, the grace state and
// (online) the heartbeat loop together, and answers [Manager.Status] and
// [Manager.Require] from an atomically published snapshot: no lock, no
// allocation, no I/O. Build it with [Open]; stop it with [Manager.Close].
// It is safe for concurrent use.
type Manager struct {
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	ver     atomic.Pointer[Verifier] // swapped when a keyset statement grows the keyring
	verOpts []Option                 // the options every verifier of this manager is built with
	fp      fingerprint.Fingerprint
	policy  grace.Policy
	client  *heartbeat.Client // nil in offline mode
	dir     string            // the state directory, resolved and created
	keyPath string            // where an activated key is kept
	runCtx  context.Context   // cancelled by Close; parent of the loop's

	snap atomic.Pointer[snapshot]

	// ctl serialises changes of the key in use (Activate, Deactivate,
	// Reload, a key file replaced on disk) and the loop's start and stop.
	// It is taken before mu, never while holding it.
	ctl       sync.Mutex
	isClosed  bool          // Close was called (ctl)
	loopStop  func()        // stops the running loop and waits; nil when none (ctl)
	fileHash  string        // SHA-256 of Config.KeyFile as last read, "" if unread (ctl)
	tombstone string        // SHA-256 of a key file deactivated here, or "" (ctl)
	attempted chan struct{} // closed once the current loop handled its first attempt (mu)

	mu          sync.Mutex   // guards everything below and the publishing of snap
	store       *grace.Store // nil without a valid licence
	loop        *heartbeat.Loop
	src         keySource // where the key in use came from
	kf          *KeyFile
	lic         *License
	licErr      error
	presented   string      // the token the heartbeat loop's last request carried
	st          grace.State // the in-memory copy of the persisted state
	window      grace.Window
	unreachable bool                   // the last contact attempt got no answer
	dirty       bool                   // m.st holds facts the state file lacks (a failed save)
	newestLease time.Time              // IssuedAt of the newest lease this process has held
	definitive  error                  // a standing refusal of the control plane (bound elsewhere, unknown)
	unsaved     map[string]grace.State // per licence id: state of a licence no longer in use that could not be written
	lastErr     error                  // the last transport failure
	lastContact time.Time
	importErr   error       // why Config.OfflineResponse was not imported at Open, or nil
	ks          keysetChain // the keyset statements accepted, and what they taught

	changed  chan struct{} // wakes the notifier; OnChange runs on it alone
	notified State         // the state OnChange last heard of (notifier only)

	wake   chan struct{} // re-arms the watchdog after a change
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// snapshot is what Status and Require read.
type snapshot struct {
	status Status
	err    error // nil when use is allowed
}

// Open loads the key file, verifies it, computes this machine's
// fingerprint, opens the grace state and, when cfg.ServerURL is set, starts
// the heartbeat loop that activates the licence on this machine and keeps
// its lease fresh. ctx bounds Open's own work; the loop runs until
// [Manager.Close].
//
// Open fails, with an error wrapping [ErrConfig] that names the Config
// field to fix, only for an unusable configuration or machine: no keys, no
// AppID, a ServerURL that is not an http(s) URL with a host, no readable
// machine identity (set MachineID), no usable state directory. A
// missing, invalid or expired licence is not an error of Open: the manager
// starts, and Status and Require say why use is not allowed.
func Open(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Keys == nil || cfg.Keys.Len() == 0 {
		return nil, fail(ErrConfig, "Config.Keys is required")
	}
	if cfg.AppID == "" {
		return nil, fail(ErrConfig, "Config.AppID is required")
	}
	if err := checkServerURL(cfg.ServerURL); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, now: cfg.Now, log: cfg.Logger, wake: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	dir, err := prepareStateDir(&cfg)
	if err != nil {
		return nil, err
	}
	m.dir = dir
	m.keyPath = cfg.ActivatedKeyFile
	if m.keyPath == "" {
		m.keyPath = filepath.Join(dir, activatedKeyName(cfg.AppID))
	}
	fpOpts := append([]fingerprint.Option(nil), cfg.fpOptions...)
	if cfg.MachineID != "" {
		fpOpts = append(fpOpts, fingerprint.WithMachineID(cfg.MachineID))
	}
	if cfg.ExactMachineMatch {
		fpOpts = append(fpOpts, fingerprint.WithExactMatch())
	}
	fp, err := fingerprint.Compute(ctx, cfg.AppID, fpOpts...)
	if err != nil {
		return nil, fingerprintError(err)
	}
	m.fp = fp
	m.policy = grace.Policy{Tolerance: cfg.ClockTolerance, MaxGrace: cfg.maxGrace()}
	opts := []Option{WithLeeway(cfg.Leeway), WithClock(m.now), WithFingerprint(fp.Matches)}
	if cfg.Leeway == 0 {
		opts[0] = WithLeeway(DefaultLeeway)
	}
	if cfg.Issuer != "" {
		opts = append(opts, WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, WithAudience(cfg.Audience))
	}
	m.verOpts = opts
	m.ver.Store(NewVerifier(cfg.Keys, opts...))
	m.loadKeysets() // keys learnt from keyset statements, verified again from cfg.Keys
	if m.online() {
		m.client = &heartbeat.Client{BaseURL: cfg.ServerURL, HTTPClient: cfg.HTTPClient}
	}

	m.loadLicense()
	if m.lic != nil {
		store, st, err := m.openStore(m.lic.ID)
		if err != nil {
			return nil, err
		}
		m.setStore(m.lic.ID, store, st)
		m.applyDeliveredKey()
		m.importOfflineFile()
	}
	m.mu.Lock()
	if m.online() && m.lic != nil {
		// Persist the activation's idempotency key before the first send,
		// so that a retry after a crash cannot bind twice.
		m.ensureActivationKey()
	}
	s, _ := m.evaluate()
	m.notified = s.status.State // OnChange hears of transitions from here on
	m.mu.Unlock()

	runCtx, cancel := context.WithCancel(context.Background())
	m.runCtx, m.cancel = runCtx, cancel
	m.wg.Add(1)
	go m.watch(runCtx)
	if cfg.OnChange != nil {
		m.wg.Add(1)
		go m.notifier(runCtx)
	}
	if m.online() && m.lic != nil {
		m.startLoop()
	}
	return m, nil
}

// fingerprintError turns a failure to compute this machine's fingerprint
// into a configuration error that names the Config fields to set.
func fingerprintError(err error) error {
	if errors.Is(err, fingerprint.ErrNoMachineID) {
		cause := err
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range u.Unwrap() {
				if e != fingerprint.ErrNoMachineID {
					cause = e
				}
			}
		}
		return failWith(ErrConfig, "this machine has no readable machine id ("+cause.Error()+
			"); set Config.MachineID or the environment variable "+fingerprint.EnvMachineID+
			" to a stable id of the machine or container", err)
	}
	return failWith(ErrConfig, "computing this machine's fingerprint: "+err.Error(), err)
}

func (m *Manager) online() bool { return m.cfg.ServerURL != "" }

// leaseRules reports whether the state follows the lease and its grace
// window: online, or offline with an offline activation required or
// imported. Otherwise (offline mode, no lease) the key alone decides.
// m.mu must be held.
func (m *Manager) leaseRules() bool {
	return m.online() || m.cfg.OfflineActivation || m.cfg.OfflineResponse != "" || m.st.Lease != nil
}

// openStore opens and reads the grace state of licence id. It changes
// nothing in m.
func (m *Manager) openStore(id string) (*grace.Store, grace.State, error) {
	store, err := grace.Open(grace.Options{
		Dir:         m.dir,
		AppID:       m.cfg.AppID,
		LicenseID:   id,
		SealKey:     m.fp.MachineHash(),
		VerifyLease: m.verifyStoredLease,
		Policy:      m.policy,
		WriteEvery:  hwWriteEvery,
	})
	if err != nil {
		return nil, grace.State{}, failWith(ErrConfig, "state directory "+strconv.Quote(m.dir)+
			" (Config.StateDir): "+err.Error(), err)
	}
	st, err := store.Load()
	switch {
	case err == nil, errors.Is(err, grace.ErrNoState):
	case errors.Is(err, grace.ErrLeaseRejected):
		m.log.Warn("licensekit: stored lease rejected; going online for a new one", "err", err)
	default:
		// Unreadable, edited or foreign state counts as "no lease": the
		// product must reach the control plane. It never grants time.
		m.log.Warn("licensekit: grace state unusable; treating as no lease", "err", err)
	}
	return store, st, nil
}

// setStore makes store and its state the state of licence id, forgetting
// what the manager knew of another licence — except what it could not
// write to that licence's state file, which is kept in memory (unsaved)
// and used again if the licence comes back, so that a failed write never
// loses a fact such as a revocation. m.mu must be held, or m not yet
// shared.
func (m *Manager) setStore(id string, store *grace.Store, st grace.State) {
	if m.store != nil && m.lic != nil {
		m.save()
		if err := m.store.Flush(); err != nil {
			m.dirty = true
		}
		if m.dirty {
			if m.unsaved == nil {
				m.unsaved = map[string]grace.State{}
			}
			m.unsaved[m.lic.ID] = m.st
		}
	}
	dirty := false
	if u, ok := m.unsaved[id]; ok && store != nil {
		st, dirty = u, true
		delete(m.unsaved, id)
	}
	m.store = store
	m.st = st
	m.newestLease = time.Time{}
	if st.Lease != nil {
		m.newestLease = st.Lease.IssuedAt
	}
	m.window = grace.Window{}
	m.unreachable, m.dirty = false, dirty
	m.definitive, m.lastErr = nil, nil
	m.lastContact = time.Time{}
}

// verifyStoredLease re-verifies a lease read back from disk.
func (m *Manager) verifyStoredLease(token string) (*grace.Lease, error) {
	l, err := m.verifier().VerifyLease(token)
	if err != nil {
		return nil, err
	}
	return toGraceLease(token, l), nil
}

func toGraceLease(token string, l *Lease) *grace.Lease {
	return &grace.Lease{
		Token: token, ID: l.ID, LicenseID: l.LicenseID, Status: l.Status,
		Fingerprint: l.Fingerprint, IssuedAt: l.IssuedAt, ExpiresAt: l.ExpiresAt,
	}
}

// save persists m.st. On failure the in-memory state stands — it is what
// this process knows to be true — and the save is retried on the
// watchdog's next turn. m.mu must be held.
func (m *Manager) save() {
	if m.store == nil {
		return
	}
	if err := m.store.Save(m.st); err != nil {
		m.dirty = true
		m.log.Warn("licensekit: saving grace state failed; will retry", "err", err)
		return
	}
	m.dirty = false
}

// ensureActivationKey makes sure an activation has a persisted
// idempotency key before it is sent. m.mu must be held.
func (m *Manager) ensureActivationKey() {
	if m.st.Lease == nil && m.st.ActivationKey == "" {
		m.st.ActivationKey = heartbeat.NewIdempotencyKey()
		m.save()
	}
}

// Status returns the current snapshot. It takes no lock, does no I/O and
// does not allocate.
func (m *Manager) Status() Status { return m.snap.Load().status }

// Require returns nil only while the state allows use and the licence
// grants capability. Otherwise it returns an error wrapping the reason's
// sentinel ([ErrGraceExpired], [ErrRevoked], …) or [ErrCapability]. It
// takes no lock, does no I/O and does not allocate.
func (m *Manager) Require(capability string) error {
	s := m.snap.Load()
	if s.err != nil {
		return s.err
	}
	for _, c := range s.status.License.Capabilities {
		if c == capability {
			return nil
		}
	}
	return ErrCapability
}

// Close stops the heartbeat loop and the watchdog, returns when both have
// exited, and writes the clock's high-water mark if it is behind. It is
// safe to call more than once; only the first call can return an error.
// Status and Require keep answering from the last snapshot.
func (m *Manager) Close() error {
	var err error
	m.closed.Do(func() {
		m.cancel() // ends an Activate's wait, and the loop and watchdog
		m.ctl.Lock()
		m.isClosed = true
		m.ctl.Unlock()
		m.wg.Wait()
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.store != nil {
			// Keep the high-water mark observed since the last write.
			err = m.store.Flush()
		}
	})
	return err
}

// verifier is the verifier in use: the configured keys plus those learnt
// from accepted keyset statements.
func (m *Manager) verifier() *Verifier { return m.ver.Load() }
