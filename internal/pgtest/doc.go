// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by LICENSEKIT_TEST_POSTGRES, and a private server they may
// stop and start.
//
// Without LICENSEKIT_TEST_POSTGRES a test that asks for one is skipped
// with a message saying how to start a server (`eval "$(bash
// .ci/postgres)"` in the repository's root); with
// LICENSEKIT_REQUIRE_POSTGRES=1, as in CI, it fails instead. Databases are
// created under random names and dropped at the test's cleanup, so tests
// of several packages may share one server.
package pgtest
