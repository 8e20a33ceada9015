// Package productapp is the sample product of examples/product as a
// program: a small HTTP service licensed with package license. It embeds
// (in the command) the vendor's public keys, loads the customer's key
// file or takes a key through its licence API, runs online against a
// control plane or offline without one, serves the licence API of package
// licensehttp under /v1/license and one capability-gated endpoint,
// GET /v1/reports (it needs reports:read), logs every state transition
// with log/slog, and shuts down gracefully. The command's main is a few
// lines over [Main]; tests run the program here on a loopback port.
//
// # Flags
//
//	--addr           host:port to listen on (default 127.0.0.1:8080: loopback only)
//	--key-file       the customer's downloaded key file (optional: a key can be activated through the API)
//	--keys           a JWKS or PEM file of the vendor's public keys, instead of the embedded ones (for the demo)
//	--control-plane  the control plane's URL; absent means offline mode
//	--state-dir      where the licence state lives (default: see license.DefaultStateDir)
//	--app-id         the product's id, which keys the fingerprint and the state (default "licensekit-product")
//	--offline-request FILE   write an offline activation request for this machine to FILE and exit 0
//	--offline-response FILE  import an offline activation response at start (kept across restarts);
//	                         the product is then inactive until one is imported, active until its lease ends
//
// An air-gapped machine: run once with --offline-request req.json, have the
// vendor answer it (licensectl licenses activate-offline), then start with
// --offline-response resp.json.
//
// The environment variables of package license apply: LICENSEKIT_MACHINE_ID
// pins the machine identity (containers), LICENSEKIT_GRACE shortens the
// offline grace window.
//
// The licence API has no authentication of its own: whoever reaches it
// can activate or deactivate the licence. The default address listens on
// every interface, so the product warns at start-up when its address is
// reachable from other machines; listen on 127.0.0.1 unless the product
// sits behind its own authentication.
package productapp
