// Command server is licensekit's reference control plane over a SQLite
// file, or over a PostgreSQL database that several servers share: the
// vendor's server that issues licences and answers the devices'
// activations and heartbeats.
//
//	go run ./examples/server                       # :8000, ./licensekit.db
//	go run ./examples/server --addr 127.0.0.1:8000 --db /var/lib/licensekit/licensekit.db \
//	    --issuer acme --metrics-addr 127.0.0.1:9090
//	go run ./examples/server --db postgres://licensekit@db.internal/licensekit \
//	    --secret-key-file /etc/licensekit/licensekit.secret --issuer acme
//
// Run it with -h for every flag; docs/deploy.md tells how to deploy, back
// up and restore it. The program is package internal/serverapp; this is
// its entry point.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/licensekit/licensekit/internal/serverapp"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serverapp.Main(ctx, os.Args[1:], os.Getenv, os.Stderr)
}
