package controlplane

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the control plane: an http.Handler serving the admin and
// device API over a [Store]. Build it with [New]; Close it when done.
type Server struct {
	store    Store
	issuer   string
	now      func() time.Time
	log      *slog.Logger
	keys     *keys
	observer Observer

	graceFlag, intervalFlag time.Duration

	mux     *http.ServeMux
	routes  []route
	openapi map[string]any
	console *consoleUI // the admin console under /licensing/

	signingMu sync.Mutex
	signing   atomic.Pointer[signingState]
	settingMu sync.Mutex
	settings  atomic.Pointer[settingsSnap]

	beats  *beatBuffer
	cache  *licenseCache  // nil when Config.LicenseCacheTTL is zero
	locks  [64]sync.Mutex // per-licence device locks, striped
	seed   maphash.Seed
	device *limiters
	admin  *limiters
	// authFail is spent by failed authentications, per client address.
	authFail *limiters

	adminHash []byte // keyed hash of Config.AdminKey; nil when not set

	started time.Time // the second New ran in; see leasePrev

	bootMu     sync.Mutex
	bootSecret Secret

	closed    atomic.Bool
	closeOnce sync.Once
}

// bootstrapKeyID names the bootstrap super_admin key.
const bootstrapKeyID = "key_bootstrap"

// New checks the configuration, makes sure the store holds a signing key
// (creating and activating an EdDSA key on first start) and the bootstrap
// admin key, and returns a Server ready to serve. It starts one goroutine
// that writes heartbeat bookkeeping behind; Close stops it. With a negative
// Config.FlushInterval it starts none.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if !visibleASCII(cfg.Issuer, 256) {
		return nil, fmt.Errorf("%w: Issuer must be 1 to 256 visible ASCII characters", ErrConfig)
	}
	if cfg.Grace < 0 || cfg.HeartbeatInterval < 0 || cfg.LicenseCacheTTL < 0 {
		return nil, fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if cfg.Grace != 0 && (cfg.Grace < minGrace || cfg.Grace > maxGrace) {
		return nil, fmt.Errorf("%w: Grace must be from %s to %s", ErrConfig, formatDuration(minGrace), formatDuration(maxGrace))
	}
	if cfg.HeartbeatInterval != 0 && (cfg.HeartbeatInterval < minInterval || cfg.HeartbeatInterval > maxInterval) {
		return nil, fmt.Errorf("%w: HeartbeatInterval must be from %s to %s", ErrConfig, formatDuration(minInterval), formatDuration(maxInterval))
	}
	if cfg.AdminKey != "" && !visibleASCII(string(cfg.AdminKey), maxSecretLen) || cfg.AdminKey != "" && len(cfg.AdminKey) < 16 {
		return nil, fmt.Errorf("%w: AdminKey must be 16 to %d visible ASCII characters", ErrConfig, maxSecretLen)
	}
	secret := cfg.SecretKey
	if secret == nil {
		secret = make([]byte, secretKeySize)
		_, _ = rand.Read(secret)
	}
	k, err := deriveKeys(secret)
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:        cfg.Store,
		issuer:       cfg.Issuer,
		now:          cfg.Clock,
		log:          cfg.Logger,
		keys:         k,
		observer:     cfg.Observer,
		graceFlag:    cfg.Grace,
		intervalFlag: cfg.HeartbeatInterval,
		seed:         maphash.MakeSeed(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now().UTC().Truncate(time.Second)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.cache = newLicenseCache(cfg.LicenseCacheTTL)
	s.device = newLimiters(cfg.DeviceRateLimit, DefaultDeviceRateLimit)
	s.admin = newLimiters(cfg.AdminRateLimit, DefaultAdminRateLimit)
	s.authFail = newLimiters(cfg.AuthFailureLimit, DefaultAuthFailureLimit)
	if cfg.AdminKey != "" {
		s.adminHash = k.hashSecret(cfg.AdminKey)
	}
	if err := s.ensureSigningKey(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureBootstrapKey(ctx); err != nil {
		return nil, err
	}
	if _, err := s.loadSettings(ctx, true); err != nil {
		return nil, err
	}
	s.routes = routeTable()
	s.openapi = openAPIDocument(s.routes)
	s.console = newConsole(s)
	s.mux = http.NewServeMux()
	for i := range s.routes {
		rt := &s.routes[i]
		s.mux.Handle(rt.pattern(), s.wrap(rt))
	}
	flush := cfg.FlushInterval
	if flush == 0 {
		flush = DefaultFlushInterval
	}
	s.beats = newBeatBuffer(s.store, flush, s.log, s.now)
	return s, nil
}

// BootstrapSecret returns the secret of the bootstrap super_admin key that
// New generated, once: later calls, and every call when Config.AdminKey
// was set or the key existed already, return "". The caller shows it to
// the operator and keeps it nowhere else.
func (s *Server) BootstrapSecret() Secret {
	s.bootMu.Lock()
	defer s.bootMu.Unlock()
	sec := s.bootSecret
	s.bootSecret = ""
	return sec
}

// Close writes the heartbeat bookkeeping still held in memory to the store
// and stops the goroutine that writes it. Requests after Close are
// answered 503. It does not close the Store.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		err = s.beats.close()
	})
	return err
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.closed.Load() {
		s.writeError(w, r, newError(http.StatusServiceUnavailable, CodeUnavailable, "Server closed"))
		return
	}
	if isConsolePath(r.URL.Path) {
		s.console.ServeHTTP(w, r)
		return
	}
	if !cleanPath(r.URL.Path) {
		start := s.now()
		s.writeError(w, r, notFound("Route"))
		s.observe("unmatched", http.StatusNotFound, start)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		start := s.now()
		status := s.unmatched(w, r)
		s.observe("unmatched", status, start)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unmatched answers a request no route takes: 405 when the path exists
// with another method, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) int {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, newError(http.StatusMethodNotAllowed, CodeMethod, "Method not allowed"))
		return http.StatusMethodNotAllowed
	}
	s.writeError(w, r, notFound("Route"))
	return http.StatusNotFound
}

// cleanPath refuses paths that ServeMux would redirect: empty segments,
// "." and "..". Nothing we serve has them.
func cleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	if p == "/" {
		return true
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func (s *Server) observe(route string, status int, start time.Time) {
	if s.observer != nil {
		s.observer.ObserveRequest(route, status, s.now().Sub(start))
	}
}

// lockLicense serialises device calls and binding changes of one licence
// inside this process; across processes the store decides.
func (s *Server) lockLicense(id string) func() {
	m := &s.locks[maphash.String(s.seed, id)%uint64(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// retry runs an update again when the store reports a lost race.
func retry(f func() error) error {
	var err error
	for range 4 {
		if err = f(); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return err
}

const errorLevel = slog.LevelError

// logAttrs describes a request for a log line: method, route, status,
// request id and the cause. Never the body, the query or a header value.
func logAttrs(r *http.Request, status int, cause error) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", clip(r.URL.Path, 200)),
		slog.Int("status", status),
		slog.String("request_id", requestID(r)),
	}
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	return attrs
}
