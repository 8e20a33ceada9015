// Command product is a sample product licensed with licensekit: an HTTP
// service that serves its licence API under /v1/license and one endpoint,
// GET /v1/reports, that needs the capability reports:read.
//
//	go run ./examples/product --keys jwks.json --key-file license.json     # offline
//	go run ./examples/product --keys jwks.json --control-plane http://localhost:8000
//	go run ./examples/product --keys jwks.json --key-file license.json --offline-request req.json   # air-gapped
//	go run ./examples/product --keys jwks.json --key-file license.json --offline-response resp.json
//
// keys.jwks.json, embedded into the binary, is a placeholder: a vendor
// puts its control plane's public keys there (GET /.well-known/jwks.json)
// and rebuilds, so the product trusts nothing else; --keys overrides it for
// the demo. Run it with -h for every flag. The program is package
// internal/productapp; this is its entry point.
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"

	"github.com/licensekit/licensekit/internal/productapp"
)

//go:embed keys.jwks.json
var embeddedKeys []byte

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return productapp.Main(ctx, os.Args[1:], embeddedKeys, os.Stderr)
}
