// Package licensehttp serves a product's own licence API over HTTP, on top
// of a [license.Manager]: the calls a product's operators (or its UI) use to
// install, inspect, check and remove the licence key on this machine, and a
// middleware that gates the product's own handlers on a capability.
//
//	m, err := license.Open(ctx, cfg)
//	mux := http.NewServeMux()
//	api := licensehttp.NewHandler(m)
//	mux.Handle("/v1/license", api)
//	mux.Handle("/v1/license/", api)
//	mux.Handle("GET /v1/reports", licensehttp.Require(m, "reports:read")(reports))
//
// # The calls
//
//	POST /v1/license/activate    {"license_key": "eyJ…"}  200 {"license_key", "license"}; 400 invalid key; 409 already activated
//	GET  /v1/license                                      200 {"license": {…}}; 404 {"code":"not_found","message":"No active license found"}
//	POST /v1/license/deactivate  {} or no body            200 {"success": true}; 404 nothing to remove; 503 control plane unreachable
//	POST /v1/license/validate    {"license_key": "eyJ…"}  200 {"valid", "message", "license"}
//
// The licence object has id (the jti claim), status, issued_to (sub),
// issuer (iss), issued_at, expires_at, capabilities and metadata, and adds
// machine (this machine's fingerprint, to quote to the vendor), and when
// they apply grace_deadline (the last instant the current lease allows use
// offline) and reason (the machine code of why use is not allowed, such
// as "REVOKED"). status is the manager's state: active, grace, inactive,
// suspended, locked or expired. GET answers 404 whenever no licence is in
// use: none installed, deactivated, or a key that does not verify (an
// expired key file among them; validate says why).
//
// Errors are {"code": "…", "message": "…"} with a lowercase code
// (bad_request, invalid_license_key, already_activated, not_found,
// method_not_allowed, too_large, unsupported_media_type, unavailable,
// internal), plus reason where a licence error explains them. Other
// methods get 405 with an Allow header, bodies over 64 KiB 413, a body
// that is not exactly the documented JSON object (bad JSON, unknown or
// duplicate members, members of the wrong type) 400, and a POST without
// Content-Type application/json 415.
//
// # What it trusts
//
// Nothing it receives grants anything: a key is installed only through
// [license.Manager.Activate], which verifies it exactly as a key file is
// verified, and an activation never clears what the manager recorded of a
// licence (revoked, clock set back). The handler has no authentication of
// its own: anyone who can reach it can install or remove the licence key,
// so serve it on an address only the product's operators reach, or wrap
// it in the product's own authentication. Cross-origin browser requests
// that change something are refused ([http.CrossOriginProtection]), and
// POSTs must be JSON, so a web page cannot deactivate the licence of a
// product listening on localhost. Answers carry Cache-Control: no-store.
// Licence keys are never logged; the activate call echoes the caller's
// own key back to it, as the contract asks.
package licensehttp
