package serverapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Run serves until ctx is done or a listener fails, then shuts down: the
// API stops accepting connections and drains the requests in flight (up
// to ShutdownTimeout, after which they are cut), the control plane writes
// the heartbeat bookkeeping it holds, the metrics listener stops and the
// store is closed. It returns nil after a shutdown asked by ctx.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	n := 1
	go func() {
		var err error
		if a.tls {
			err = a.srv.ServeTLS(a.ln, "", "")
		} else {
			err = a.srv.Serve(a.ln)
		}
		errc <- fmt.Errorf("serverapp: serving the API: %w", err)
	}()
	if a.msrv != nil {
		n++
		go func() { errc <- fmt.Errorf("serverapp: serving metrics: %w", a.msrv.Serve(a.mln)) }()
	}
	attrs := []any{slog.String("url", a.URL()), slog.String("db", redactedDB(a.opts.DB)), slog.String("issuer", a.opts.Issuer)}
	if u := a.MetricsURL(); u != "" {
		attrs = append(attrs, slog.String("metrics", u))
	}
	a.log.Info("licensekit control plane listening", attrs...)

	var runErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down: draining requests in flight", slog.Duration("timeout", a.shutdownTimeout()))
	case runErr = <-errc:
		n--
		a.log.Error("shutting down after a listener failed", slog.String("error", runErr.Error()))
	}
	err := a.shutdown()
	for range n {
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && runErr == nil {
			runErr = e
		}
	}
	if runErr == nil {
		runErr = err
	}
	if runErr == nil {
		a.log.Info("stopped")
	}
	return runErr
}

func (a *App) shutdownTimeout() time.Duration {
	if a.opts.ShutdownTimeout > 0 {
		return a.opts.ShutdownTimeout
	}
	return DefaultShutdownTimeout
}

// shutdown stops the servers in order and closes the control plane and
// the store; it runs once.
func (a *App) shutdown() error {
	a.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout())
		defer cancel()
		var errs []error
		if err := a.srv.Shutdown(ctx); err != nil {
			a.log.Warn("requests still in flight at the shutdown deadline were cut", slog.String("error", err.Error()))
			_ = a.srv.Close()
		}
		if err := a.cp.Close(); err != nil {
			errs = append(errs, fmt.Errorf("serverapp: writing heartbeat bookkeeping: %w", err))
		}
		if a.msrv != nil {
			if err := a.msrv.Shutdown(ctx); err != nil {
				_ = a.msrv.Close()
			}
		}
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("serverapp: closing the database: %w", err))
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// Close releases what New opened, for an App that is not run. After Run
// it does nothing.
func (a *App) Close() error {
	a.closeListeners()
	return a.shutdown()
}
