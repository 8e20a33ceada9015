package serverapp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// Timeouts of the API's http.Server. Device and admin bodies are small
// (64 KiB, 1 MiB), so a client that needs longer is stuck or hostile.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// App is the running control plane: the store, the [controlplane.Server]
// and its listeners. Make one with [New], then [App.Run] it; Close it
// instead if it is not run.
type App struct {
	opts  Options
	log   *slog.Logger
	store controlplane.Store
	cp    *controlplane.Server
	boot  controlplane.Secret

	srv, msrv *http.Server
	ln, mln   net.Listener
	tls       bool

	closeOnce sync.Once
	closeErr  error
}

// New binds the listeners, opens the secret key file and the database
// (creating them on first start) and builds the control plane. Nothing is
// served until [App.Run].
func New(ctx context.Context, o Options) (*App, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	a := &App{opts: o, log: o.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	var cert tls.Certificate
	if o.TLSCert != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(o.TLSCert, o.TLSKey); err != nil {
			return nil, fmt.Errorf("%w: --tls-cert/--tls-key: %v", ErrUsage, err)
		}
		a.tls = true
	}
	var m *metrics
	var observer controlplane.Observer
	if o.MetricsAddr != "" {
		m = newMetrics()
		observer = m
	}
	// Listeners first: a port in use then leaves no file made.
	if err := a.listen(cert, m); err != nil {
		return nil, err
	}
	err := a.open(ctx, observer)
	if err != nil {
		a.closeListeners()
		return nil, err
	}
	a.srv.Handler = a.cp
	return a, nil
}

// open loads the secret key, opens the store and builds the control plane.
func (a *App) open(ctx context.Context, observer controlplane.Observer) error {
	o := a.opts
	var secret []byte
	var err error
	if IsPostgres(o.DB) {
		if a.store, err = openStore(ctx, o.DB); err != nil {
			return err
		}
		if secret, err = loadSharedSecretKey(ctx, a.store, o.SecretKeyFile); err != nil {
			a.store.Close()
			return err
		}
	} else {
		if secret, err = loadSecretKey(o.DB, o.SecretKeyFile); err != nil {
			return err
		}
		if a.store, err = openStore(ctx, o.DB); err != nil {
			return err
		}
	}
	a.cp, err = controlplane.New(ctx, controlplane.Config{
		Store: a.store, Issuer: o.Issuer, SecretKey: secret, AdminKey: o.AdminKey,
		Grace: o.Grace, HeartbeatInterval: o.HeartbeatInterval,
		Logger: a.log, Observer: observer, FlushInterval: o.FlushInterval, LicenseCacheTTL: o.LicenseCache,
		DeviceRateLimit: o.DeviceRateLimit, AdminRateLimit: o.AdminRateLimit,
	})
	if err != nil {
		a.store.Close()
		switch {
		case errors.Is(err, controlplane.ErrConfig):
			return fmt.Errorf("%w: %v", ErrUsage, err)
		case errors.Is(err, controlplane.ErrSecretKey):
			return fmt.Errorf("serverapp: the secret key file %s does not open the signing keys in %s "+
				"(restore the key file that was backed up with this database; every server of one database uses the same file): %w",
				o.SecretKeyFile, redactedDB(o.DB), err)
		}
		return fmt.Errorf("serverapp: starting the control plane: %w", err)
	}
	a.boot = a.cp.BootstrapSecret()
	return nil
}

// loadSecretKey reads the secret key file, or creates it on first start.
// A database that exists without its key file is refused rather than
// given a new key, which could not open its signing keys.
func loadSecretKey(db, path string) ([]byte, error) {
	_, errKey := os.Stat(path)
	if fi, err := os.Stat(db); err == nil && fi.Size() > 0 && errors.Is(errKey, fs.ErrNotExist) {
		return nil, fmt.Errorf("serverapp: the database %s exists but its secret key file %s does not; "+
			"restore the key file (or pass --secret-key-file); a new key could not open the stored signing keys: %w",
			db, path, controlplane.ErrSecretKey)
	}
	key, err := controlplane.LoadOrCreateSecretKey(path)
	if err != nil {
		return nil, fmt.Errorf("serverapp: --secret-key-file: %w", err)
	}
	return key, nil
}

func (a *App) listen(cert tls.Certificate, m *metrics) error {
	errLog := slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	a.srv = &http.Server{
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
	}
	if a.tls {
		a.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	var err error
	if a.ln, err = net.Listen("tcp", a.opts.Addr); err != nil {
		return fmt.Errorf("serverapp: --addr: %w", err)
	}
	if m == nil {
		return nil
	}
	a.msrv = &http.Server{
		Handler:           m.handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          errLog,
	}
	if a.mln, err = net.Listen("tcp", a.opts.MetricsAddr); err != nil {
		a.closeListeners()
		return fmt.Errorf("serverapp: --metrics-addr: %w", err)
	}
	return nil
}

func (a *App) closeListeners() {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.mln != nil {
		a.mln.Close()
	}
}

// BootstrapSecret is the secret of the bootstrap admin key when this start
// generated it, else "". [Main] prints it once.
func (a *App) BootstrapSecret() controlplane.Secret { return a.boot }

// URL is the API's base URL, e.g. "http://127.0.0.1:8000"; an unspecified
// host (":8000") shows as localhost.
func (a *App) URL() string {
	scheme := "http"
	if a.tls {
		scheme = "https"
	}
	return scheme + "://" + hostPort(a.ln.Addr())
}

// MetricsURL is the URL of /metrics, or "" when metrics are off.
func (a *App) MetricsURL() string {
	if a.mln == nil {
		return ""
	}
	return "http://" + hostPort(a.mln.Addr()) + "/metrics"
}

func hostPort(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
