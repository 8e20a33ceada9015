// Package serverapp is the reference control plane as a program: the
// flags and environment of examples/server, the store (a SQLite file, or
// PostgreSQL for several servers on one database), the server's secret
// key file, TLS, Prometheus metrics on a listener of their own,
// structured logs and a graceful shutdown. The command's main is a few
// lines over [Main]; everything it does is here, where tests run it on a
// loopback port.
//
// # Start-up
//
// [Parse] reads the flags and LICENSEKIT_ADMIN_KEY into [Options] and
// refuses what cannot work (an unknown flag, a bad duration, a TLS
// certificate without its key, a postgres:// URL that does not parse).
// [New] binds the listeners, opens the database, loads the secret key
// file or creates it with mode 0600 (beside a SQLite database by
// default) and builds the [controlplane.Server]. [App.Run] serves until
// its context is done.
//
// # Several servers on one PostgreSQL database
//
// With --db postgres://… every state lives in the database and several
// servers may answer behind a load balancer. Each one must be given the
// same --secret-key-file (there is no database file to sit beside, so the
// flag is required): a server whose key file is missing refuses to start
// when the database holds signing keys already, rather than make a key
// that could not open them. What a server keeps in memory outlives a
// change made through another one by a bounded time: the licence cache
// is off by default on PostgreSQL and at most [MaxSharedLicenseCache];
// the signing keys and the settings are reread every five seconds.
//
// # The bootstrap key
//
// On the first start without LICENSEKIT_ADMIN_KEY the control plane makes a
// super_admin API key; [Main] prints its secret once to stderr, inside a
// banner, and never logs it. With LICENSEKIT_ADMIN_KEY set that value is
// the bootstrap key's secret and nothing is printed.
//
// # Shutdown
//
// When the context of [App.Run] is done (SIGINT or SIGTERM in the command)
// the HTTP server stops accepting connections and waits for the requests in
// flight, up to [Options.ShutdownTimeout]; then the control plane writes the
// heartbeat bookkeeping it holds in memory, and the store is closed.
//
// This package is a program's, not a library's: it logs, and imports the
// SQLite and PostgreSQL drivers and the Prometheus client, which the
// library packages never do.
package serverapp
