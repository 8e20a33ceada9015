package productapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensehttp"
)

// ShutdownTimeout bounds the wait for requests in flight at shutdown.
const ShutdownTimeout = 10 * time.Second

// App is the running product: its licence manager and its HTTP server.
// Make one with [New], then [App.Run] it.
type App struct {
	log *slog.Logger
	m   *license.Manager
	ln  net.Listener
	srv *http.Server
}

// New loads the keys (the file of --keys, else embedded), opens the
// licence manager and binds the listener. embedded is the command's
// //go:embed keys.jwks.json.
func New(ctx context.Context, o Options, embedded []byte, log *slog.Logger) (*App, error) {
	keys, err := loadKeys(o.KeysFile, embedded)
	if err != nil {
		return nil, err
	}
	a := &App{log: log}
	cfg := config(o, keys, log)
	cfg.OnChange = func(st license.Status) {
		attrs := []any{slog.String("state", st.State.String())}
		if st.License != nil {
			attrs = append(attrs, slog.String("license", st.License.ID))
		}
		if st.Err != nil {
			attrs = append(attrs, slog.String("reason", license.Code(st.Err)), slog.String("error", st.Err.Error()))
		}
		log.Info("licence state changed", attrs...)
	}
	m, err := license.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	a.m = m
	if a.ln, err = net.Listen("tcp", o.Addr); err != nil {
		m.Close()
		return nil, fmt.Errorf("productapp: listening on %s: %w", o.Addr, err)
	}
	a.srv = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// config is the licence manager's configuration for o.
func config(o Options, keys *license.Keyring, log *slog.Logger) license.Config {
	return license.Config{
		Keys:            keys,
		KeyFile:         o.KeyFile,
		AppID:           o.AppID,
		ServerURL:       o.ControlPlane,
		StateDir:        o.StateDir,
		OfflineResponse: o.OfflineResponse,
		Logger:          log,
	}
}

// WriteOfflineRequest writes this machine's offline activation request
// for the licence of o's key file to o.OfflineRequest (mode 0600). It
// listens on nothing.
func WriteOfflineRequest(ctx context.Context, o Options, embedded []byte, log *slog.Logger) error {
	keys, err := loadKeys(o.KeysFile, embedded)
	if err != nil {
		return err
	}
	m, err := license.Open(ctx, config(o, keys, log))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	defer m.Close()
	req, err := m.OfflineRequest()
	if err != nil {
		return fmt.Errorf("productapp: writing the offline request: %w", err)
	}
	if err := os.WriteFile(o.OfflineRequest, req, 0o600); err != nil {
		return fmt.Errorf("productapp: writing the offline request: %w", err)
	}
	log.Info("offline activation request written; have the vendor turn it into a response",
		slog.String("file", o.OfflineRequest), slog.String("license", m.Status().License.ID))
	return nil
}

func loadKeys(path string, embedded []byte) (*license.Keyring, error) {
	data, from := embedded, "the embedded keys.jwks.json"
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("%w: --keys: %v", ErrUsage, err)
		}
		from = path
	}
	keys, err := license.ParseKeyring(data)
	if err != nil || keys.Len() == 0 {
		if path == "" {
			return nil, fmt.Errorf("%w: %s holds no usable key: it is a placeholder; put your control plane's public keys there "+
				"(GET /.well-known/jwks.json) and rebuild, or pass --keys FILE", ErrUsage, from)
		}
		return nil, fmt.Errorf("%w: --keys %s: %v", ErrUsage, path, err)
	}
	return keys, nil
}

// routes is the product's API: the licence API and one gated endpoint.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	api := licensehttp.NewHandler(a.m)
	mux.Handle("/v1/license", api)
	mux.Handle("/v1/license/", api)
	mux.Handle("GET /v1/reports", licensehttp.Require(a.m, "reports:read")(http.HandlerFunc(reports)))
	return mux
}

// reports is the product's own feature, here a stand-in.
func reports(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"reports":[{"name":"monthly","rows":42}]}` + "\n"))
}

// URL is where the product listens, e.g. http://127.0.0.1:8080.
func (a *App) URL() string { return "http://" + a.ln.Addr().String() }

// Manager is the product's licence manager.
func (a *App) Manager() *license.Manager { return a.m }

// Run serves until ctx is done, then stops accepting connections, waits
// for the requests in flight (up to ShutdownTimeout) and closes the
// licence manager. It returns nil after a shutdown asked by ctx.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()
	st := a.m.Status()
	if reachableFromNetwork(a.ln.Addr()) {
		a.log.Warn("the licence API under /v1/license has no authentication and this address is reachable from other machines: "+
			"anyone who can reach it can deactivate the licence; listen on 127.0.0.1 (--addr 127.0.0.1:8080) "+
			"or put the product behind its own authentication", slog.String("addr", a.ln.Addr().String()))
	}
	a.log.Info("product listening", slog.String("url", a.URL()), slog.String("state", st.State.String()),
		slog.Bool("online", st.Online), slog.String("machine", a.m.Fingerprint()))
	var runErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case runErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := a.srv.Shutdown(sctx); err != nil {
		_ = a.srv.Close()
	}
	if runErr == nil {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			runErr = err
		}
	}
	if err := a.m.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		a.log.Info("stopped")
	}
	return runErr
}

// Close releases what New opened, for an App that is not run.
func (a *App) Close() error {
	_ = a.ln.Close()
	return a.m.Close()
}

// reachableFromNetwork reports whether a listener's address accepts
// connections from other machines: any address but a loopback one.
func reachableFromNetwork(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return !ok || !tcp.IP.IsLoopback()
}
