// Package cmd is licensectl, the admin command line of the control plane,
// as a library: [Run] takes the arguments and an [Env] (standard streams,
// environment, whether a person is typing) and returns the exit code, so that
// the binary's main is three lines and tests can drive the same code.
//
// # What it talks to
//
// Every command but verify and completion is one or a few calls to the
// control plane's HTTP API, at --url (or LICENSECTL_URL, default
// http://localhost:8000) with the API key of --api-key (or
// LICENSECTL_API_KEY) as a bearer token. verify reads a key file or a token
// and a JWKS or PEM file and checks them with package license, offline.
//
// # Output
//
// Data goes to standard output, messages to standard error. -o table (the
// default) prints aligned columns, with API-key secrets masked and licence
// tokens cut; the one exception is the secret of a key just created, shown
// once in full because it cannot be read again. -o json prints the
// control plane's answer, wrapped in the member that names it ({"license":
// …}, {"licenses": […]}, {"key": …}), so that jq can pick from it.
//
// # Exit codes
//
// 0 success; 1 a generic failure, a connection that failed or timed out;
// 2 authentication or authorisation (HTTP 401, 403); 3 not found (404);
// 4 validation: a bad flag or argument, HTTP 400, 409, 413 or 415, and a
// licence token that validate or verify finds invalid; 5 the server failed
// (5xx) or answered something that is not the API's JSON.
//
// # Secrets
//
// The API key is sent only in the Authorization header: no message, error or
// table carries it, and licensectl writes no configuration or cache file. A
// new API key's secret is printed once, to standard output, and kept nowhere.
package cmd
