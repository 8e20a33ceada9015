package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

// issuer is the iss claim the control plane signs and the product requires.
const issuer = "acme"

// controlPlane is the reference control plane running in this process:
// controlplane.Server over a SQLite file, served on a loopback port.
type controlPlane struct {
	URL      string
	adminKey controlplane.Secret // the bootstrap super_admin key's secret

	store *sqlite.Store
	cp    *controlplane.Server
	srv   *http.Server
	done  chan error // Serve's result
}

// startControlPlane opens a SQLite database in dir and serves the control
// plane on 127.0.0.1 at a port the system picks, as examples/server does
// on a real host.
func startControlPlane(ctx context.Context, dir string) (*controlPlane, error) {
	// The server's 32-byte secret seals its private signing keys in the
	// database and keys the hash of API-key secrets. examples/server keeps
	// it in a file next to the database; this walk needs it only once.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	adminKey := make([]byte, 24)
	if _, err := rand.Read(adminKey); err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "licensekit.db"))
	if err != nil {
		return nil, err
	}
	cp, err := controlplane.New(ctx, controlplane.Config{
		Store:     store,
		Issuer:    issuer,
		SecretKey: secret,
		AdminKey:  controlplane.Secret(hex.EncodeToString(adminKey)),
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cp.Close()
		store.Close()
		return nil, err
	}
	c := &controlPlane{
		URL:      "http://" + ln.Addr().String(),
		adminKey: controlplane.Secret(hex.EncodeToString(adminKey)),
		store:    store,
		cp:       cp,
		srv:      &http.Server{Handler: cp, ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan error, 1),
	}
	go func() { c.done <- c.srv.Serve(ln) }()
	return c, nil
}

// close shuts the control plane down in order: the HTTP server drains,
// the control plane writes the heartbeat bookkeeping it holds, the
// database closes.
func (c *controlPlane) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{c.srv.Shutdown(ctx)}
	if err := <-c.done; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	errs = append(errs, c.cp.Close(), c.store.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stopping the control plane: %w", err)
	}
	return nil
}
